/**
 * Ended sessions give their memory back. Sessions (loop detection on) each store session-scoped entries, hit them,
 * invalidate one of their own resources and call a global tool; then they end. Two shapes:
 * - `alive`: every session is created and used first, all held at once (measured), then all ended;
 * - `serial`: one session after another, each run and ended (`AgentCacheSession.run`), the way a server handles
 *   requests.
 * After the end, the backend must hold no entry and no generation of any session, every session object must be
 * collectable (WeakRefs), and the heap must come back to about where it started.
 */
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  MemoryBackend,
} from '../../src/index.js';
import { entriesBySession, openBackend } from '../isolation/backends.js';
import { heapUsed, settle } from './heap.js';

/** Where the sessions' entries go: the default MemoryBackend, or a persistent backend (the heap is still ours). */
export type SessionBackend =
  | { readonly kind: 'memory' }
  | { readonly kind: 'disk'; readonly path: string }
  | { readonly kind: 'redis'; readonly prefix: string };

export interface SessionFigures {
  readonly sessions: number;
  readonly entriesPerSession: number;
  readonly before: number;
  /** Heap retained while every session was alive (`alive` only; 0 for `serial`). */
  readonly liveRetained: number;
  readonly liveEntries: number;
  /** Heap retained after every session ended. */
  readonly endedRetained: number;
  readonly entriesAfter: number;
  readonly sessionsHeldByBackend: number;
  /** Sessions watched through a WeakRef (one in SAMPLE), and how many of them were still reachable after the end
   * and a full collection. */
  readonly sessionsWatched: number;
  readonly sessionsReachable: number;
  readonly hits: number;
  readonly misses: number;
}

const ENTRIES = 5;
/** One session in this many is watched through a WeakRef (the refs themselves would be counted in the heap). */
const SAMPLE = 10;
const silent = { warn() {}, error() {} };

function tools(backend: Backend) {
  const note = (sessionId: string, item: number) => ({
    sessionId,
    item,
    text: `note ${item}`.padEnd(64, '.'),
  });
  const mine = AgentCache({
    name: 'memory.sessions.mine',
    scope: 'session',
    backend,
    resource: (item: number) => `item:${item}`,
  })(async (item: number) => note(AgentCacheSession.current()!.sessionId, item));
  const shared = AgentCache({ name: 'memory.sessions.shared', resource: 'shared', backend })(
    async (item: number) => ({ item }),
  );
  const edit = AgentCacheInvalidator({
    name: 'memory.sessions.edit',
    scope: 'session',
    backend,
    resource: (item: number) => `item:${item}`,
  })(async (_item: number) => {});
  return { mine, shared, edit };
}

type Tools = ReturnType<typeof tools>;

/** One session's work: ENTRIES entries stored and hit, one of them invalidated and stored again, a global read. */
async function work(t: Tools): Promise<void> {
  for (let item = 0; item < ENTRIES; item++) await t.mine(item);
  for (let item = 0; item < ENTRIES; item++) await t.mine(item);
  await t.edit(0);
  await t.mine(0);
  await t.shared(1);
}

async function open(where: SessionBackend, sessions: number): Promise<Backend> {
  if (where.kind === 'memory')
    return new MemoryBackend({ maxEntries: Math.max(10_000, 2 * sessions * ENTRIES) });
  if (where.kind === 'disk') return openBackend('disk', where.path);
  return openBackend('redis strict', where.prefix);
}

/** Entries held, and sessions with anything held (entries; on memory, tag generations too). */
async function held(backend: Backend): Promise<{ entries: number; sessions: number }> {
  if (backend instanceof MemoryBackend) return { entries: backend.size, sessions: backend.sessionCount };
  const bySession = (await entriesBySession(backend)) ?? new Map();
  let entries = 0;
  for (const n of bySession.values()) entries += n;
  return { entries, sessions: [...bySession.keys()].filter((id) => id !== undefined).length };
}

export async function endedSessions(
  sessions: number,
  shape: 'alive' | 'serial',
  where: SessionBackend = { kind: 'memory' },
): Promise<SessionFigures> {
  const backend = await open(where, sessions);
  const t = tools(backend);
  // Warm up (compiled code and the tools' first allocations are not what is measured), then measure from here.
  await AgentCacheSession.run({ loopDetection: true, logger: silent }, () => work(t));
  await settle();
  const before = heapUsed();
  const refs: WeakRef<AgentCacheSession>[] = [];
  let hits = 0;
  let misses = 0;
  let liveRetained = 0;
  let liveEntries = 0;
  const count = (s: AgentCacheSession) => {
    const m = s.getMetrics();
    hits += m.hits;
    misses += m.misses;
  };
  if (shape === 'alive') {
    let live: AgentCacheSession[] = [];
    for (let i = 0; i < sessions; i++) {
      const session = new AgentCacheSession({
        sessionId: `memory-${i}`,
        loopDetection: true,
        logger: silent,
      });
      await session.run(() => work(t));
      live.push(session);
      if (i % SAMPLE === 0) refs.push(new WeakRef(session));
    }
    await settle();
    liveRetained = heapUsed() - before;
    liveEntries = (await held(backend)).entries;
    for (const session of live) {
      count(session);
      await session.end();
    }
    live = [];
  } else {
    for (let i = 0; i < sessions; i++) {
      await AgentCacheSession.run({ sessionId: `memory-${i}`, loopDetection: true, logger: silent }, (s) => {
        if (i % SAMPLE === 0) refs.push(new WeakRef(s));
        return work(t).then(() => count(s));
      });
    }
  }
  await settle();
  // DiskBackend batches recency updates for up to a second; its timer, made during a hit, keeps that call's async
  // context (the session) alive until it fires. Bounded (one timer), so waited out rather than counted.
  if (where.kind !== 'memory') await new Promise<void>((resolve) => setTimeout(resolve, 1_200));
  const endedRetained = heapUsed() - before;
  const after = await held(backend);
  const figures: SessionFigures = {
    sessions,
    entriesPerSession: ENTRIES,
    before,
    liveRetained,
    liveEntries,
    endedRetained,
    entriesAfter: after.entries,
    sessionsHeldByBackend: after.sessions,
    sessionsWatched: refs.length,
    sessionsReachable: refs.filter((r) => r.deref() !== undefined).length,
    hits,
    misses,
  };
  if (where.kind === 'redis') await backend.clear();
  await backend.close();
  return figures;
}
