/**
 * `import 'agent-cache'` never loads a framework: the MCP SDK and LangChain are loaded by their own entry points
 * only (which is also what lets a user without them installed use the core).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const recorder = fileURLToPath(new URL('./fixtures/record-loads.mjs', import.meta.url));

/** The module URLs a fresh Node process loads for `code` (run as ESM on the sources, through tsx). */
function loadedBy(code: string): string[] {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', recorder, '--input-type=module', '-e', code],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as string[];
}

const framework = /\/node_modules\/(@modelcontextprotocol|@langchain|ai|@ai-sdk|@openai|zod)\//;

describe('framework peers load only with their entry point', () => {
  it('import "agent-cache" loads no framework', () => {
    const urls = loadedBy(
      "const m = await import('agent-cache'); if (typeof m.AgentCache !== 'function') process.exit(3);",
    );
    expect(urls.some((u) => u.includes('/src/index.ts'))).toBe(true);
    expect(urls.filter((u) => framework.test(u))).toEqual([]);
  });

  it('agent-cache/langchain is what loads @langchain/core; agent-cache/mcp needs nothing of the SDK to load', () => {
    const langchain = loadedBy("await import('agent-cache/langchain');");
    expect(langchain.some((u) => u.includes('/node_modules/@langchain/core/'))).toBe(true);
    const mcp = loadedBy("await import('agent-cache/mcp');");
    expect(mcp.some((u) => u.includes('/src/integrations/mcp/index.ts'))).toBe(true);
    expect(mcp.filter((u) => framework.test(u))).toEqual([]);
  });

  it('agent-cache/ai-sdk and agent-cache/openai-agents load nothing of their framework to load', () => {
    // They work on what the framework hands them (types only); the Agents adapter loads its SDK when a cached tool
    // is first invoked, to learn the SDK's failure text.
    for (const entry of ['ai-sdk', 'openai-agents']) {
      const urls = loadedBy(`await import('agent-cache/${entry}');`);
      expect(urls.some((u) => u.includes(`/src/integrations/${entry}/index.ts`))).toBe(true);
      expect(urls.filter((u) => framework.test(u))).toEqual([]);
    }
  });

  it('the recorder does see a framework that is loaded', () => {
    const urls = loadedBy(
      "await import('agent-cache'); await import('@modelcontextprotocol/sdk/client/index.js');",
    );
    expect(urls.some((u) => u.includes('/node_modules/@modelcontextprotocol/sdk/'))).toBe(true);
  });
});
