import { currentTick } from '../loop/clock.js';
import { AgentLoopDetectedError, describeLoop } from '../loop/errors.js';
import type { LoopDetection, LoopMode } from '../loop/types.js';
import type { Counters } from '../metrics/counters.js';
import { loopChannel } from '../observe/channels.js';
import { publishLoop } from '../observe/publish.js';
import type { AgentCacheSession } from '../session/session.js';
import type { ResourceResolver } from './options.js';

/** What a checked call does next: run (undefined), fail with the error, or answer from the cache. */
export type GateVerdict = undefined | AgentLoopDetectedError | 'short_circuit';

/**
 * Records the call in the session's loop history and applies `onLoop` to a detection. Every detection counts in
 * `loopDetections`, whatever the mode. `resources` (with `thisArg`) resolves a read's resources, only when the
 * repeat rule needs them (undefined for a write); a resolver that throws just means no reset on invalidation for
 * this call (the miss path reports the error). No closure is made per call: this is the hit path.
 */
export function loopGate(
  session: AgentCacheSession,
  toolName: string,
  key: string | undefined,
  args: readonly unknown[],
  depth: number,
  globalCounters: Counters,
  resources?: ResourceResolver,
  thisArg?: unknown,
): GateVerdict {
  // A call still running in the async context of an ended session: its history is gone, nothing to check.
  if (session.ended) return undefined;
  const loop = session.loop!;
  const hit = loop.observe(toolName, key, depth, resources, thisArg, args);
  if (hit === undefined) return undefined;
  globalCounters.loopDetections++;
  session.metrics.tool(toolName).loopDetections++;
  const detection: LoopDetection = { ...hit, toolName, args, sessionId: session.sessionId };
  const mode = resolveMode(loop.options.onLoop, detection, session);
  if (loopChannel.hasSubscribers) publishLoop(toolName, key, session.sessionId, hit.kind, hit.count, mode);
  if (mode === 'raise') return new AgentLoopDetectedError(detection);
  if (mode === 'short_circuit') return 'short_circuit';
  session.logger.warn(`agent-cache: ${describeLoop(detection)}`, detection);
  return undefined;
}

function resolveMode(
  onLoop: LoopMode | ((d: LoopDetection) => LoopMode),
  detection: LoopDetection,
  session: AgentCacheSession,
): LoopMode {
  if (typeof onLoop !== 'function') return onLoop;
  try {
    const mode = onLoop(detection);
    if (mode === 'raise' || mode === 'warn' || mode === 'short_circuit') return mode;
    session.logger.warn(`agent-cache: onLoop returned ${JSON.stringify(mode)}; raising`);
  } catch (error) {
    session.logger.warn('agent-cache: onLoop threw; raising', error);
  }
  return 'raise';
}

/** A call the gate let through was answered synchronously from the cache: a success, known without waiting. */
export function settledHit(session: AgentCacheSession, toolName: string): void {
  session.loop?.settled(toolName, 0, true);
}

/**
 * Reports how a checked call settled (a success resets the tool's consecutive failures). Called right after the
 * gate let the call through; the tick read now tells coalesced callers of one failed execution from retries.
 */
export function trackOutcome<T>(
  session: AgentCacheSession,
  toolName: string,
  promise: Promise<T>,
): Promise<T> {
  const startedAt = currentTick();
  return promise.then(
    (value) => {
      if (!session.ended) session.loop?.settled(toolName, startedAt, true);
      return value;
    },
    (error: unknown) => {
      // A call that settles after end() must not leave anything behind in the cleared detector.
      if (!session.ended) session.loop?.settled(toolName, startedAt, false, error);
      throw error;
    },
  );
}
