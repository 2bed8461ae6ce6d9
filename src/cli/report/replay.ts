import type { Logger } from '../../logger.js';
import type { LoopKind } from '../../loop/types.js';
import { AgentCacheSession } from '../../session/session.js';
import { AgentCache } from '../../tool/agent-cache.js';
import { AgentCacheInvalidator } from '../../tool/agent-cache-invalidator.js';
import { RecordingBackend } from './recording-backend.js';
import type { TraceCall } from './trace.js';

/** What happened to one call in the replay. */
export const Outcome = {
  /** A read answered from the replayed cache. */
  Hit: 0,
  /** A read that executed and stored its result. */
  Miss: 1,
  /** A read that executed and failed (nothing stored). */
  MissFailed: 2,
  Write: 3,
  WriteFailed: 4,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface ToolFigures {
  kind: 'read' | 'write' | 'read and write';
  calls: number;
  hits: number;
  /** Sum of the `durationMs` of this tool's lines replayed as hits. */
  savedMs: number;
  executions: number;
  /** Sum of the `durationMs` of this tool's lines that executed. */
  spentMs: number;
  failures: number;
}

export interface LoopRecord {
  readonly line: number;
  readonly session: string;
  readonly kind: LoopKind;
  /** The tool of the call on that line. */
  readonly tool: string;
  /** Repeats, cycle repetitions or consecutive failures, as the detector counted them. */
  readonly count: number;
}

export interface InvalidationRecord {
  readonly line: number;
  readonly session: string;
  /** The write tool. */
  readonly tool: string;
  readonly resources: readonly string[];
  readonly scope: 'global' | 'session';
  /** Stored entries this write made stale, by the read tool that stored them. */
  readonly invalidated: ReadonlyMap<string, number>;
}

/** One row per call, column-wise (a long trace is millions of calls). */
export interface Timeline {
  readonly lines: number[];
  readonly sessions: number[];
  readonly tools: number[];
  readonly outcomes: Outcome[];
}

export interface ReplayReport {
  readonly calls: number;
  readonly reads: number;
  readonly executions: number;
  readonly avoided: number;
  readonly hitRate: number;
  readonly savedMs: number;
  /** Sum of `durationMs` over every call: the run's time in tools as recorded. */
  readonly recordedMs: number;
  readonly loops: readonly LoopRecord[];
  /** Every tool of the trace, in order of first appearance. */
  readonly tools: ReadonlyMap<string, ToolFigures>;
  /** Session ids in order of first appearance (`timeline.sessions` indexes this). */
  readonly sessions: readonly string[];
  /** Tool names in order of first appearance (`timeline.tools` indexes this). */
  readonly toolNames: readonly string[];
  readonly timeline: Timeline;
  readonly invalidations: readonly InvalidationRecord[];
}

/** The error a replayed call throws: the trace's `error` text. */
// plain Error on purpose: it stands for the recorded tool's own error, which is never agent-cache's
class RecordedError extends Error {}

const silent: Logger = { warn() {} };

/**
 * Replays a trace through the library itself: every line is a call of a tool wrapped with `AgentCache` (reads) or
 * `AgentCacheInvalidator` (writes), inside an `AgentCacheSession` per session id with loop detection on in `warn`
 * mode (the default limits), over one in-memory backend. The wrapped function does not sleep: it returns at once,
 * or throws the recorded error, and the report counts whether it ran. So hits, misses, invalidations and loops are
 * exactly what agent-cache would do with that run, and `savedMs` is what those hits saved as recorded.
 *
 * Two choices make the library follow the replay rules exactly: the backend has no practical bounds (the rules
 * know no LRU eviction), and `savedMs` adds up the recorded `durationMs` of the lines that hit (the library's own
 * `savedMs` would use the measured time of the replayed miss, which here is nothing).
 */
export async function replay(calls: AsyncIterable<TraceCall> | Iterable<TraceCall>): Promise<ReplayReport> {
  const backend = new RecordingBackend();
  const sessions = new Map<string, AgentCacheSession>();
  const wrapped = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const tools = new Map<string, ToolFigures>();
  const toolIndex = new Map<string, number>();
  const sessionIndex = new Map<string, number>();
  const loops: LoopRecord[] = [];
  const invalidations: InvalidationRecord[] = [];
  const timeline: Timeline = { lines: [], sessions: [], tools: [], outcomes: [] };
  let current: TraceCall | undefined;
  let executed = false;
  const counts = { calls: 0, reads: 0, executions: 0, avoided: 0, savedMs: 0, recordedMs: 0 };

  // The tool body: it ran (a miss, or a write) and ends as recorded.
  async function execute(): Promise<unknown> {
    executed = true;
    if (current!.error !== undefined) throw new RecordedError(current!.error);
    return current!.line;
  }
  const resources = () => current!.resources;

  const toolFor = (call: TraceCall) => {
    const id = `${call.kind}\0${call.scope}\0${call.tool}`;
    let tool = wrapped.get(id);
    if (tool === undefined) {
      const options = { name: call.tool, scope: call.scope, backend, resource: resources };
      tool = call.kind === 'read' ? AgentCache(options)(execute) : AgentCacheInvalidator(options)(execute);
      wrapped.set(id, tool);
    }
    return tool;
  };

  const sessionFor = (id: string) => {
    let session = sessions.get(id);
    if (session === undefined) {
      session = new AgentCacheSession({
        sessionId: id,
        loopDetection: true,
        logger: silent,
        onLoop: (detection) => {
          const call = current!;
          loops.push({
            line: call.line,
            session: call.session,
            kind: detection.kind,
            tool: call.tool,
            count: detection.count,
          });
          return 'warn';
        },
      });
      sessions.set(id, session);
    }
    return session;
  };

  try {
    for await (const call of calls) {
      current = call;
      executed = false;
      backend.label = call.tool;
      backend.invalidated = [];
      const session = sessionFor(call.session);
      let failed = false;
      try {
        // Wrapped inside the session, so that any wrap-time warning goes to its silent logger.
        await session.run(() => toolFor(call)(...call.args));
      } catch (error) {
        if (!(error instanceof RecordedError)) throw error;
        failed = true;
      }
      const figures = figuresOf(tools, call);
      figures.calls++;
      counts.calls++;
      counts.recordedMs += call.durationMs;
      let outcome: Outcome;
      if (call.kind === 'read') {
        counts.reads++;
        if (executed) {
          outcome = failed ? Outcome.MissFailed : Outcome.Miss;
        } else {
          outcome = Outcome.Hit;
          counts.avoided++;
          counts.savedMs += call.durationMs;
          figures.hits++;
          figures.savedMs += call.durationMs;
        }
      } else {
        outcome = failed ? Outcome.WriteFailed : Outcome.Write;
        invalidations.push({
          line: call.line,
          session: call.session,
          tool: call.tool,
          resources: call.resources,
          scope: call.scope,
          invalidated: tally(backend.invalidated),
        });
      }
      if (executed) {
        counts.executions++;
        figures.executions++;
        figures.spentMs += call.durationMs;
        if (failed) figures.failures++;
      }
      timeline.lines.push(call.line);
      timeline.sessions.push(indexOf(sessionIndex, call.session));
      timeline.tools.push(indexOf(toolIndex, call.tool));
      timeline.outcomes.push(outcome);
    }
  } finally {
    current = undefined;
    for (const session of sessions.values()) await session.end();
    await backend.close();
  }
  return {
    ...counts,
    hitRate: counts.reads === 0 ? 0 : counts.avoided / counts.reads,
    loops,
    tools,
    sessions: [...sessionIndex.keys()],
    toolNames: [...toolIndex.keys()],
    timeline,
    invalidations,
  };
}

function figuresOf(tools: Map<string, ToolFigures>, call: TraceCall): ToolFigures {
  let figures = tools.get(call.tool);
  if (figures === undefined) {
    figures = { kind: call.kind, calls: 0, hits: 0, savedMs: 0, executions: 0, spentMs: 0, failures: 0 };
    tools.set(call.tool, figures);
  } else if (figures.kind !== call.kind) {
    figures.kind = 'read and write';
  }
  return figures;
}

function indexOf(index: Map<string, number>, name: string): number {
  let i = index.get(name);
  if (i === undefined) {
    i = index.size;
    index.set(name, i);
  }
  return i;
}

function tally(labels: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const label of labels) out.set(label, (out.get(label) ?? 0) + 1);
  return out;
}
