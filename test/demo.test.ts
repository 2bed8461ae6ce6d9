/** `npm run demo` (examples/demo.ts) runs and shows what it claims: hits, a fresh read after a write, a stopped loop. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the demo agent runs end to end', { timeout: 60_000 }, () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/getTicket\(T-100\)\s+\(re-read\)\s+[\d.]+ ms\s+served from cache/);
  expect(run.stdout).toMatch(/after the write: fresh\)\s+[\d.]+ ms\s+ran the tool/);
  expect(run.stdout).toMatch(/#4\s+[\d.]+ ms\s+stopped: repeat/);
  expect(run.stdout).toMatch(/after a restart\s+[\d.]+ ms\s+served from the SQLite file/);
});
