// agent-cache/mcp from the packed package, with the user's own MCP SDK: a real server and client in memory.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { getMetrics } from 'agent-cache';
import { cacheMcpClient } from 'agent-cache/mcp';
import { z } from 'zod';

const runs = { read: 0, fail: 0, remove: 0 };
const server = new McpServer({ name: 'files', version: '1.0.0' });
server.registerTool(
  'read_file',
  { inputSchema: { path: z.string() }, annotations: { readOnlyHint: true } },
  async ({ path }) => {
    runs.read++;
    return { content: [{ type: 'text', text: `content of ${path}` }] };
  },
);
server.registerTool('broken', { annotations: { readOnlyHint: true } }, async () => {
  runs.fail++;
  return { content: [{ type: 'text', text: 'failed' }], isError: true };
});
server.registerTool('remove', { inputSchema: { path: z.string() } }, async () => {
  runs.remove++;
  return { content: [{ type: 'text', text: 'removed' }] };
});
const client = new Client({ name: 'user-app', version: '1.0.0' });
const [a, b] = InMemoryTransport.createLinkedPair();
await Promise.all([server.connect(a), client.connect(b)]);

const mcp = cacheMcpClient(client, { trustAnnotations: true });
assert.ok(mcp instanceof Client, 'the wrapped client is still an instance of the user’s Client');
const read = () =>
  mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } }, undefined, { onprogress() {} });
assert.equal((await read()).content[0].text, 'content of a.txt');
await read();
assert.equal(runs.read, 1, 'a repeated read reaches the server once');
assert.equal((await mcp.callTool({ name: 'broken' })).isError, true);
await mcp.callTool({ name: 'broken' });
assert.equal(runs.fail, 2, 'isError results are never stored');
await mcp.callTool({ name: 'remove', arguments: { path: 'a.txt' } });
await mcp.callTool({ name: 'remove', arguments: { path: 'a.txt' } });
assert.equal(runs.remove, 2, 'an unannotated tool is a write: it runs every time');
await read();
assert.equal(runs.read, 2, 'and it invalidated the read');
assert.equal(getMetrics().tools['files:read_file'].hits, 1);

// The SDK is the user's copy, not one bundled with agent-cache.
assert.ok(
  !import.meta.resolve('@modelcontextprotocol/sdk/client/index.js').includes('/agent-cache/node_modules/'),
);
await client.close();
await server.close();
