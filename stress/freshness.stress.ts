/**
 * Freshness under load: no read that starts after a write completed returns older data, per backend, in one
 * process and across several processes sharing the backend. See freshness/truth.ts for how "after" is decided
 * without a clock, and freshness/faults.ts for the deliberate faults that show the check catches stale reads.
 */
import { probeRedis, REDIS_URL } from '../test/backends/fixtures/redis.js';
import { L1_BOUND_MS, Rig, type RowResult, type RowSpec, runRow } from './freshness/rows.js';
import { type Scenario, type ScenarioSize, table } from './scenario.js';

const SIZES: Record<ScenarioSize, { ops: number; processes: number; control: number }> = {
  ci: { ops: 2_500, processes: 3, control: 3_000 },
  full: { ops: 100_000, processes: 4, control: 20_000 },
};
const RESOURCES = 64;
const LANES_IN_PROCESS = 16;
const LANES_PER_CHILD = 8;

export function rowsFor(size: ScenarioSize, redis: boolean): RowSpec[] {
  const { ops, processes } = SIZES[size];
  const inProcess = { processes: 1, ops, lanes: LANES_IN_PROCESS, resources: RESOURCES };
  const across = { processes, ops, lanes: LANES_PER_CHILD, resources: RESOURCES };
  const rows: RowSpec[] = [
    { backend: 'memory', ...inProcess },
    { backend: 'disk', ...inProcess },
    { backend: 'disk', ...across },
  ];
  if (redis)
    rows.push(
      { backend: 'redis strict', ...inProcess },
      { backend: 'redis strict', ...across },
      { backend: 'redis l1', ...inProcess },
      { backend: 'redis l1', ...across },
    );
  return rows;
}

/** The same check with the guarantees broken on purpose: each must report stale reads. */
export function controlsFor(size: ScenarioSize): RowSpec[] {
  const ops = SIZES[size].control;
  const base = {
    backend: 'memory',
    processes: 1,
    ops,
    lanes: LANES_IN_PROCESS,
    resources: RESOURCES,
  } as const;
  const across = {
    backend: 'disk',
    processes: SIZES[size].processes,
    ops,
    lanes: LANES_PER_CHILD,
    resources: RESOURCES,
  } as const;
  return [
    { ...base, fault: 'skip-second-bump' },
    { ...base, fault: 'stale-entry' },
    { ...across, fault: 'skip-second-bump' },
  ];
}

const where = (s: RowSpec) => (s.processes === 1 ? 'in process' : `${s.processes} processes`);
const pct = (hits: number, misses: number) =>
  hits + misses === 0 ? '0%' : `${((100 * hits) / (hits + misses)).toFixed(1)}%`;

function stale(row: RowResult): string {
  if (row.spec.backend !== 'redis l1' || row.spec.processes === 1)
    return String(row.staleOwn + row.staleOther);
  return `${row.staleOwn} in the writer's process; ${row.staleOther} in others within the pub/sub window (longest ${row.lagMaxMs} ms, ${row.beyondBound} beyond ${L1_BOUND_MS} ms)`;
}

/** Writes whose invalidation was still pending when they returned, and the reads of other processes they let lag. */
function pending(row: RowResult): string {
  return row.writesPending === 0 ? '0' : `${row.writesPending} writes; ${row.unrecorded} reads`;
}

