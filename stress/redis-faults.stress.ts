/**
 * Redis under faults: kill -9 and restart, SIGSTOP past the command timeout, `CLIENT KILL` of the command and of the
 * pub/sub connections, each during a mixed load of three processes, with the L1 off and on. No call may fail, the
 * writer's process may never serve a stale read, and no other process may once the invalidation has landed in Redis
 * (decided by the truth's registers, not by a clock; see redis-faults/process.ts and redis-faults/row.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnRedis } from '../test/backends/fixtures/redis.js';
import { L1_BOUND_MS } from './freshness/rows.js';
import { describeFault, FAULTS } from './redis-faults/faults.js';
import { Processes, type RowResult, type RowTiming, runRow } from './redis-faults/row.js';
import { type Scenario, type ScenarioSize, table } from './scenario.js';

const SIZES: Record<ScenarioSize, RowTiming> = {
  ci: {
    warmMs: 600,
    outageMs: 1_500,
    afterMs: 1_500,
    kills: 3,
    killEveryMs: 300,
    lanes: 4,
    resources: 32,
    writeShare: 0.15,
  },
  full: {
    warmMs: 1_500,
    outageMs: 3_000,
    afterMs: 4_000,
    kills: 10,
    killEveryMs: 300,
    lanes: 4,
    resources: 32,
    writeShare: 0.15,
  },
};

const mode = (r: RowResult) => (r.spec.l1 ? 'L1 (`l1: true`)' : 'strict (`l1` off)');
const id = (r: RowResult) =>
  `${r.spec.control === undefined ? '' : 'control.'}${r.spec.fault.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}.${r.spec.l1 ? 'l1' : 'strict'}`;

function staleOthers(r: RowResult): string {
  if (!r.spec.l1 || r.staleLanded === 0) return String(r.staleLanded);
  return `${r.beyondBound} (${r.staleLanded} within the pub/sub delay, longest ${r.lagMaxMs} ms)`;
}

/** Rows with the guarantee broken on purpose: the check must find stale reads there. */
const CONTROLS = [
  { fault: 'SIGSTOP', l1: false, control: 'drop-failed-bump' },
  { fault: 'SIGSTOP', l1: true, control: 'drop-failed-bump' },
] as const;

/** What the rows' checks look at: with the L1, another process's lag beyond the heartbeat bound. */
const caught = (r: RowResult) => r.staleOwn > 0 && (r.spec.l1 ? r.beyondBound : r.staleLanded) > 0;

