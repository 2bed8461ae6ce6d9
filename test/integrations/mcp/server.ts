/**
 * A real MCP server (the SDK's `McpServer`) and `Client` over the SDK's in-memory transport, with the kinds of
 * tools servers publish: read-only, destructive, failing and unannotated. Each counts its executions.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export interface FileServer {
  readonly client: Client;
  readonly server: McpServer;
  /** Executions per tool name, on the server. */
  readonly runs: Record<string, number>;
  readonly files: Map<string, string>;
  close(): Promise<void>;
}

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

export async function fileServer(name = 'files', files = new Map([['a.txt', 'alpha']])): Promise<FileServer> {
  const server = new McpServer({ name, version: '1.0.0' });
  const runs: Record<string, number> = {};
  const ran = (tool: string) => {
    runs[tool] = (runs[tool] ?? 0) + 1;
  };
  server.registerTool(
    'read_file',
    { description: 'Read a file', inputSchema: { path: z.string() }, annotations: { readOnlyHint: true } },
    async ({ path }) => {
      ran('read_file');
      const content = files.get(path);
      return content === undefined
        ? { ...text(`no such file: ${path}`), isError: true }
        : text(`${name}:${content}`);
    },
  );
  server.registerTool(
    'list_files',
    { description: 'List files', annotations: { readOnlyHint: true } },
    async () => {
      ran('list_files');
      return text([...files.keys()].sort().join(','));
    },
  );
  server.registerTool(
    'delete_file',
    {
      description: 'Delete a file',
      inputSchema: { path: z.string() },
      annotations: { destructiveHint: true, readOnlyHint: false },
    },
    async ({ path }) => {
      ran('delete_file');
      return text(files.delete(path) ? `deleted ${path}` : `no such file: ${path}`);
    },
  );
  server.registerTool(
    'write_file',
    { description: 'Write a file (no annotations)', inputSchema: { path: z.string(), content: z.string() } },
    async ({ path, content }) => {
      ran('write_file');
      files.set(path, content);
      return text(`wrote ${path}`);
    },
  );
  server.registerTool(
    'flaky_search',
    { description: 'Always fails', inputSchema: { q: z.string() }, annotations: { readOnlyHint: true } },
    async () => {
      ran('flaky_search');
      throw new Error('search backend down');
    },
  );
  server.registerTool(
    'slow_count',
    { description: 'Reports progress', inputSchema: { n: z.number() }, annotations: { readOnlyHint: true } },
    async ({ n }, extra) => {
      ran('slow_count');
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: n },
          });
        }
      }
      return text(`counted to ${n}`);
    },
  );
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    server,
    runs,
    files,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** The text of a tool result's first content part. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content;
  return content?.[0]?.text ?? '';
}
