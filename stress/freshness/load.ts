/**
 * The load of one process in the freshness scenario: lanes of random reads and writes over a set of resources,
 * through a cached read tool (one resource), a cached read tool over two resources, and an invalidating write tool,
 * all built with the public API. Every read is checked against the truth's `done` register (see truth.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  AgentCache,
  AgentCacheInvalidator,
  type Backend,
  configure,
  getMetrics,
  pendingInvalidations,
  resetMetrics,
} from '../../src/index.js';
import { type Fault, withFault, writeCall } from './faults.js';
import { type Floor, resourceNames, skewedPick, type Truth } from './truth.js';

export interface LoadConfig {
  /** Concurrent lanes in this process. */
  readonly lanes: number;
  /** Tool calls made by this process, over all its lanes. */
  readonly ops: number;
  readonly resources: number;
  /** Share of calls that are writes; then of reads over two resources; the rest read one resource. */
  readonly writeShare: number;
  readonly pairShare: number;
  readonly fault: Fault;
  /** Name of this process in the examples of the report. */
  readonly name: string;
}

/** A read that returned an older version than a write completed by another process before it started. */
export type Lagging = readonly [resource: string, version: number, startedAtMs: number];
/** A write, when it returned (wall clock, ms): the report measures how long lagging reads lagged with it. */
export type Written = readonly [resource: string, version: number, completedAtMs: number];

export interface LoadResult {
  readonly ops: number;
  readonly reads: number;
  readonly writes: number;
  /** Reads older than a write this process had completed before they started. */
  readonly staleOwn: number;
  /** Reads older than a write another process had completed, and recorded, before they started. */
  readonly staleOther: number;
  /**
   * Reads older than a write another process had completed before they started, but whose invalidation that
   * process had not recorded yet (it was pending there): the documented window of other processes.
   */
  readonly unrecorded: number;
  /** Writes that returned with an invalidation still pending in this process. */
  readonly writesPending: number;
  /** Longest event-loop delay seen in this process, ms. */
  readonly loopDelayMaxMs: number;
  /** Reads that returned another resource's data, or a version the truth never reached. */
  readonly corrupt: number;
  /** Tool calls that threw (the cache must never fail a call). */
  readonly failed: number;
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
  readonly bypassed: number;
  readonly backendErrors: number;
  readonly examples: readonly string[];
  readonly lagging: readonly Lagging[];
  /** Every write of this process, only when some read lagged (to measure by how much). */
  readonly written: readonly Written[];
}

let truth: Truth | undefined;
const current = (): Truth => {
  if (truth === undefined) throw new Error('freshness load: no truth set');
  return truth;
};

/** Event-loop jitter: nothing, a microtask, a macrotask turn, or a timer, so lanes interleave differently. */
function jitter(): Promise<void> | undefined {
  const x = Math.random();
  if (x < 0.4) return undefined;
  if (x < 0.7) return Promise.resolve();
  if (x < 0.93) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, x < 0.99 ? 0 : 1));
}

/** Now and then, hold the event loop for a moment (a slow synchronous step elsewhere in an application). */
function stall(): void {
  if (Math.random() >= 0.002) return;
  const until = performance.now() + 1 + Math.random() * 2;
  while (performance.now() < until) {}
}

interface Item {
  readonly r: string;
  readonly v: number;
}

const readItem = AgentCache({ name: 'fresh.readItem', resource: (r: string) => `item:${r}` })(
  async function readItem(r: string): Promise<Item> {
    const v = current().read(r);
    await jitter();
    return { r, v };
  },
);

const readPair = AgentCache({
  name: 'fresh.readPair',
  resource: (a: string, b: string) => [`item:${a}`, `item:${b}`],
})(async function readPair(a: string, b: string): Promise<[Item, Item]> {
  const first = { r: a, v: current().read(a) };
  await jitter();
  const second = { r: b, v: current().read(b) };
  await jitter();
  return [first, second];
});

