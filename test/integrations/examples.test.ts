/** The integration examples run as written and show what they claim. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runExample(file: string): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

it('examples/mcp.ts: cached reads, a write invalidating only what it affects, errors not stored, a stopped loop', () => {
  const out = runExample('examples/mcp.ts');
  expect(out).toMatch(/get_issue\(1\) again\s+#1 Login page is slow \(open\)\s+cache/);
  expect(out).toMatch(/after close_issue\(1\)\s+#1 Login page is slow \(closed\)\s+server/);
  expect(out).toMatch(/get_issue\(2\): not affected\s+.*\s+cache/);
  expect(out).toMatch(/get_issue\(9\) again\s+no issue #9\s+server/);
  expect(out).toMatch(/loop stopped: repeat of tracker:get_issue/);
});

it('examples/langchain.ts: answers and tools from the cache, an AIMessage after a restart, a stopped loop', () => {
  const out = runExample('examples/langchain.ts');
  expect(out).toMatch(/2nd ask: Paris: sunny, 24°C in Paris\.\s+\(model calls 2, weather API 1\)/);
  expect(out).toMatch(/model answers from cache: 2, tokens saved: 550 in \/ 32 out/);
  expect(out).toMatch(/after a restart: an AIMessage asking for get_weather, model calls 0/);
  expect(out).toMatch(/loop stopped: repeat of get_weather/);
});

it('examples/ai-sdk.ts: cached model steps and tool calls, a fresh read after a write, a replayed stream', () => {
  const out = runExample('examples/ai-sdk.ts');
  expect(out).toMatch(/Where is order 42\? +→ .*"shipped".*\(2 steps, 2 from the cache\)/);
  expect(out).toMatch(/\(again\) +→ .*"cancelled"/);
  expect(out).toMatch(/getOrder in this session: 1 hit, 2 misses/);
  expect(out).toMatch(/repeat: first text after [\d.]+ ms, a cache hit/);
  expect(out).toMatch(/model calls: 7, order-system calls: \{"getOrder":2,"cancelOrder":1\}/);
});

it('examples/openai-agents.ts: a cached read, a fresh one after the write, a loop stopped inside the Runner', () => {
  const out = runExample('examples/openai-agents.ts');
  expect(out).toMatch(/check AF1 again +AF1: 3 seats left/);
  expect(out).toMatch(/book AF1 +booked a seat on AF1 \| AF1: 2 seats left/);
  expect(out).toMatch(/loop stopped: repeat of get_flight \(4 identical calls\)/);
  expect(out).toMatch(/airline API calls: \{"getFlight":2,"bookSeat":1\}/);
});
