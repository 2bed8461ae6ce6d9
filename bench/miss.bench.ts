/**
 * A miss that stores, once the bounded cache is full (the steady state of any bounded cache): every call has
 * arguments never seen before, so it runs the function, stores the result and evicts the least recently used
 * entry. agent-cache on a full MemoryBackend({ maxEntries }) against p-memoize + lru-cache({ max }) at the same
 * bound, at bounds of 1k, 10k and 100k entries, side by side in one process. Targets: agent-cache /
 * p-memoize+lru-cache <= 1.5 at every bound, and agent-cache's miss at 100k <= 1.3x its miss at 1k (eviction is
 * O(1)).
 */
import { LRUCache } from 'lru-cache';
import pMemoize from 'p-memoize';
import { AgentCache, MemoryBackend } from '../src/index.js';
import { type Contender, compare, scaleTable, target } from './harness.js';

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
  const calls = ROUNDS * OPS + OPS; // the timed rounds and the warm-up
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
    const forAgent = freshQueries(`a-${bound}`, calls);
    const forPm = freshQueries(`p-${bound}`, calls);
    let a = 0;
    let p = 0;
    contenders.push(
      { name: `p-memoize + lru-cache, max ${bound}`, op: () => pMemoized(forPm[p++]!) },
      { name: `agent-cache, maxEntries ${bound}`, op: () => agent(forAgent[a++]!) },
    );
  }
  const r = await compare('Miss + store on a full bounded cache (every call new arguments)', contenders, {
    rounds: ROUNDS,
    ops: OPS,
    clock: 'cpu',
  });
  for (const b of backends) if (b.size !== b.maxEntries) throw new Error('the backend did not stay full');
  const ns = (name: string) => r.medians[name]!;
  const label = (b: number) => b.toLocaleString('en-US');
  const columns = BOUNDS;
  scaleTable('Miss + store on a full bounded cache, by bound', columns, [
    [
      'p-memoize + lru-cache, ns per miss',
      columns.map((b) => ns(`p-memoize + lru-cache, max ${b}`).toFixed(0)),
    ],
    ['agent-cache, ns per miss', columns.map((b) => ns(`agent-cache, maxEntries ${b}`).toFixed(0))],
    [
      'agent-cache / p-memoize+lru-cache',
      columns.map((b) =>
        (ns(`agent-cache, maxEntries ${b}`) / ns(`p-memoize + lru-cache, max ${b}`)).toFixed(2),
      ),
    ],
    [
      'agent-cache miss / its miss at maxEntries 1,000',
      columns.map((b) =>
        (ns(`agent-cache, maxEntries ${b}`) / ns('agent-cache, maxEntries 1000')).toFixed(2),
      ),
    ],
    [
      'p-memoize + lru-cache miss / its miss at max 1,000',
      columns.map((b) =>
        (ns(`p-memoize + lru-cache, max ${b}`) / ns('p-memoize + lru-cache, max 1000')).toFixed(2),
      ),
    ],
  ]);
  for (const b of BOUNDS) {
    target(
      `miss + store, full cache of ${label(b)}: agent-cache / p-memoize+lru-cache`,
      ns(`agent-cache, maxEntries ${b}`) / ns(`p-memoize + lru-cache, max ${b}`),
      1.5,
    );
  }
  target(
    'agent-cache miss + store at maxEntries 100,000 / at 1,000',
    ns('agent-cache, maxEntries 100000') / ns('agent-cache, maxEntries 1000'),
    1.3,
  );
  await Promise.all(backends.map((b) => b.close()));
}
