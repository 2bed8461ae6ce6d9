/**
 * The awaited cache hit at the sizes users reach: 100, 10k, 100k and 1M warm keys, each call picking one of them at
 * random, object arguments. agent-cache (canonical keys, generation checks and metrics included) against
 * p-memoize + lru-cache keyed by JSON.stringify, side by side in one process, for a global tool and for a
 * session-scoped tool inside a session, each with the same argument objects every time and with argument objects
 * freshly parsed (JSON.parse) for every call. Target: agent-cache / p-memoize+lru-cache <= 0.5 at every size.
 *
 * `HIT_SIZES=100,10000 npm run bench -- hit` runs only those sizes; `BENCH_RUNS=n` repeats each comparison n times
 * (default 3; each target is the median of the runs, printed with their spread). Rounds are timed by CPU time.
 */
import { createCache as createDedupeCache } from 'async-cache-dedupe';
import { createCache as createCacheManager } from 'cache-manager';
import { LRUCache } from 'lru-cache';
import pMemoize from 'p-memoize';
import { AgentCache, AgentCacheSession, MemoryBackend } from '../src/index.js';
import { type Contender, compare, median, RUNS, scaleTable, spread, targetOverRuns } from './harness.js';

interface Query {
  userId: string;
  page: number;
  filters: { status: string; tags: string[] };
}
type Tickets = { userId: string; count: number };

const SIZES = (process.env.HIT_SIZES ?? '100,10000,100000,1000000').split(',').map(Number);
const LIMIT = 0.5;
/** Operations per round: every one picks a random key (the same sequence for every contender). */
const OPS = 20_000;
const ROUNDS = 15;

const query = (i: number): Query => ({
  userId: `user-${i}`,
  page: i % 7,
  filters: { status: i % 2 ? 'open' : 'closed', tags: ['billing', `t${i % 5}`] },
});

async function fetchTickets(q: Query): Promise<Tickets> {
  return { userId: q.userId, count: q.page };
}

/** A fixed pseudo-random sequence of `OPS` key indexes below `n`. */
function randomOrder(n: number): Uint32Array {
  const order = new Uint32Array(OPS);
  let s = 0x2545f491;
  for (let i = 0; i < OPS; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    order[i] = (s >>> 0) % n;
  }
  return order;
}

interface SizeResult {
  readonly pmNs: number;
  readonly agentNs: number;
  /** Per figure, its ratio in each run. */
  readonly ratios: Record<string, number[]>;
}