const writeItem = AgentCacheInvalidator({ name: 'fresh.writeItem', resource: (r: string) => `item:${r}` })(
  async function writeItem(r: string): Promise<number> {
    await jitter();
    const v = current().bump(r);
    const call = writeCall.getStore();
    if (call !== undefined) call.mutated = true;
    await jitter();
    return v;
  },
);

/** Runs the load on `backend` (which this function configures as the default and does not close). */
export async function runLoad(backend: Backend, shared: Truth, config: LoadConfig): Promise<LoadResult> {
  truth = shared;
  configure({ backend: withFault(backend, config.fault) });
  resetMetrics();
  const names = resourceNames(config.resources);
  const pick = skewedPick(names);
  const own = new Map<string, number>();
  const counts = {
    reads: 0,
    writes: 0,
    staleOwn: 0,
    staleOther: 0,
    unrecorded: 0,
    writesPending: 0,
    corrupt: 0,
    failed: 0,
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const examples: string[] = [];
  const lagging: Lagging[] = [];
  const written: Written[] = [];
  const note = (text: string) => {
    if (examples.length < 10) examples.push(`${config.name}: ${text}`);
  };

  /** Checks one item of a read against the floors taken before the read started. */
  const check = (item: Item, expected: string, floorOwn: number, floor: Floor, startedAt: number) => {
    if (item.r !== expected || item.v > current().read(expected)) {
      counts.corrupt++;
      note(`read of ${expected} returned ${JSON.stringify(item)}`);
    } else if (item.v < floorOwn) {
      counts.staleOwn++;
      note(`read of ${expected} returned v${item.v} after this process completed the write of v${floorOwn}`);
    } else if (item.v < floor.recorded) {
      counts.staleOther++;
      lagging.push([expected, item.v, startedAt]);
      if (lagging.length <= 3)
        note(
          `read of ${expected} returned v${item.v} after another process completed (and recorded) the write of v${floor.recorded}`,
        );
    } else if (item.v < floor.all) {
      counts.unrecorded++;
      if (counts.unrecorded <= 3)
        note(
          `read of ${expected} returned v${item.v} after another process completed the write of v${floor.all}, whose invalidation was still pending there`,
        );
    }
  };

  let left = config.ops;
  const lane = async () => {
    while (left > 0) {
      left--;
      stall();
      const x = Math.random();
      try {
        if (x < config.writeShare) {
          const r = pick();
          const v = await writeCall.run({ mutated: false }, () => writeItem(r));
          const recorded = pendingInvalidations().count === 0;
          if (!recorded) counts.writesPending++;
          current().completed(r, v, recorded);
          if (v > (own.get(r) ?? 0)) own.set(r, v);
          written.push([r, v, Date.now()]);
          counts.writes++;
        } else if (x < config.writeShare + config.pairShare) {
          const a = pick();
          let b = pick();
          if (b === a) b = names[(names.indexOf(a) + 1) % names.length]!;
          const floors = [own.get(a) ?? 0, current().floor(a), own.get(b) ?? 0, current().floor(b)] as const;

          const startedAt = Date.now();
          const [first, second] = await readPair(a, b);
          check(first, a, floors[0], floors[1], startedAt);
          check(second, b, floors[2], floors[3], startedAt);
          counts.reads++;
        } else {
          const r = pick();
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
      await jitter();
    }
  };
  await Promise.all(Array.from({ length: config.lanes }, lane));
  delay.disable();

  const m = getMetrics();
  return {
    ops: counts.reads + counts.writes + counts.failed,
    ...counts,
    hits: m.hits,
    misses: m.misses,
    coalesced: m.coalesced,
    bypassed: m.bypassed,
    backendErrors: m.backendErrors,
    loopDelayMaxMs: Math.round(delay.max / 1e6),
    examples,
    lagging,
    written: lagging.length > 0 ? written : [],
  };
}
