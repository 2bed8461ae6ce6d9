/**
 * A process of the Redis faults scenario: a cached read tool and an invalidating write tool (the public API) over a
 * RedisBackend shared with the other processes of the row, and a mixed load that runs until the parent says stop.
 * The writer process reads and writes; the other processes only read. Every read is checked against the shared
 * truth's registers (../freshness/truth.ts): `done` for the writer's own reads, `recorded` (raised once the write's
 * invalidation is in Redis) for the others'.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RedisBackend } from '../../src/backends/redis/index.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  configure,
  flushInvalidations,
  getMetrics,
  pendingInvalidations,
  resetMetrics,
} from '../../src/index.js';
import { type Fault, withFault } from '../freshness/faults.js';
import type { Lagging, LoadResult, Written } from '../freshness/load.js';
import { type Floor, resourceNames, SqliteTruth, skewedPick } from '../freshness/truth.js';
import { serve } from '../lib/child.js';

export type Role = 'writer' | 'other';

export type FaultRequest =
  | {
      readonly op: 'start';
      readonly role: Role;
      readonly url: string;
      readonly prefix: string;
      readonly l1: boolean;
      readonly truthPath: string;
      readonly resources: number;
      readonly lanes: number;
      /** Share of the writer's calls that are writes. */
      readonly writeShare: number;
      /** A guarantee broken on purpose (../freshness/faults.ts), to show the check catches stale reads. */
      readonly fault: Fault;
    }
  | { readonly op: 'load' }
  | { readonly op: 'lastHit' }
  | { readonly op: 'stop' }
  | { readonly op: 'final' }
  | { readonly op: 'close' };

/** Counted as in the freshness scenario (../freshness/load.ts), plus what a fault changes. */
export interface LoadFigures
  extends Pick<
    LoadResult,
    | 'reads'
    | 'writes'
    | 'failed'
    | 'staleOwn'
    | 'corrupt'
    | 'writesPending'
    | 'loopDelayMaxMs'
    | 'hits'
    | 'misses'
    | 'bypassed'
    | 'backendErrors'
    | 'lagging'
    | 'examples'
  > {
  /** Reads older than a write of another process whose invalidation had landed in Redis before they started. */
  readonly staleLanded: number;
  /** Reads older than a completed write of another process whose invalidation had not landed yet (the window). */
  readonly beforeLanding: number;
  readonly longestCallMs: number;
  /** Date.now() of the moments (5 ms apart at most) at which this process served hits. */
  readonly hitTimes: readonly number[];
  /** The writer's writes and when their invalidation landed (Date.now()). */
  readonly landed: readonly Written[];
}

export interface FaultReply {
  readonly load?: LoadFigures;
  /** lastHit: Date.now() of the last moment this process served a hit (0: none yet). */
  readonly lastHit?: number;
  /** final: resources this process read older than the truth, after every invalidation was flushed. */
  readonly older?: number;
  /** final: whether the writer had nothing left pending. */
  readonly flushed?: boolean;
}

interface Item {
  readonly r: string;
  readonly v: number;
}

let truth: SqliteTruth | undefined;
let backend: RedisBackend | undefined;
let config: Extract<FaultRequest, { op: 'start' }> | undefined;
let stopping = false;
let running: Promise<LoadFigures> | undefined;

const current = () => {
  if (truth === undefined) throw new Error('redis-faults process: not started');
  return truth;
};
/** The tools' work: a macrotask turn, or now and then a timer of up to 2 ms, so calls overlap faults and writes. */
const work = () =>
  new Promise<void>((resolve) =>
    Math.random() < 0.7 ? setImmediate(resolve) : setTimeout(resolve, Math.random() * 2),
  );

const readItem = AgentCache({ name: 'faults.readItem', resource: (r: string) => `item:${r}` })(
  async function readItem(r: string): Promise<Item> {
    const v = current().read(r);
    await work();
    return { r, v };
  },
);

const writeItem = AgentCacheInvalidator({ name: 'faults.writeItem', resource: (r: string) => `item:${r}` })(
  async function writeItem(r: string): Promise<number> {
    await work();
    return current().bump(r);
  },
);