async function atSize(keys: number): Promise<SizeResult> {
  const queries = Array.from({ length: keys }, (_, i) => query(i));
  const order = randomOrder(keys);
  // Distinct objects for every operation of a round, made by JSON.parse: what an agent framework hands a tool.
  const parsed = Array.from(order, (k) => JSON.parse(JSON.stringify(queries[k])) as Query);
  const backend = new MemoryBackend({ maxEntries: keys });
  const sessionBackend = new MemoryBackend({ maxEntries: keys });
  const globalTool = AgentCache({ name: `listTickets_${keys}`, resource: 'tickets', backend })(fetchTickets);
  const scoped = AgentCache({
    name: `listSessionTickets_${keys}`,
    resource: 'tickets',
    scope: 'session',
    backend: sessionBackend,
  })(fetchTickets);
  const pMemoized = pMemoize(fetchTickets, {
    cache: new LRUCache<string, Tickets>({ max: keys }),
    cacheKey: (args) => JSON.stringify(args),
  });
  for (const q of queries) {
    await globalTool(q);
    await pMemoized(q);
  }
  const pm: Contender = { name: 'p-memoize + lru-cache', op: (i) => pMemoized(queries[order[i]!]!) };
  const pmFresh: Contender = { name: 'p-memoize + lru-cache, parsed args', op: (i) => pMemoized(parsed[i]!) };
  const label = keys.toLocaleString('en-US');
  const extra: Contender[] = [];
  if (keys <= 100) {
    // Two more peers, for scale, where their warm-up is quick.
    const dedupe = createDedupeCache({
      storage: { type: 'memory', options: { size: keys } },
      ttl: 3600,
    }).define('fetchTickets', fetchTickets);
    const manager = createCacheManager();
    const managerWrap = (q: Query) => manager.wrap(JSON.stringify([q]), () => fetchTickets(q));
    for (const q of queries) {
      await dedupe.fetchTickets(q);
      await managerWrap(q);
    }
    extra.push(
      { name: 'async-cache-dedupe', op: (i) => dedupe.fetchTickets(queries[order[i]!]!) },
      { name: 'cache-manager wrap', op: (i) => managerWrap(queries[order[i]!]!) },
    );
  }
  const session = new AgentCacheSession({ sessionId: `bench-${keys}` });
  await session.run(async () => {
    for (const q of queries) await scoped(q);
  });
  const ratio = (r: { medians: Record<string, number> }, a: string, b: string) =>
    r.medians[a]! / r.medians[b]!;
  const ratios: Record<string, number[]> = {
    'global tool': [],
    'global tool, parsed args': [],
    'session-scoped tool': [],
    'session-scoped tool, parsed args': [],
  };
  const pmNs: number[] = [];
  const agentNs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const print = run === 0;
    const g = await compare(
      `Awaited hit, global tool, ${label} warm keys, random access`,
      [
        pm,
        { name: 'agent-cache', op: (i) => globalTool(queries[order[i]!]!) },
        pmFresh,
        { name: 'agent-cache, parsed args', op: (i) => globalTool(parsed[i]!) },
        ...extra,
      ],
      { rounds: ROUNDS, ops: OPS, clock: 'cpu', print },
    );
    const s = await session.run(() =>
      compare(
        `Awaited hit inside a session, session-scoped tool, ${label} warm keys, random access`,
        [
          pm,
          { name: 'agent-cache, session-scoped', op: (i) => scoped(queries[order[i]!]!) },
          pmFresh,
          { name: 'agent-cache, session-scoped, parsed args', op: (i) => scoped(parsed[i]!) },
        ],
        { rounds: ROUNDS, ops: OPS, clock: 'cpu', print },
      ),
    );
    pmNs.push(g.medians['p-memoize + lru-cache']!);
    agentNs.push(g.medians['agent-cache']!);
    ratios['global tool']!.push(ratio(g, 'agent-cache', 'p-memoize + lru-cache'));
    ratios['global tool, parsed args']!.push(
      ratio(g, 'agent-cache, parsed args', 'p-memoize + lru-cache, parsed args'),
    );
    ratios['session-scoped tool']!.push(ratio(s, 'agent-cache, session-scoped', 'p-memoize + lru-cache'));
    ratios['session-scoped tool, parsed args']!.push(
      ratio(s, 'agent-cache, session-scoped, parsed args', 'p-memoize + lru-cache, parsed args'),
    );
  }
  const m = session.getMetrics();
  if (m.misses !== keys || m.bypassed !== 0)
    throw new Error(`unexpected session metrics: ${JSON.stringify(m)}`);
  await session.end();
  await Promise.all([backend.close(), sessionBackend.close()]);
  return { pmNs: median(pmNs), agentNs: median(agentNs), ratios };
}

export async function main(): Promise<void> {
  const results = new Map<number, SizeResult>();
  for (const keys of SIZES) results.set(keys, await atSize(keys));
  const columns = [...results.keys()];
  const rows: [string, (r: SizeResult) => string][] = [
    ['p-memoize + lru-cache, ns per hit', (r) => r.pmNs.toFixed(0)],
    ['agent-cache, ns per hit', (r) => r.agentNs.toFixed(0)],
  ];
  for (const name of Object.keys(results.get(columns[0]!)!.ratios)) {
    rows.push([`agent-cache / p-memoize+lru-cache, ${name}`, (r) => median(r.ratios[name]!).toFixed(2)]);
    rows.push([`(spread over ${RUNS} runs)`, (r) => spread(r.ratios[name]!)]);
  }
  scaleTable(
    `Awaited hit by number of warm keys (random access): agent-cache / p-memoize + lru-cache (CPU time; median of ${RUNS} runs)`,
    columns,
    rows.map(([label, cell]) => [label, columns.map((k) => cell(results.get(k)!))]),
  );
  for (const keys of columns) {
    const r = results.get(keys)!;
    for (const [name, values] of Object.entries(r.ratios)) {
      targetOverRuns(
        `hit, ${keys.toLocaleString('en-US')} keys, ${name}: agent-cache / p-memoize+lru-cache`,
        values,
        LIMIT,
      );
    }
  }
}
