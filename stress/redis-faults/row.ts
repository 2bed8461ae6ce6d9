/**
 * One row of the Redis faults scenario: a fault, with the L1 on or off. Three processes share a fresh prefix of the
 * scenario's own redis-server (the writer and two others, each running the public API under load); the fault is
 * injected after a warm-up, the load goes on through it and past the recovery, then every pending invalidation is
 * flushed and every process reads every resource once more.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { OwnRedis } from '../../test/backends/fixtures/redis.js';
import type { Fault } from '../freshness/faults.js';
import { L1_BOUND_MS, lagsOf } from '../freshness/rows.js';
import { resourceNames, SqliteTruth } from '../freshness/truth.js';
import { Child } from '../lib/child.js';
import { type FaultKind, type FaultTiming, inject } from './faults.js';
import type { FaultReply, FaultRequest, LoadFigures } from './process.js';

export interface RowSpec {
  readonly fault: FaultKind;
  readonly l1: boolean;
  /** A control row: the guarantee broken on purpose, so the check must find stale reads. */
  readonly control?: Fault;
}

export interface RowTiming extends FaultTiming {
  /** Load before the fault (caching established), and after caching resumed in every process, ms. */
  readonly warmMs: number;
  readonly afterMs: number;
  readonly lanes: number;
  readonly resources: number;
  readonly writeShare: number;
}

export interface RowResult {
  readonly spec: RowSpec;
  readonly calls: number;
  readonly writes: number;
  readonly failed: number;
  readonly corrupt: number;
  readonly longestCallMs: number;
  /** Longest event-loop delay of any process (monitorEventLoopDelay: a loaded machine's scheduling included), ms. */
  readonly loopDelayMaxMs: number;
  /** From the end of the fault to the first hit, in the slowest process (ms; -1: some process never hit again). */
  readonly resumeMs: number;
  readonly staleOwn: number;
  /** Reads of the other processes older than a write whose invalidation had landed before they started. */
  readonly staleLanded: number;
  /** Of those (L1 only: the pub/sub delay), the longest lag and how many lagged beyond the heartbeat bound. */
  readonly lagMaxMs: number;
  readonly beyondBound: number;
  /** Reads of the other processes older than a completed write whose invalidation had not landed yet. */
  readonly beforeLanding: number;
  readonly writesPending: number;
  /** Resources some process read older than the truth after every invalidation was flushed: lost invalidations. */
  readonly lost: number;
  readonly hits: number;
  readonly backendErrors: number;
  readonly examples: readonly string[];
  readonly ok: boolean;
}

const processModule = new URL('./process.ts', import.meta.url);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The writer and the other processes, reused by the rows of one run. */
export class Processes {
  #all: Child<FaultRequest, FaultReply>[] = [];

  async get(): Promise<Child<FaultRequest, FaultReply>[]> {
    if (this.#all.length === 0)
      this.#all = await Promise.all(
        [0, 1, 2].map(() => Child.start<FaultRequest, FaultReply>(processModule)),
      );
    return this.#all;
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.map((c) => c.request({ op: 'close' }).catch(() => {})));
    await Promise.all(this.#all.map((c) => c.close()));
    this.#all = [];
  }
}

/** How long the load may run after a fault for caching to resume in every process (a loaded machine is slow). */
const RESUME_LIMIT_MS = 30_000;

/** Waits until every process has served a hit since `since` (or the limit passed: the row then reports it). */
async function resumed(all: readonly Child<FaultRequest, FaultReply>[], since: number): Promise<void> {
  const until = Date.now() + RESUME_LIMIT_MS;
  while (Date.now() < until) {
    const replies = await Promise.all(all.map((c) => c.request({ op: 'lastHit' })));
    if (replies.every((r) => (r.lastHit ?? 0) >= since)) return;
    await sleep(50);
  }
}