async function load(): Promise<LoadFigures> {
  const c = config!;
  const pick = skewedPick(resourceNames(c.resources));
  const own = new Map<string, number>();
  const counts = {
    reads: 0,
    writes: 0,
    failed: 0,
    staleOwn: 0,
    staleLanded: 0,
    beforeLanding: 0,
    corrupt: 0,
    writesPending: 0,
  };
  let longestCallMs = 0;
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < 10) examples.push(`${c.role}: ${text}`);
  };
  const lagging: Lagging[] = [];
  const landed: Written[] = [];
  // Writes that returned with something pending: raised to `recorded` in the truth once nothing is pending any
  // more (a mark is removed only after Redis confirmed a bump issued after its failure, so every earlier write's
  // invalidation has landed by then).
  let unrecorded: [string, number][] = [];
  const land = () => {
    if (unrecorded.length === 0 || pendingInvalidations().count !== 0) return;
    const at = Date.now();
    for (const [r, v] of unrecorded) {
      current().completed(r, v, true);
      landed.push([r, v, at]);
    }
    unrecorded = [];
  };
  const lander = setInterval(land, 2);

  resetMetrics();
  const hitTimes: number[] = [];
  let hitsSeen = 0;
  const sampler = setInterval(() => {
    const hits = getMetrics().hits;
    if (hits > hitsSeen) {
      lastHit = Date.now();
      hitTimes.push(lastHit);
    }
    hitsSeen = hits;
  }, 5);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  const check = (item: Item, r: string, floorOwn: number, floor: Floor, startedAt: number) => {
    if (item.r !== r || item.v > current().read(r)) {
      counts.corrupt++;
      note(`read of ${r} returned ${JSON.stringify(item)}`);
    } else if (item.v < floorOwn) {
      counts.staleOwn++;
      note(`read of ${r} returned v${item.v} after this process's write of v${floorOwn} had returned`);
    } else if (item.v < floor.recorded) {
      counts.staleLanded++;
      lagging.push([r, item.v, startedAt]);
      if (counts.staleLanded <= 3)
        note(
          `read of ${r} returned v${item.v} after the invalidation of the write of v${floor.recorded} landed`,
        );
    } else if (item.v < floor.all) counts.beforeLanding++;
  };

  const lane = async () => {
    while (!stopping) {
      const r = pick();
      const started = performance.now();
      try {
        if (c.role === 'writer' && Math.random() < c.writeShare) {
          const v = await writeItem(r);
          const recorded = pendingInvalidations().count === 0;
          if (recorded) land();
          else {
            counts.writesPending++;
            unrecorded.push([r, v]);
          }
          current().completed(r, v, recorded);
          if (recorded) landed.push([r, v, Date.now()]);
          if (v > (own.get(r) ?? 0)) own.set(r, v);
          counts.writes++;
        } else {
          const floorOwn = own.get(r) ?? 0;
          const floor = current().floor(r);
          const startedAt = Date.now();
          check(await readItem(r), r, floorOwn, floor, startedAt);
          counts.reads++;
        }
      } catch (error) {
        counts.failed++;
        note(`a call threw: ${String((error as Error)?.stack ?? error)}`);
      }
      longestCallMs = Math.max(longestCallMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.random() < 0.5 ? 0 : 1));
    }
  };
  await Promise.all(Array.from({ length: c.lanes }, lane));
  clearInterval(sampler);
  delay.disable();
  // The writes still pending land during the flush of `final`; keep raising their register until then.
  finishLanding = () => {
    land();
    clearInterval(lander);
  };
  const m = getMetrics();
  return {
    ...counts,
    longestCallMs: Math.round(longestCallMs),
    loopDelayMaxMs: Math.round(delay.max / 1e6),
    hits: m.hits,
    misses: m.misses,
    bypassed: m.bypassed,
    backendErrors: m.backendErrors,
    hitTimes,
    lagging,
    landed,
    examples,
  };
}

let finishLanding = () => {};
let lastHit = 0;

serve<FaultRequest, FaultReply>(async (request) => {
  switch (request.op) {
    case 'start': {
      await backend?.close();
      truth?.close();
      config = request;
      truth = new SqliteTruth(request.truthPath);
      backend = new RedisBackend({ url: request.url, prefix: request.prefix, l1: request.l1 });
      configure({ backend: withFault(backend, request.fault), logger: { warn: () => {}, error: () => {} } });
      stopping = false;
      lastHit = 0;
      return {};
    }
    case 'load':
      running = load();
      return { load: await running };
    case 'lastHit':
      return { lastHit };
    case 'stop':
      stopping = true;
      await running;
      return {};
    case 'final': {
      // Everything pending must land (Redis is healthy again); then no process may read anything older.
      const flushed = await flushInvalidations({ timeout: 30_000 });
      finishLanding();
      let older = 0;
      for (const r of resourceNames(config!.resources)) {
        const item = await readItem(r);
        if (item.v < current().read(r)) older++;
      }
      return { older, flushed };
    }
    case 'close':
      await backend?.close();
      truth?.close();
      backend = undefined;
      truth = undefined;
      return {};
  }
});
