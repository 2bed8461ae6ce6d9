/**
 * Memory: the heap stays bounded however long the process runs. Each measurement runs in a child process of its own
 * started with `--expose-gc` (the heap is measured after full collections, in a process doing nothing else):
 * - distinct calls: a global read tool on MemoryBackend({ maxEntries }) called with ever new arguments;
 * - ended sessions: sessions with loop detection storing, hitting and invalidating session-scoped entries, all alive
 *   at once and then ended, and one after another; after the end the heap must come back;
 * - a long session with loop detection, catching stuck-agent bursts in `onLoop: 'warn'` mode.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPrefix, probeRedis, REDIS_URL } from '../test/backends/fixtures/redis.js';
import { Child } from './lib/child.js';
import type { MemoryRequest } from './memory/child.js';
import type { DistinctFigures } from './memory/distinct.js';
import type { LoopFigures } from './memory/loop.js';
import type { SessionFigures } from './memory/sessions.js';
import { type Scenario, type ScenarioSize, table } from './scenario.js';

const SIZES: Record<
  ScenarioSize,
  { calls: number; maxEntries: number; sessions: number; persistentSessions: number; loopCalls: number }
> = {
  ci: { calls: 200_000, maxEntries: 2_000, sessions: 2_000, persistentSessions: 200, loopCalls: 50_000 },
  full: {
    calls: 1_000_000,
    maxEntries: 10_000,
    sessions: 10_000,
    persistentSessions: 10_000,
    loopCalls: 100_000,
  },
};
/** Growth allowed once a run has reached its steady state: GC noise, not a leak (a leak grows with the calls). */
const PLATEAU_SLACK = 1 << 20;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const n = (x: number) => x.toLocaleString('en');

async function measure<T>(request: MemoryRequest): Promise<T> {
  const child = await Child.start<MemoryRequest, T>(new URL('./memory/child.ts', import.meta.url), {
    execArgv: ['--expose-gc'],
  });
  try {
    return await child.request(request);
  } finally {
    await child.close();
  }
}

/** The point at `calls` or the first after it. */
const pointAt = <P extends { calls: number }>(points: readonly P[], calls: number): P =>
  points.find((p) => p.calls >= calls) ?? points[points.length - 1]!;

