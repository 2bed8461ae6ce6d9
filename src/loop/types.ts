export type LoopKind = 'repeat' | 'oscillation' | 'retry_storm' | 'depth';

/** What a detected loop does: throw, log and run anyway, or skip the tool and answer from the cache. */
export type LoopMode = 'raise' | 'warn' | 'short_circuit';

/** One detected loop, as given to an `onLoop` handler and carried by `AgentLoopDetectedError`. */
export interface LoopDetection {
  readonly kind: LoopKind;
  readonly toolName: string;
  readonly args: readonly unknown[];
  readonly sessionId: string;
  /** Identical calls (repeat), cycle repetitions (oscillation), consecutive failures (retry_storm), depth (depth). */
  readonly count: number;
  /** The tool names of one period (oscillation only). */
  readonly cycle?: readonly string[];
}
