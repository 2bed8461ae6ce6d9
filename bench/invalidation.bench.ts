/**
 * Invalidation isolation: what invalidating resource B costs the hits of a tool on resource A. A global tool on A
 * with 10k warm keys (random access) is hit in batches of 10; before each batch, B is invalidated (every 10 hits),
 * or before every tenth batch (every 100 hits), or never; only the hits are timed. Target: hits with B invalidated
 * every 10 hits <= 1.2x hits with no invalidation. Also the same for a tool whose resource is named per argument
 * (one tag per entry), and the cost of a MemoryBackend invalidation (a bump) with 1k and with 100k entries held,
 * which must not grow with the entries (target <= 1.3x). Each comparison is repeated `BENCH_RUNS` times (default
 * 3); a target is the median of the runs, printed with their spread.
 */
import { AgentCache, invalidateResource, MemoryBackend } from '../src/index.js';
import { type Contender, compare, median, RUNS, spread, targetOverRuns } from './harness.js';

interface Query {
  userId: string;
  page: number;
}

const KEYS = 10_000;
const BATCH = 10;
const OPS = 2_000;

function randomOrder(n: number, length: number): Uint32Array {
  const order = new Uint32Array(length);
  let s = 0x2545f491;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    order[i] = (s >>> 0) % n;
  }
  return order;
}

async function isolation(): Promise<void> {
  const backend = new MemoryBackend({ maxEntries: 2 * KEYS });
  const fetch = async (q: Query) => ({ userId: q.userId, page: q.page });
  const onA = AgentCache({ name: 'getA', resource: 'A', backend })(fetch);
  const perArgument = AgentCache({ name: 'getItem', resource: (q: Query) => `item:${q.userId}`, backend })(
    fetch,
  );
  const queries = Array.from({ length: KEYS }, (_, i) => ({ userId: `user-${i}`, page: i % 7 }));
  for (const q of queries) {
    await onA(q);
    await perArgument(q);
  }
  const order = randomOrder(KEYS, OPS * BATCH);
  /** BATCH hits, timed; B is invalidated first (untimed) when `invalidate(i)` says so. */
  const batch =
    (tool: (q: Query) => Promise<unknown>, invalidate: (i: number) => boolean) =>
    async (i: number): Promise<number> => {
      if (invalidate(i)) await invalidateResource('B');
      const start = process.hrtime.bigint();
      for (let k = 0; k < BATCH; k++) await tool(queries[order[i * BATCH + k]!]!);
      return Number(process.hrtime.bigint() - start);
    };
  const contenders: Contender[] = [
    { name: 'hits on A, no invalidation', timed: true, op: batch(onA, () => false) },
    { name: 'hits on A, B invalidated every 100 hits', timed: true, op: batch(onA, (i) => i % 10 === 0) },
    { name: 'hits on A, B invalidated every 10 hits', timed: true, op: batch(onA, () => true) },
    { name: 'per-argument resource, no invalidation', timed: true, op: batch(perArgument, () => false) },
    {
      name: 'per-argument resource, B invalidated every 10 hits',
      timed: true,
      op: batch(perArgument, () => true),
    },
  ];
  const runs: Record<string, number>[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await compare(
      `${BATCH} awaited hits on a global tool on A (${KEYS.toLocaleString('en-US')} warm keys, random access), B invalidated or not`,
      contenders,
      { rounds: 21, ops: OPS, print: run === 0 },
    );
    runs.push(r.ratios);
  }
  const ratios = (name: string) => runs.map((r) => r[name]!);
  targetOverRuns(
    'hits on A with B invalidated every 10 hits / with no invalidation',
    ratios('hits on A, B invalidated every 10 hits'),
    1.2,
  );
  targetOverRuns(
    'hits on A with B invalidated every 100 hits / with no invalidation',
    ratios('hits on A, B invalidated every 100 hits'),
    1.2,
  );
  const perArgumentRatios = runs.map(
    (r) =>
      r['per-argument resource, B invalidated every 10 hits']! / r['per-argument resource, no invalidation']!,
  );
  console.log(
    `(informational) per-argument resource, B invalidated every 10 hits / no invalidation: ${median(perArgumentRatios).toFixed(2)} (spread ${spread(perArgumentRatios)})`,
  );
  await backend.close();
}

async function bumpCost(): Promise<void> {
  const small = new MemoryBackend({ maxEntries: 1_000 });
  const large = new MemoryBackend({ maxEntries: 100_000 });
  for (const backend of [small, large]) {
    const tags = ['t""getA"', 'r""A"'];
    const gens = backend.generations(tags);
    for (let i = 0; i < backend.maxEntries; i++)
      backend.set(`key-${i}`, { value: i, expiresAt: 0, tags, gens, createdAt: 0, durationMs: 0 });
  }
  const tags = Array.from({ length: 1_000 }, (_, i) => [`r""B${i}"`]);
  const ratios: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await compare(
      'Invalidation (MemoryBackend bump of one tag), by entries held',
      [
        { name: 'bump, 1,000 entries held', op: (i) => small.bump(tags[i % tags.length]!) },
        { name: 'bump, 100,000 entries held', op: (i) => large.bump(tags[i % tags.length]!) },
      ],
      { rounds: 15, ops: 20_000, clock: 'cpu', print: run === 0 },
    );
    ratios.push(r.ratios['bump, 100,000 entries held']!);
  }
  targetOverRuns('invalidation with 100,000 entries / with 1,000', ratios, 1.3);
  await Promise.all([small.close(), large.close()]);
}

export async function main(): Promise<void> {
  await isolation();
  await bumpCost();
}
