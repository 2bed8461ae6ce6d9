import { AgentLoopDetectedError, describeLoop } from '../loop/errors.js';
import type { LoopDetection, LoopMode } from '../loop/types.js';
import type { Counters } from '../metrics/counters.js';
import type { AgentCacheSession } from '../session/session.js';

/** What a checked call does next: run (undefined), fail with the error, or answer from the cache. */
export type GateVerdict = undefined | AgentLoopDetectedError | 'short_circuit';

/**
 * Records the call in the session's loop history and applies `onLoop` to a detection. Every detection counts in
 * `loopDetections`, whatever the mode.
 */
export function loopGate(
  session: AgentCacheSession,
  toolName: string,
  key: string | undefined,
  write: boolean,
  resources: readonly string[],
  args: readonly unknown[],
  depth: number,
  globalCounters: Counters,
): GateVerdict {
  const loop = session.loop!;
  const hit = loop.observe(toolName, key, write, resources, depth);
  if (hit === undefined) return undefined;
  globalCounters.loopDetections++;
  session.metrics.tool(toolName).loopDetections++;
  const detection: LoopDetection = { ...hit, toolName, args, sessionId: session.sessionId };
  const mode = resolveMode(loop.options.onLoop, detection, session);
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

/** Reports how a checked call settled (a success resets the tool's consecutive failures). */
export function trackOutcome<T>(session: AgentCacheSession, toolName: string, promise: Promise<T>): Promise<T> {
  return promise.then(
    (value) => {
      session.loop?.settled(toolName, true);
      return value;
    },
    (error: unknown) => {
      session.loop?.settled(toolName, false);
      throw error;
    },
  );
}