const scenario: Scenario = {
  id: 'memory',
  title: 'Memory: bounded heap for distinct calls, ended sessions and a long loop-detecting session',
  async run(size) {
    const s = SIZES[size];
    const distinct = await measure<DistinctFigures>({
      kind: 'distinct',
      calls: s.calls,
      maxEntries: s.maxEntries,
    });
    const alive = await measure<SessionFigures>({ kind: 'sessions', sessions: s.sessions, shape: 'alive' });
    const serial = await measure<SessionFigures>({ kind: 'sessions', sessions: s.sessions, shape: 'serial' });
    // The same sessions one after another on the persistent backends: their entries are not in this heap, so what
    // the process keeps of ended sessions shows alone.
    const redis = await probeRedis();
    const dir = mkdtempSync(join(tmpdir(), 'agent-cache-stress-memory-'));
    const prefix = `agent-cache-stress-memory-${process.pid}-${randomBytes(4).toString('hex')}:`;
    const persistent: { name: string; figures: SessionFigures }[] = [];
    try {
      const sessions = s.persistentSessions;
      persistent.push({
        name: 'DiskBackend',
        figures: await measure<SessionFigures>({
          kind: 'sessions',
          sessions,
          shape: 'serial',
          backend: { kind: 'disk', path: join(dir, 'sessions.sqlite') },
        }),
      });
      if (redis) {
        persistent.push({
          name: 'RedisBackend',
          figures: await measure<SessionFigures>({
            kind: 'sessions',
            sessions,
            shape: 'serial',
            backend: { kind: 'redis', prefix },
          }),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (redis) await dropPrefix(prefix);
    }
    const loop = await measure<LoopFigures>({ kind: 'loop', calls: s.loopCalls });

    // Distinct calls: steady from half-way (the key memo is full well before), far below an unevicted cache.
    const atBound = distinct.points[0]!;
    const half = pointAt(distinct.points, s.calls / 2);
    const last = distinct.points[distinct.points.length - 1]!;
    const perEntry = atBound.retained / s.maxEntries;
    const unevicted = perEntry * s.calls;
    const distinctGrowth = last.retained - half.retained;
    const distinctOk =
      distinct.points.every((p) => p.entries === s.maxEntries) &&
      distinctGrowth < PLATEAU_SLACK + 0.1 * half.retained &&
      last.retained < 0.2 * unevicted;

    // Ended sessions: nothing of theirs held, and the heap back to within a quarter of what they held alive.
    const persistentOk = persistent.every(
      ({ figures: f }) => f.entriesAfter === 1 && f.sessionsHeldByBackend === 0 && f.sessionsReachable === 0,
    );
    const sessionsOk = [alive, serial].every(
      (f) =>
        f.entriesAfter === 1 &&
        f.sessionsHeldByBackend === 0 &&
        f.sessionsReachable === 0 &&
        f.endedRetained < 0.25 * alive.liveRetained,
    );

    // The long session: steady once every document has been seen (a fifth of a full run).
    const settled = pointAt(loop.points, 20_000);
    const loopLast = loop.points[loop.points.length - 1]!;
    const loopGrowth = loopLast.retained - settled.retained;
    const loopOk =
      loop.points.every((p) => p.history <= 50 && p.tracked <= 256) &&
      loopGrowth < PLATEAU_SLACK + 0.1 * settled.retained &&
      loop.detections > 0;

    const markdown = [
      `**${n(s.calls)} distinct calls at \`maxEntries\` ${n(s.maxEntries)}.** One global read tool on \`MemoryBackend({ maxEntries: ${n(s.maxEntries)} })\`, each call with new arguments (a small object) and an 80-byte value: every call a miss and a store, the least recently used entry evicted. Heap retained (after \`gc()\`, minus the heap before the backend and the tool were made):`,
      '',
      table([
        ['calls', 'entries held', 'heap retained'],
        ...distinct.points.map((p) => [n(p.calls), n(p.entries), mb(p.retained)]),
      ]),
      '',
      `Heap before: ${mb(distinct.before)}; after ${n(s.calls)} calls: ${mb(distinct.before + last.retained)} (${mb(last.retained)} retained, ${(last.retained / atBound.retained).toFixed(1)}× the heap at the bound; from half-way to the end: ${distinctGrowth >= 0 ? '+' : ''}${mb(distinctGrowth)}). An unevicted cache would hold ~${mb(unevicted)} (${Math.round(perEntry)} bytes per entry at the bound × ${n(s.calls)}). What grows past the bound is the tool's key memo, which is sized by the backend's bound (the power of two at or above 1.15 × \`maxEntries\`) and then stays at that size.`,
      '',
      `**${n(s.sessions)} ended sessions.** Each session (loop detection on) stores ${alive.entriesPerSession} session-scoped entries, hits each once, invalidates one of its resources (session scope), stores it again and reads a global tool: ${n(alive.hits)} hits and ${n(alive.misses)} misses in all. The backend is large enough to hold every session's entries at once (\`maxEntries\` ${n(Math.max(10_000, 2 * s.sessions * alive.entriesPerSession))}).`,
      '',
      table([
        [
          'sessions',
          'heap retained while alive',
          'entries while alive',
          'heap retained after end',
          'entries after',
          'sessions with anything in the backend',
          'session objects still reachable',
        ],
        [
          `${n(s.sessions)} alive at once, then ended`,
          mb(alive.liveRetained),
          n(alive.liveEntries),
          mb(alive.endedRetained),
          `${alive.entriesAfter} (the global entry)`,
          alive.sessionsHeldByBackend,
          `${alive.sessionsReachable} of ${alive.sessionsWatched} watched`,
        ],
        [
          `${n(s.sessions)} one after another (\`AgentCacheSession.run\`)`,
          '—',
          '—',
          mb(serial.endedRetained),
          `${serial.entriesAfter} (the global entry)`,
          serial.sessionsHeldByBackend,
          `${serial.sessionsReachable} of ${serial.sessionsWatched} watched`,
        ],
      ]),
      '',
      `The same sessions one after another on the persistent backends (${n(s.persistentSessions)} each; their entries live in the file or in Redis, so the heap shows only what the process keeps of ended sessions):`,
      '',
      table([
        [
          'backend',
          'heap retained after the sessions ended',
          'per session',
          'entries after',
          'sessions with entries in the backend',
          'session objects still reachable',
        ],
        ...persistent.map(({ name, figures: f }) => [
          name,
          mb(f.endedRetained),
          `${Math.round(f.endedRetained / f.sessions)} bytes`,
          `${f.entriesAfter} (the global entry)`,
          f.sessionsHeldByBackend,
          `${f.sessionsReachable} of ${f.sessionsWatched} watched`,
        ]),
      ]),
      ...(redis ? [] : ['', `**RedisBackend row not run: no Redis at ${REDIS_URL}.**`]),
      '',
      `Heap before: ${mb(alive.before)}. After the end, ${((100 * alive.endedRetained) / alive.liveRetained).toFixed(0)}% of what the live sessions held is still in the heap: the argument keys in the tools' key memos (bounded as above), not entries, values or sessions; on RedisBackend also its memo of tag keys, which remembers up to 100,000 tags (each session-scoped tag of each session is one) and then starts over. (Before this scenario found it, a MemoryBackend kept the entries that had left it reachable through their eviction slot until the clock hand reused the slot: about half of the live figure stayed after the end.)`,
      '',
      `**A ${n(s.loopCalls)}-call session with loop detection.** One session (\`loopDetection: true\`, \`onLoop: 'warn'\`, default window of 50 calls) reads 4,000 documents in turn through a global tool (the cache holds 1,000), reads 200 recurring items through a session-scoped tool, writes documents (one call in five), and every 1,000 steps gets stuck: the same call 8 times, then A,B,A,B,… 8 calls; half-way between, a tool fails 4 times running. ${n(loop.bursts)} bursts, ${n(loop.detections)} loop detections.`,
      '',
      table([
        [
          'calls',
          'heap retained',
          'calls in the history',
          'distinct calls and resources tracked',
          'entries held',
        ],
        ...loop.points.map((p) => [n(p.calls), mb(p.retained), p.history, p.tracked, n(p.entries)]),
      ]),
      '',
      `From ${n(settled.calls)} calls (every document seen) to the end: ${loopGrowth >= 0 ? '+' : ''}${mb(loopGrowth)}. The detector keeps the last 50 calls and at most max(256, 4 × window) distinct call identities, whatever the session's length.`,
    ].join('\n');
    return {
      ok: distinctOk && sessionsOk && persistentOk && loopOk,
      markdown,
      figures: {
        calls: s.calls,
        maxEntries: s.maxEntries,
        distinctBefore: distinct.before,
        distinctRetainedAtBound: atBound.retained,
        distinctRetainedAtHalf: half.retained,
        distinctRetained: last.retained,
        distinctEntries: last.entries,
        distinctMinEntries: Math.min(...distinct.points.map((p) => p.entries)),
        distinctUnevicted: unevicted,
        sessions: s.sessions,
        liveRetained: alive.liveRetained,
        liveEntries: alive.liveEntries,
        endedRetained: alive.endedRetained,
        serialRetained: serial.endedRetained,
        entriesAfterEnd: alive.entriesAfter + serial.entriesAfter - 1,
        sessionsHeldByBackend: alive.sessionsHeldByBackend + serial.sessionsHeldByBackend,
        sessionsReachable: alive.sessionsReachable + serial.sessionsReachable,
        sessionsWatched: alive.sessionsWatched + serial.sessionsWatched,
        persistentRuns: persistent.length,
        persistentSessions: s.persistentSessions,
        persistentEntriesAfter: persistent.reduce((sum, p) => sum + p.figures.entriesAfter, 0),
        persistentSessionsHeld: persistent.reduce((sum, p) => sum + p.figures.sessionsHeldByBackend, 0),
        persistentSessionsReachable: persistent.reduce((sum, p) => sum + p.figures.sessionsReachable, 0),
        persistentRetainedMax: Math.max(0, ...persistent.map((p) => p.figures.endedRetained)),
        loopCalls: s.loopCalls,
        loopRetainedSettled: settled.retained,
        loopRetained: loopLast.retained,
        loopMaxHistory: Math.max(...loop.points.map((p) => p.history)),
        loopMaxTracked: Math.max(...loop.points.map((p) => p.tracked)),
        loopDetections: loop.detections,
      },
    };
  },
};

export default scenario;
