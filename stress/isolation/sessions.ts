/**
 * Concurrent sessions on one backend never see each other's session-scoped entries or metrics, and an ended
 * session's entries are gone. Sessions with ids made to look alike (separators, quotes, braces, glob characters,
 * a NUL, unicode) call one session-scoped tool with the same arguments, concurrently; each also invalidates its own
 * items now and then (session scope). Every session knows exactly which of its calls must hit: a value from another
 * session, a hit where there must be a miss or the reverse (another session's entry or invalidation reaching it), or
 * counters that are not its own calls, is a failure. Then half the sessions end while the others live on.
 */
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  MemoryBackend,
} from '../../src/index.js';
import { type BackendKind, entriesBySession, openBackend, redisKeys } from './backends.js';

export interface SessionCounts {
  readonly backend: BackendKind;
  readonly sessions: number;
  calls: number;
  /** Reads that hit and missed, as every session expected them (the checks below are not vacuous). */
  hits: number;
  misses: number;
  /** A result carrying another session's id, or another item. */
  leaks: number;
  /** Calls that hit where they had to miss, or missed where they had to hit. */
  wrongOutcomes: number;
  /** Sessions whose getMetrics() were not exactly their own calls. */
  metricMismatches: number;
  /** After half the sessions ended: entries of ended sessions still held (stale ones included). */
  endedEntriesLeft: number;
  /** Hits served to a new session with an ended session's id (its entries should be gone). */
  hitsAfterEnd: number;
  /** Live sessions' cached items that missed after the other sessions ended. */
  liveLost: number;
  /** After every session ended: session entries (and, on Redis, session indexes) still held. */
  leftAtEnd: number;
}

/** Session ids that differ by what key encodings are made of. */
const ID_FORMS = [
  (i: number) => `${i}`,
  (i: number) => `${i}"`,
  (i: number) => `${i}:`,
  (i: number) => `${i}\u0000x`,
  (i: number) => `${i}{}`,
  (i: number) => `${i}*?[`,
  (i: number) => `s"${i}","g`,
  (i: number) => `${i}\\`,
  (i: number) => `sess ${i}`,
  (i: number) => `セッション${i}`,
];
const sessionId = (i: number) => ID_FORMS[i % ID_FORMS.length]!(Math.floor(i / ID_FORMS.length));
/** The same arguments in every session, made to look like key material. */
const TEXT = 's"0","g{}:*';

/** A small deterministic generator (the runs are reproducible). */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function tools(backend: Backend) {
  const runs = new Map<string, number>();
  const mine = AgentCache({
    name: 'isolation.mine',
    scope: 'session',
    backend,
    resource: (item: number) => `item:${item}`,
  })(async (item: number, text: string) => {
    const owner = AgentCacheSession.current()!.sessionId;
    runs.set(owner, (runs.get(owner) ?? 0) + 1);
    return { owner, item, text };
  });
  const edit = AgentCacheInvalidator({
    name: 'isolation.edit',
    scope: 'session',
    backend,
    resource: (item: number) => `item:${item}`,
  })(async (_item: number) => {});
  return { mine, edit, runs };
}

type Tools = ReturnType<typeof tools>;

/** One session's state as the session itself knows it: which items it has cached, what it expects. */
class Agent {
  readonly cached = new Set<number>();
  hits = 0;
  misses = 0;
  writes = 0;
  readonly session: AgentCacheSession;

  constructor(
    readonly index: number,
    readonly t: Tools,
    readonly items: number,
    readonly counts: SessionCounts,
  ) {
    this.session = new AgentCacheSession({ sessionId: sessionId(index) });
  }

  /** A read: checks its value and whether it had to hit. */
  async read(item: number): Promise<boolean> {
    const runsBefore = this.t.runs.get(this.session.sessionId) ?? 0;
    const value = await this.t.mine(item, TEXT);
    const ran = (this.t.runs.get(this.session.sessionId) ?? 0) > runsBefore;
    if (value.owner !== this.session.sessionId || value.item !== item || value.text !== TEXT)
      this.counts.leaks++;
    const mustHit = this.cached.has(item);
    if (ran === mustHit) this.counts.wrongOutcomes++;
    if (ran) this.misses++;
    else this.hits++;
    this.cached.add(item);
    return !ran;
  }