export async function runRow(
  server: OwnRedis,
  processes: Processes,
  dir: string,
  spec: RowSpec,
  t: RowTiming,
): Promise<RowResult> {
  const prefix = `agent-cache-stress-faults:${randomUUID()}:`;
  const truthPath = join(dir, `${randomUUID()}.db`);
  SqliteTruth.create(truthPath, resourceNames(t.resources));
  const [writer, ...others] = await processes.get();
  const all = [writer!, ...others];
  const base = {
    op: 'start',
    url: server.url,
    prefix,
    l1: spec.l1,
    truthPath,
    resources: t.resources,
    lanes: t.lanes,
    writeShare: t.writeShare,
    fault: spec.control ?? 'none',
  } as const;
  await writer!.request({ ...base, role: 'writer' });
  for (const other of others) await other.request({ ...base, role: 'other' });

  const loads = all.map((c) => c.request({ op: 'load' }));
  let recoveredAt: number;
  try {
    await sleep(t.warmMs);
    await inject(server, spec.fault, t);
    recoveredAt = Date.now();
    await resumed(all, recoveredAt);
    await sleep(t.afterMs);
  } finally {
    await Promise.all(all.map((c) => c.request({ op: 'stop' })));
  }
  const figures = (await Promise.all(loads)).map((reply) => reply.load!);
  const final = await writer!.request({ op: 'final' });
  // Another process's L1 learns of the last invalidations by pub/sub, within the heartbeat bound at the latest.
  if (spec.l1) await sleep(L1_BOUND_MS);
  const finals = [final, ...(await Promise.all(others.map((c) => c.request({ op: 'final' }))))];
  return merge(spec, figures, finals, recoveredAt);
}

function merge(
  spec: RowSpec,
  figures: readonly LoadFigures[],
  finals: readonly FaultReply[],
  recoveredAt: number,
): RowResult {
  const [writer, ...others] = figures;
  const sum = (list: readonly LoadFigures[], f: (x: LoadFigures) => number) =>
    list.reduce((n, x) => n + f(x), 0);
  const resumes = figures.map((f) => {
    const first = f.hitTimes.find((at) => at >= recoveredAt);
    return first === undefined ? -1 : first - recoveredAt;
  });
  const lags = lagsOf(
    others.flatMap((f) => f.lagging),
    writer!.landed,
  );
  const beyondBound = lags.filter((lag) => lag > L1_BOUND_MS).length;
  const staleLanded = sum(others, (f) => f.staleLanded);
  const row = {
    spec,
    calls: sum(figures, (f) => f.reads + f.writes + f.failed),
    writes: writer!.writes,
    failed: sum(figures, (f) => f.failed),
    corrupt: sum(figures, (f) => f.corrupt),
    longestCallMs: Math.max(...figures.map((f) => f.longestCallMs)),
    loopDelayMaxMs: Math.max(...figures.map((f) => f.loopDelayMaxMs)),
    resumeMs: resumes.includes(-1) ? -1 : Math.max(...resumes),
    staleOwn: writer!.staleOwn + sum(others, (f) => f.staleOwn),
    staleLanded,
    lagMaxMs: lags.reduce((a, b) => Math.max(a, b), 0),
    beyondBound,
    beforeLanding: sum(others, (f) => f.beforeLanding),
    writesPending: writer!.writesPending,
    lost: finals.reduce((n, f) => n + (f.older ?? 0), 0) + (finals[0]?.flushed === true ? 0 : 1),
    hits: sum(figures, (f) => f.hits),
    backendErrors: sum(figures, (f) => f.backendErrors),
    examples: figures.flatMap((f) => f.examples).slice(0, 10),
  };
  const ok =
    row.failed === 0 &&
    row.corrupt === 0 &&
    row.staleOwn === 0 &&
    (spec.l1 ? beyondBound === 0 : staleLanded === 0) &&
    row.lost === 0 &&
    row.resumeMs >= 0 &&
    row.writes > 0;
  return { ...row, ok };
}
