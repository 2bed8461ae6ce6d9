/**
 * One long session with loop detection: `calls` tool calls (reads over 4 000 documents, more than the cache holds,
 * session-scoped reads that recur, writes, a tool that fails, bursts of identical calls and of A,B,A,B cycles that
 * the detector must catch) in `onLoop: 'warn'` mode. Once every document has been seen (the first fifth of a full
 * run), nothing the session holds may grow: the detector is bounded by its window, whatever the session's length.
 */
import { AgentCache, AgentCacheInvalidator, AgentCacheSession, MemoryBackend } from '../../src/index.js';
import { type HeapPoint, heapUsed, settle } from './heap.js';

export interface LoopFigures {
  readonly before: number;
  readonly points: readonly (HeapPoint & { readonly tracked: number; readonly history: number })[];
  readonly detections: number;
  readonly bursts: number;
  readonly maxEntries: number;
}

const MAX_ENTRIES = 1_000;
/** Documents read and written: 4× the cache, and never twice within the history window (no false repeats). */
const DOCS = 4_000;

export async function longSession(calls: number): Promise<LoopFigures> {
  const backend = new MemoryBackend({ maxEntries: MAX_ENTRIES });
  const lookup = AgentCache({ name: 'memory.loop.lookup', resource: (id: number) => `doc:${id}`, backend })(
    async (id: number) => ({ id, text: `document ${id}` }),
  );
  const recall = AgentCache({
    name: 'memory.loop.recall',
    scope: 'session',
    resource: (id: number) => `doc:${id}`,
    backend,
  })(async (id: number) => ({ id }));
  const save = AgentCacheInvalidator({
    name: 'memory.loop.save',
    resource: (id: number) => `doc:${id}`,
    backend,
  })(async (id: number) => id);
  let failing = 0;
  const flaky = AgentCache({ name: 'memory.loop.flaky', resource: 'flaky', backend })(async (id: number) => {
    if (failing > 0) {
      failing--;
      throw new Error(`flaky ${id}`);
    }
    return id;
  });
  const session = new AgentCacheSession({
    loopDetection: true,
    onLoop: 'warn',
    logger: { warn() {}, error() {} },
  });
  const detector = session.loop!;
  const before = heapUsed();
  const at = new Set(Array.from({ length: 10 }, (_, k) => Math.round(((k + 1) * calls) / 10)));
  const points: LoopFigures['points'][number][] = [];
  let bursts = 0;
  let made = 0;
  const call = async (f: () => Promise<unknown>) => {
    made++;
    try {
      await f();
    } catch {
      // a failing tool: its error is the retry storm's material
    }
    if (at.has(made)) {
      await settle();
      points.push({
        calls: made,
        retained: heapUsed() - before,
        entries: backend.size,
        tracked: detector.trackedEntries,
        history: detector.historySize,
      });
    }
  };
  await session.run(async () => {
    for (let i = 0; made < calls; i++) {
      const phase = i % 1_000;
      if (phase === 0) {
        // A stuck agent: the same call 8 times (repeats from the 6th), then a cycle A,B repeated 4 times.
        bursts++;
        for (let k = 0; k < 8 && made < calls; k++) await call(() => lookup(-1));
        for (let k = 0; k < 8 && made < calls; k++) await call(() => lookup(k % 2 === 0 ? -2 : -3));
      } else if (phase === 500) {
        // A tool failing 4 times in a row (a retry storm from the 4th call), then recovering.
        failing = 4;
        for (let k = 0; k < 5 && made < calls; k++) await call(() => flaky(k));
      } else if (i % 5 === 3) {
        await call(() => save(i % DOCS)); // a write: the next reads of that document miss
      } else if (i % 4 === 1) {
        await call(() => recall(i % 200)); // a session-scoped read of a few recurring items
      } else {
        await call(() => lookup(i % DOCS)); // reads over many documents (more than the cache holds)
      }
    }
  });
  const detections = session.getMetrics().loopDetections;
  await session.end();
  await backend.close();
  return { before, points, detections, bursts, maxEntries: MAX_ENTRIES };
}