  async work(calls: number, seed: number): Promise<void> {
    const next = random(seed);
    await this.session.run(async () => {
      for (let c = 0; c < calls; c++) {
        const item = Math.floor(next() * this.items);
        if (next() < 0.1) {
          await this.t.edit(item);
          this.writes++;
          this.cached.delete(item);
        } else {
          await this.read(item);
        }
        // Let the other sessions' calls interleave with this one's, on any backend.
        if (c % 4 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    });
  }

  metricsMatch(): boolean {
    const m = this.session.getMetrics();
    const tool = m.tools['isolation.mine'];
    return (
      m.hits === this.hits &&
      m.misses === this.misses &&
      m.invalidations === this.writes &&
      tool?.hits === this.hits &&
      tool.misses === this.misses
    );
  }
}

export async function sessionIsolation(
  kind: BackendKind,
  place: string,
  size: { readonly sessions: number; readonly calls: number; readonly items: number },
): Promise<SessionCounts> {
  const counts: SessionCounts = {
    backend: kind,
    sessions: size.sessions,
    calls: 0,
    hits: 0,
    misses: 0,
    leaks: 0,
    wrongOutcomes: 0,
    metricMismatches: 0,
    endedEntriesLeft: 0,
    hitsAfterEnd: 0,
    liveLost: 0,
    leftAtEnd: 0,
  };
  const backend = await openBackend(kind, place);
  try {
    const t = tools(backend);
    const agents = Array.from({ length: size.sessions }, (_, i) => new Agent(i, t, size.items, counts));
    await Promise.all(agents.map((a) => a.work(size.calls, 0x150 + a.index)));
    counts.calls = size.sessions * size.calls;
    counts.metricMismatches = agents.filter((a) => !a.metricsMatch()).length;
    for (const a of agents) {
      counts.hits += a.hits;
      counts.misses += a.misses;
    }

    // Half the sessions end, concurrently, while the other half live on.
    const ended = agents.filter((a) => a.index % 2 === 0);
    const live = agents.filter((a) => a.index % 2 === 1);
    await Promise.all(ended.map((a) => a.session.end()));
    const held = await entriesBySession(backend);
    if (held !== undefined) {
      for (const a of ended) counts.endedEntriesLeft += held.get(a.session.sessionId) ?? 0;
    } else if (backend instanceof MemoryBackend && backend.sessionCount !== live.length) {
      counts.endedEntriesLeft += Math.abs(backend.sessionCount - live.length);
    }
    // A new session under an ended session's id finds nothing.
    await Promise.all(
      ended.map(async (a) => {
        const again = new Agent(a.index, t, size.items, counts);
        await again.session.run(async () => {
          for (let item = 0; item < size.items; item++) if (await again.read(item)) counts.hitsAfterEnd++;
        });
        await again.session.end();
      }),
    );
    // The live ones still have everything they cached.
    await Promise.all(
      live.map((a) =>
        a.session.run(async () => {
          for (const item of [...a.cached]) if (!(await a.read(item))) counts.liveLost++;
        }),
      ),
    );
    await Promise.all(live.map((a) => a.session.end()));
    counts.leftAtEnd = await leftAfterAll(backend, kind, place);
  } finally {
    await backend.close();
  }
  return counts;
}

/** What any session still holds once every session ended (only session-scoped tools ran). */
async function leftAfterAll(backend: Backend, kind: BackendKind, place: string): Promise<number> {
  if (backend instanceof MemoryBackend) return backend.size + backend.sessionCount;
  let left = 0;
  for (const [sid, n] of (await entriesBySession(backend)) ?? []) if (sid !== undefined) left += n;
  if (kind === 'redis strict' || kind === 'redis l1') {
    for (const key of (await redisKeys(place)).keys()) if (key.startsWith(`${place}{}s:`)) left++;
  }
  return left;
}
