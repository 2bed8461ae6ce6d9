/**
 * A miss that stores, once the bounded cache is full (the steady state of any bounded cache): every call has
 * arguments never seen before, so it runs the function, stores the result and evicts the least recently used
 * entry. agent-cache on a full MemoryBackend({ maxEntries }) against p-memoize + lru-cache({ max }) at the same
 * bound, at bounds of 1k, 10k and 100k entries, side by side in one process. Targets: agent-cache /
 * p-memoize+lru-cache <= 1.5 at every bound, and agent-cache's miss at 100k <= 1.3x its miss at 1k (eviction is
 * O(1)). Rounds are timed by CPU time; each comparison is repeated `BENCH_RUNS` times (default 3) and a target is
 * the median of the runs, printed with their spread.
 */
import { LRUCache } from 'lru-cache';
import pMemoize from 'p-memoize';
import { AgentCache, MemoryBackend } from '../src/index.js';
import { type Contender, compare, median, RUNS, scaleTable, spread, targetOverRuns } from './harness.js';

interface Query {
  userId: string;
  page: number;
  filters: { status: string; tags: string[] };
}
type Tickets = { userId: string; count: number };

const BOUNDS = [1_000, 10_000, 100_000];
const ROUNDS = 15;
const OPS = 5_000;

async function fetchTickets(q: Query): Promise<Tickets> {
  return { userId: q.userId, count: q.page };
}

/** Arguments no call has used before, made ahead of time so that building them is not timed. */
function freshQueries(tag: string, n: number): Query[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: `${tag}-${i}`,
    page: i % 7,
    filters: { status: i % 2 ? 'open' : 'closed', tags: ['billing', `t${i % 5}`] },
  }));
}

export async function main(): Promise<void> {
  const contenders: Contender[] = [];
  const backends: MemoryBackend[] = [];
  for (const bound of BOUNDS) {
    const backend = new MemoryBackend({ maxEntries: bound });
    backends.push(backend);
    const agent = AgentCache({ name: `getTickets_${bound}`, resource: 'tickets', backend })(fetchTickets);
    const cache = new LRUCache<string, Tickets>({ max: bound });
    const pMemoized = pMemoize(fetchTickets, { cache, cacheKey: (args) => JSON.stringify(args) });
    // Fill both to their bound first: every timed miss then also evicts.
    for (const q of freshQueries(`fill-${bound}`, bound)) {
      await agent(q);
      await pMemoized(q);
    }
    if (backend.size !== bound || cache.size !== bound) throw new Error('caches not full');
    // Each round gets arguments never used before, made before the round starts (not timed) and dropped after it:
    // the heap holds the caches and one round's arguments, not every argument of the run.
    let forAgent: Query[] = [];
    let forPm: Query[] = [];
    let round = 0;
    contenders.push(
      {
        name: `p-memoize + lru-cache, max ${bound}`,
        setup: () => {
          forPm = freshQueries(`p${++round}-${bound}`, OPS);
        },
        teardown: () => {
          forPm = [];
        },
        op: (i) => pMemoized(forPm[i]!),
      },
      {
        name: `agent-cache, maxEntries ${bound}`,
        setup: () => {
          forAgent = freshQueries(`a${++round}-${bound}`, OPS);
        },
        teardown: () => {
          forAgent = [];
        },
        op: (i) => agent(forAgent[i]!),
      },
    );
  }
  const runs: Record<string, number>[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await compare('Miss + store on a full bounded cache (every call new arguments)', contenders, {
      rounds: ROUNDS,
      ops: OPS,
      clock: 'cpu',
      print: run === 0,
    });
    runs.push(r.medians);
  }
  for (const b of backends) if (b.size !== b.maxEntries) throw new Error('the backend did not stay full');
  const ns = (name: string) => median(runs.map((m) => m[name]!));
  /** The ratio a/b in each run. */
  const ratios = (a: string, b: string) => runs.map((m) => m[a]! / m[b]!);
  const agentAt = (b: number) => `agent-cache, maxEntries ${b}`;
  const pmAt = (b: number) => `p-memoize + lru-cache, max ${b}`;
  const label = (b: number) => b.toLocaleString('en-US');
  const columns = BOUNDS;
  scaleTable(`Miss + store on a full bounded cache, by bound (CPU time; median of ${RUNS} runs)`, columns, [
    ['p-memoize + lru-cache, ns per miss', columns.map((b) => ns(pmAt(b)).toFixed(0))],
    ['agent-cache, ns per miss', columns.map((b) => ns(agentAt(b)).toFixed(0))],
    ['agent-cache / p-memoize+lru-cache', columns.map((b) => median(ratios(agentAt(b), pmAt(b))).toFixed(2))],
    [`(spread over ${RUNS} runs)`, columns.map((b) => spread(ratios(agentAt(b), pmAt(b))))],
    [
      'agent-cache miss / its miss at maxEntries 1,000',
      columns.map((b) => median(ratios(agentAt(b), agentAt(1000))).toFixed(2)),
    ],
    [
      'p-memoize + lru-cache miss / its miss at max 1,000',
      columns.map((b) => median(ratios(pmAt(b), pmAt(1000))).toFixed(2)),
    ],
  ]);
  for (const b of BOUNDS) {
    targetOverRuns(
      `miss + store, full cache of ${label(b)}: agent-cache / p-memoize+lru-cache`,
      ratios(agentAt(b), pmAt(b)),
      1.5,
    );
  }
  targetOverRuns(
    'agent-cache miss + store at maxEntries 100,000 / at 1,000',
    ratios(agentAt(100_000), agentAt(1000)),
    1.3,
  );
  await Promise.all(backends.map((b) => b.close()));
}
