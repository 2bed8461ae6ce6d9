/**
 * The cost of an awaited cache hit (100 warm keys, object arguments), side by side in one process:
 * agent-cache, p-memoize + lru-cache (key by JSON.stringify), async-cache-dedupe and cache-manager `wrap`.
 * Target (issue 2): agent-cache / p-memoize+lru-cache <= 0.6.
 */
import { createCache as createDedupeCache } from 'async-cache-dedupe';
import { createCache as createCacheManager } from 'cache-manager';
import { LRUCache } from 'lru-cache';
import pMemoize from 'p-memoize';
import { AgentCache, AgentCacheSession, subscribeAgentCache } from '../src/index.js';
import { compare, target } from './harness.js';

interface Query {
  userId: string;
  page: number;
  filters: { status: string; tags: string[] };
}

const KEYS = 100;
/** More and longer rounds than the default: a hit is sub-microsecond, and GC pauses land in whichever round. */
const STEADY = { rounds: 31, ops: 40_000 } as const;
const queries: Query[] = Array.from({ length: KEYS }, (_, i) => ({
  userId: `user-${i}`,
  page: i % 7,
  filters: { status: i % 2 ? 'open' : 'closed', tags: ['billing', `t${i % 5}`] },
}));

async function fetchTickets(q: Query): Promise<{ userId: string; count: number }> {
  return { userId: q.userId, count: q.page };
}

export async function main(): Promise<void> {
  const agentCached = AgentCache({ resource: 'tickets' })(async function listTickets(q: Query) {
    return fetchTickets(q);
  });
  const sessionCached = AgentCache({ resource: 'tickets', scope: 'session' })(
    async function listSessionTickets(q: Query) {
      return fetchTickets(q);
    },
  );
  const pMemoized = pMemoize(fetchTickets, {
    cache: new LRUCache<string, { userId: string; count: number }>({ max: 10_000 }),
    cacheKey: (args) => JSON.stringify(args),
  });
  const dedupe = createDedupeCache({
    storage: { type: 'memory', options: { size: 10_000 } },
    ttl: 3600,
  }).define('fetchTickets', fetchTickets);
  const manager = createCacheManager();
  const managerWrap = (q: Query) => manager.wrap(JSON.stringify([q]), () => fetchTickets(q));

  // Warm every key in every cache.
  for (const q of queries) {
    await agentCached(q);
    await pMemoized(q);
    await dedupe.fetchTickets(q);
    await managerWrap(q);
  }

  const result = await compare(
    'Awaited cache hit, 100 warm keys, object arguments',
    [
      { name: 'p-memoize + lru-cache', op: (i) => pMemoized(queries[i % KEYS]!) },
      { name: 'agent-cache', op: (i) => agentCached(queries[i % KEYS]!) },
      { name: 'async-cache-dedupe', op: (i) => dedupe.fetchTickets(queries[i % KEYS]!) },
      { name: 'cache-manager wrap', op: (i) => managerWrap(queries[i % KEYS]!) },
    ],
    STEADY,
  );
  target('agent-cache / p-memoize+lru-cache', result.ratios['agent-cache']!, 0.6);

  // Agents parse tool arguments from model output: equal values, new objects on every call. Nothing in
  // agent-cache is keyed by object identity, so this must cost about the same.
  const parsed = Array.from(
    { length: 20_000 },
    (_, i) => JSON.parse(JSON.stringify(queries[i % KEYS])) as Query,
  );
  const fresh = await compare(
    'Awaited cache hit, arguments freshly parsed on every call (JSON.parse)',
    [
      { name: 'p-memoize + lru-cache', op: (i) => pMemoized(parsed[i % parsed.length]!) },
      { name: 'agent-cache', op: (i) => agentCached(parsed[i % parsed.length]!) },
    ],
    STEADY,
  );
  target(
    'agent-cache / p-memoize+lru-cache, fresh argument objects (informational)',
    fresh.ratios['agent-cache']!,
    0.6,
  );

  // Events: publishing must cost nothing measurable while no one listens (the first table's agent-cache row is that
  // case); with a listener on the hit channel, each hit builds and publishes one message.
  let heard = 0;
  let stop: (() => void) | undefined;
  const listened = await compare(
    'Hit with a listener on agent-cache:hit (events), against no listener',
    [
      { name: 'agent-cache, no listener', op: (i) => agentCached(queries[i % KEYS]!) },
      {
        name: 'agent-cache, hit listener',
        op: (i) => agentCached(queries[i % KEYS]!),
        setup: () => {
          stop = subscribeAgentCache('hit', () => {
            heard++;
          });
        },
        teardown: () => stop?.(),
      },
      { name: 'p-memoize + lru-cache', op: (i) => pMemoized(queries[i % KEYS]!) },
    ],
    STEADY,
  );
  if (heard === 0) throw new Error('the hit listener heard nothing');
  target(
    'agent-cache with a hit listener / without (informational)',
    listened.ratios['agent-cache, hit listener']!,
    1.3,
  );

  // The same hit inside a session (global-scope and session-scope tools), against the plain global hit.
  const session = new AgentCacheSession({ sessionId: 'bench' });
  await session.run(async () => {
    for (const q of queries) await sessionCached(q);
    await compare('Hit inside a session', [
      { name: 'global tool, no session', op: (i) => agentCached(queries[i % KEYS]!) },
      { name: 'global tool, in session', op: (i) => agentCached(queries[i % KEYS]!) },
      { name: 'session-scoped tool', op: (i) => sessionCached(queries[i % KEYS]!) },
    ]);
  });
  await session.end();
}