function markdown(
  size: ScenarioSize,
  rows: readonly RowResult[],
  controls: readonly RowResult[],
  redis: boolean,
) {
  const { processes } = SIZES[size];
  const main = table([
    [
      'backend',
      'where',
      'operations',
      'reads',
      'writes',
      'stale reads',
      'hits',
      'hit rate',
      'coalesced',
      'backend errors',
      'pending at return',
      'longest event-loop delay',
      'failed calls',
    ],
    ...rows.map((r) => [
      r.spec.backend,
      where(r.spec),
      r.ops,
      r.reads,
      r.writes,
      stale(r),
      r.hits,
      pct(r.hits, r.misses),
      r.coalesced,
      r.backendErrors,
      pending(r),
      `${r.loopDelayMaxMs} ms`,
      r.failed + r.corrupt,
    ]),
  ]);
  const control = table([
    ['deliberate fault', 'backend', 'where', 'operations', 'stale reads found'],
    ...controls.map((r) => [r.spec.fault!, r.spec.backend, where(r.spec), r.ops, r.staleOwn + r.staleOther]),
  ]);
  const failures = rows.flatMap((r) => (r.ok ? [] : r.examples.map((e) => `${r.spec.backend}, ${e}`)));
  const caught = controls.flatMap((r) => r.examples.slice(0, 2).map((e) => `${r.spec.fault}, ${e}`));
  return `Each row: ${LANES_IN_PROCESS} concurrent lanes in one process, or ${LANES_PER_CHILD} lanes in each of ${processes} processes sharing the backend, making random calls over ${RESOURCES} resources (skewed, so some are hot): 70% reads of one resource, 20% reads of two, 10% writes, with event-loop jitter (microtask, macrotask and timer yields inside the tools and between calls, and occasional 1–3 ms synchronous stalls). The write tool's mutation increments the resource's version in the source of truth (a Map in process, a shared SQLite file across processes).

**A stale read** is a read that started after a write of its resource had returned to its caller, and returned an older version. "After" is decided by a register, not by a clock: a lane raises the resource's \`done\` register in the shared truth to the version its write produced once the write returned, and a read reads \`done\` before it calls the read tool. No clock is valid for this across processes: \`process.hrtime()\` and \`performance.now()\` have a per-process origin, and \`Date.now()\` is shared but has a 1 ms resolution and can be stepped. The register can only under-count (a write that returns between the read of \`done\` and the call is not counted), never report a read that is not stale. Also checked: every read returns its own resource's data and a version the truth reached; no call fails.

${main}

*Backend errors* on a healthy backend come from load on this shared machine: a SQLite store that waited more than 100 ms for another process's write lock is given up (the result is returned, not stored), and a Redis command that took longer than the 500 ms \`timeout\` counts as failed. *Pending at return* counts writes that returned while an invalidation of their process could not be recorded yet (it is retried in the background, and nothing it affects is served in that process); a read of another process that was older than such a write is in the documented window of other processes (docs/reliability.md) and is counted there, not as a stale read. Every other read older than a completed write is a stale read.

With \`l1\` on, a process serves hits from memory and learns of another process's write by pub/sub: a read that starts after another process's write returned can be served the old entry until the message arrives (documented as a window, typically under a millisecond). The guarantees there are: no stale read in the writer's own process, and none later than the heartbeat bound (${L1_BOUND_MS} ms, the L1 does not serve on a subscription not proven live within it); the lag is measured with \`Date.now()\`.${redis ? '' : `\n\n**Redis rows not run: no Redis at ${REDIS_URL}.**`}

The check itself, with the guarantees broken on purpose by a backend wrapper written outside the library (\`stress/freshness/faults.ts\`: the invalidation after the mutation dropped; or a lookup answered now and then with the first entry ever seen under that key):

${control}

For example:
${caught.map((c) => `- ${c}`).join('\n')}
${failures.length === 0 ? '' : `\nFirst failures:\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`}`;
}

const scenario: Scenario = {
  id: 'freshness',
  title: 'Freshness under load: stale reads per backend, in process and across processes',
  async run(size) {
    const redis = await probeRedis();
    const rig = new Rig();
    const rows: RowResult[] = [];
    const controls: RowResult[] = [];
    try {
      for (const spec of rowsFor(size, redis)) rows.push(await runRow(rig, spec));
      for (const spec of controlsFor(size)) controls.push(await runRow(rig, spec));
    } finally {
      await rig.close();
    }
    const figures: Record<string, number> = {};
    for (const r of [...rows, ...controls]) {
      const id = `${r.spec.backend.replace(' ', '-')}.${r.spec.processes === 1 ? 'in-process' : 'processes'}${r.spec.fault ? `.${r.spec.fault}` : ''}`;
      figures[`${id}.ops`] = r.ops;
      figures[`${id}.staleOwn`] = r.staleOwn;
      figures[`${id}.staleOther`] = r.staleOther;
      figures[`${id}.unrecorded`] = r.unrecorded;
      figures[`${id}.beyondBound`] = r.beyondBound;
      figures[`${id}.corrupt`] = r.corrupt;
      figures[`${id}.failed`] = r.failed;
      figures[`${id}.hits`] = r.hits;
    }
    const controlsCaught = controls.every((c) => c.staleOwn + c.staleOther > 0);
    return {
      markdown: markdown(size, rows, controls, redis),
      ok: redis && rows.every((r) => r.ok) && controlsCaught,
      figures,
    };
  },
};

export default scenario;
