// The `agent-cache` command as a user runs it from their project: `npx agent-cache` resolves the package's bin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentCache, DiskBackend } from 'agent-cache';

// The bin starts with `#!/usr/bin/env node`: put this Node first on PATH, as a user's shell has their Node.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
const npx = (...args) => {
  const r = spawnSync('npx', ['--no-install', 'agent-cache', ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const file = 'cli-case.sqlite';
rmSync(file, { force: true });
const backend = new DiskBackend(file);
const getTicket = AgentCache({ backend, resource: (id) => `ticket:${id}` })(async function getTicket(id) {
  return { id };
});
await getTicket('T-1');
await getTicket('T-2');
await backend.close();

const version = npx('--version');
assert.equal(version.code, 0, version.stderr);
assert.equal(
  version.stdout.trim(),
  JSON.parse(readFileSync('node_modules/agent-cache/package.json', 'utf8')).version,
);

const stats = npx('stats', file, '--json');
assert.equal(stats.code, 0, stats.stderr);
const figures = JSON.parse(stats.stdout);
assert.equal(figures.entries, 2);
assert.deepEqual(figures.tools, { getTicket: { entries: 2, bytes: figures.bytes } });

const inspect = npx('inspect', file, '--resource', 'ticket:T-2', '--json');
assert.deepEqual(
  JSON.parse(inspect.stdout).entries.map((e) => e.key),
  ['"""getTicket"g["T-2"]'],
);

const invalidate = npx('invalidate', file, 'ticket:T-1');
assert.equal(invalidate.code, 0, invalidate.stderr);
assert.match(invalidate.stdout, /1 stored entry is stale now/);
assert.equal(JSON.parse(npx('stats', file, '--json').stdout).entries, 1);

const missing = npx('stats', 'no-such-cache.sqlite');
assert.equal(missing.code, 1);
assert.match(missing.stderr, /^agent-cache stats: \/\S+\/no-such-cache\.sqlite does not exist\n$/); // the path it looked at, resolved
assert.equal(existsSync('no-such-cache.sqlite'), false);
assert.equal(npx().code, 2);

const trace = 'cli-case.jsonl';
const call = {
  session: 's',
  tool: 'getTicket',
  kind: 'read',
  args: ['T-1'],
  resources: ['ticket:T-1'],
  durationMs: 100,
};
writeFileSync(
  trace,
  `${[call, call, { ...call, kind: 'write', tool: 'closeTicket' }, call].map((c) => JSON.stringify(c)).join('\n')}\n`,
);
const report = npx('report', trace, '--json', '--html', 'cli-case.html');
assert.equal(report.code, 0, report.stderr);
assert.deepEqual(JSON.parse(report.stdout), {
  calls: 4,
  executions: 3,
  avoided: 1,
  hitRate: 1 / 3,
  savedMs: 100,
  loops: [],
  tools: { getTicket: { calls: 3, hits: 1, savedMs: 100 }, closeTicket: { calls: 1, hits: 0, savedMs: 0 } },
});
assert.match(readFileSync('cli-case.html', 'utf8'), /<svg class="chart"/);

console.log('the agent-cache command works from the packed package');
