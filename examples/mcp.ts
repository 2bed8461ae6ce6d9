/**
 * `npx tsx examples/mcp.ts`: an MCP client whose tool calls go through agent-cache. The server is a real
 * `McpServer` of the MCP SDK, connected in memory (no network): a small issue tracker with a read-only tool, a
 * tool that changes state, and a tool that fails.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AgentCacheSession, AgentLoopDetectedError, getMetrics } from 'agent-cache';
import { cacheMcpClient } from 'agent-cache/mcp';
import { z } from 'zod';

// ── The server: what a tracker's MCP server publishes ───────────────────────────────────────────────────────
const issues = new Map([
  ['1', { title: 'Login page is slow', state: 'open' }],
  ['2', { title: 'Typo in footer', state: 'open' }],
]);
let serverCalls = 0;
const server = new McpServer({ name: 'tracker', version: '1.0.0' });
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
server.registerTool(
  'get_issue',
  { description: 'Get an issue', inputSchema: { id: z.string() }, annotations: { readOnlyHint: true } },
  async ({ id }) => {
    serverCalls++;
    const issue = issues.get(id);
    return issue
      ? text(`#${id} ${issue.title} (${issue.state})`)
      : { ...text(`no issue #${id}`), isError: true };
  },
);
server.registerTool(
  'close_issue',
  { description: 'Close an issue', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } },
  async ({ id }) => {
    serverCalls++;
    const issue = issues.get(id);
    if (issue) issue.state = 'closed';
    return text(`closed #${id}`);
  },
);

const client = new Client({ name: 'support-agent', version: '1.0.0' });
const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);

// ── The few lines a user writes ─────────────────────────────────────────────────────────────────────────────
const tracker = cacheMcpClient(client, {
  tools: {
    get_issue: { resource: (args) => `issue:${String(args.id)}`, ttl: '5m' },
    close_issue: { invalidates: (args) => `issue:${String(args.id)}` },
  },
});

const show = async (label: string, id: string) => {
  const before = serverCalls;
  const result = (await tracker.callTool({ name: 'get_issue', arguments: { id } })) as CallToolResult;
  const first = result.content[0];
  const body = first?.type === 'text' ? first.text : '';
  console.log(`${label.padEnd(34)} ${body.padEnd(36)} ${serverCalls > before ? 'server' : 'cache'}`);
};

await show('get_issue(1)', '1');
await show('get_issue(2)', '2');
await show('get_issue(1) again', '1');
await tracker.callTool({ name: 'close_issue', arguments: { id: '1' } });
await show('get_issue(1) after close_issue(1)', '1');
await show('get_issue(2): not affected', '2');
await show('get_issue(9): isError, not stored', '9');
await show('get_issue(9) again', '9');

// Inside an agent run: a model stuck on the same call is stopped by loop detection.
const session = new AgentCacheSession({ sessionId: 'run-1', loopDetection: true, maxToolRepeats: 3 });
try {
  await session.run(async () => {
    for (let i = 0; i < 10; i++) await tracker.callTool({ name: 'get_issue', arguments: { id: '2' } });
  });
} catch (error) {
  if (error instanceof AgentLoopDetectedError)
    console.log(`loop stopped: ${error.kind} of ${error.toolName}`);
}

const m = getMetrics().tools['tracker:get_issue']!;
console.log(
  `tracker:get_issue — hits ${m.hits}, misses ${m.misses}, errors ${m.errors}; server calls ${serverCalls}`,
);
await client.close();
await server.close();