function markdown(t: RowTiming, rows: readonly RowResult[], controls: readonly RowResult[]): string {
  const main = table([
    [
      'fault',
      'mode',
      'calls',
      'writes',
      'calls failed',
      'longest call',
      'longest event-loop delay',
      'caching resumed after',
      'stale reads, writer’s process',
      'stale reads, others, after the invalidation landed',
      'others’ reads before it landed (window)',
      'writes returned pending',
      'lost invalidations',
      'hits',
      'backend errors',
    ],
    ...rows.map((r) => [
      r.spec.fault,
      mode(r),
      r.calls,
      r.writes,
      r.failed + r.corrupt,
      `${r.longestCallMs} ms`,
      `${r.loopDelayMaxMs} ms`,
      r.resumeMs < 0 ? '**never**' : `${r.resumeMs} ms`,
      r.staleOwn,
      staleOthers(r),
      r.beforeLanding,
      r.writesPending,
      r.lost,
      r.hits,
      r.backendErrors,
    ]),
  ]);
  const control = table([
    [
      'deliberate fault',
      'fault',
      'mode',
      'calls',
      'stale reads, writer’s process',
      'stale reads, others, after the invalidation landed',
      'of those, beyond the heartbeat bound',
    ],
    ...controls.map((r) => [
      r.spec.control!,
      r.spec.fault,
      mode(r),
      r.calls,
      r.staleOwn,
      r.staleLanded,
      r.beyondBound,
    ]),
  ]);
  const failures = rows.flatMap((r) =>
    r.ok ? [] : r.examples.map((e) => `${r.spec.fault}, ${mode(r)}, ${e}`),
  );
  return `Each row: a redis-server of the scenario's own (one for the run, on a free loopback port, no persistence), a fresh prefix, and three processes running the public API over \`RedisBackend\` with its defaults (\`timeout\` 500 ms, circuit breaker after 3 failures for 1 s, \`l1.heartbeat\` ${L1_BOUND_MS} ms): a cached read tool of one resource and an invalidating write tool, ${t.lanes} concurrent lanes per process over ${t.resources} resources (skewed, so some are hot). The writer process makes ${Math.round(t.writeShare * 100)}% writes and reads the rest; the two other processes only read. The load runs ${t.warmMs} ms, then through the fault, then until every process has served a hit again and ${t.afterMs} ms more; then the writer flushes its pending invalidations (\`flushInvalidations()\`) and every process reads every resource once more (an older version there is a *lost invalidation*).

The faults:
${FAULTS.map((f) => `- **${f}**: ${describeFault(f, t)}.`).join('\n')}

**Stale reads** are decided by registers in a shared SQLite file, not by a clock: the write tool's mutation increments the resource's version there; when a write returns, the writer raises the resource's \`done\` register, and \`recorded\` too once nothing is pending in its process (at once, or when the retry lands: a pending mark is removed only after Redis confirmed a bump issued after its failure). A read reads both before it calls the tool. A read of the writer's process older than \`done\` is stale; a read of another process older than \`recorded\` is stale *after the invalidation landed*; one older than \`done\` but not than \`recorded\` is in the documented window of other processes (docs/reliability.md: they see an invalidation when it lands), counted apart. With the L1 on, another process learns of a landed invalidation by pub/sub: a read that starts in the moment before the message arrives is counted with its lag (\`Date.now()\`, the one clock every process shares), and none may lag beyond the heartbeat bound. *Caching resumed after*: from the end of the fault (the restarted server answers, SIGCONT, the last kill) to the first hit after it, in the slowest of the three processes. *Longest call*: the longest tool call of any process, waits included (a read whose lookup answered just before a stall waits for its store, bounded by \`timeout\`, before it returns); *longest event-loop delay*: the most any process's event loop was held (\`monitorEventLoopDelay\`, the scheduling of a loaded shared machine included), load average at the end of the run: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores.

${main}

*Backend errors* are failed backend operations counted by the core (each one turned into an uncached call or a pending invalidation, never into a failed call). In strict mode there is no subscription, so \`CLIENT KILL TYPE pubsub\` finds nothing to kill: that row is the load without a fault.

The check itself, with the guarantee broken on purpose by a backend wrapper written outside the library (\`stress/freshness/faults.ts\`, \`drop-failed-bump\`: an invalidation Redis could not record is reported as recorded, which is what agent-cache did before pending invalidations):

${control}
${failures.length === 0 ? '' : `\nFirst failures:\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`}`;
}

const scenario: Scenario = {
  id: 'redis-faults',
  title: 'Redis under faults: kill -9, SIGSTOP, CLIENT KILL during a mixed load, strict and L1',
  async run(size) {
    const t = SIZES[size];
    const dir = mkdtempSync(join(tmpdir(), 'agent-cache-stress-redis-faults-'));
    const server = await OwnRedis.start();
    const processes = new Processes();
    const rows: RowResult[] = [];
    const controls: RowResult[] = [];
    try {
      for (const fault of FAULTS)
        for (const l1 of [false, true]) rows.push(await runRow(server, processes, dir, { fault, l1 }, t));
      for (const spec of CONTROLS) controls.push(await runRow(server, processes, dir, spec, t));
    } finally {
      await processes.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const figures: Record<string, number> = {};
    for (const r of [...rows, ...controls]) {
      const k = id(r);
      figures[`${k}.calls`] = r.calls;
      figures[`${k}.writes`] = r.writes;
      figures[`${k}.failed`] = r.failed;
      figures[`${k}.corrupt`] = r.corrupt;
      figures[`${k}.longestCallMs`] = r.longestCallMs;
      figures[`${k}.loopDelayMaxMs`] = r.loopDelayMaxMs;
      figures[`${k}.resumeMs`] = r.resumeMs;
      figures[`${k}.staleOwn`] = r.staleOwn;
      figures[`${k}.staleLanded`] = r.staleLanded;
      figures[`${k}.beyondBound`] = r.beyondBound;
      figures[`${k}.beforeLanding`] = r.beforeLanding;
      figures[`${k}.writesPending`] = r.writesPending;
      figures[`${k}.lost`] = r.lost;
      figures[`${k}.hits`] = r.hits;
    }
    return {
      markdown: markdown(t, rows, controls),
      ok: rows.every((r) => r.ok) && controls.every(caught),
      figures,
    };
  },
};

export default scenario;
