import type { Backend } from '../backends/contract.js';
import { AgentCacheTypeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LoopDetection, LoopMode } from '../loop/types.js';

export type OnLoop = LoopMode | ((detection: LoopDetection) => LoopMode);

export interface AgentCacheSessionOptions {
  /** Default: a random UUID. */
  readonly sessionId?: string;
  /** Check every tool call of the session for loops (docs/api.md, "Loop detection"). Default false. */
  readonly loopDetection?: boolean;
  /** A read or write repeated more than this many times is a loop. Default 5. */
  readonly maxToolRepeats?: number;
  /** Wrapped-tool executions nested deeper than this are a loop. Default 50. */
  readonly maxExecutionDepth?: number;
  /** What a detected loop does. Default 'raise'. */
  readonly onLoop?: OnLoop;
  /** Longest cycle looked for (A,B,…). Default 5. */
  readonly maxCyclePeriod?: number;
  /** How many times a cycle must repeat at the tail to be a loop. Default 3. */
  readonly minCycleRepeats?: number;
  /** Consecutive failures of a tool after which its next call is a loop. Default 3. */
  readonly maxConsecutiveFailures?: number;
  /** How many recent calls loop detection remembers. Default 50. */
  readonly historyWindow?: number;
  /** Where this session's warnings go. Default: the configured logger. */
  readonly logger?: Logger;
  /** Backend of this session's session-scoped entries, for tools that do not name one. */
  readonly backend?: Backend;
}

export interface ResolvedLoopOptions {
  readonly maxToolRepeats: number;
  readonly maxExecutionDepth: number;
  readonly onLoop: OnLoop;
  readonly maxCyclePeriod: number;
  readonly minCycleRepeats: number;
  readonly maxConsecutiveFailures: number;
  readonly historyWindow: number;
}

const LOOP_MODES: readonly string[] = ['raise', 'warn', 'short_circuit'];

/** Validates the loop thresholds; a bad one is a TypeError naming it. */
export function resolveLoopOptions(options: AgentCacheSessionOptions): ResolvedLoopOptions {
  const onLoop = options.onLoop ?? 'raise';
  if (typeof onLoop !== 'function' && !LOOP_MODES.includes(onLoop)) {
    throw new AgentCacheTypeError(
      `AgentCacheSession: option \`onLoop\` must be 'raise', 'warn', 'short_circuit' or a function, got ${JSON.stringify(onLoop)}`,
    );
  }
  const resolved: ResolvedLoopOptions = {
    maxToolRepeats: threshold(options.maxToolRepeats, 5, 'maxToolRepeats', 1),
    maxExecutionDepth: threshold(options.maxExecutionDepth, 50, 'maxExecutionDepth', 1),
    onLoop,
    maxCyclePeriod: threshold(options.maxCyclePeriod, 5, 'maxCyclePeriod', 2),
    minCycleRepeats: threshold(options.minCycleRepeats, 3, 'minCycleRepeats', 2),
    maxConsecutiveFailures: threshold(options.maxConsecutiveFailures, 3, 'maxConsecutiveFailures', 1),
    historyWindow: threshold(options.historyWindow, 50, 'historyWindow', 1),
  };
  return resolved;
}

function threshold(value: number | undefined, fallback: number, option: string, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new AgentCacheTypeError(
      `AgentCacheSession: option \`${option}\` must be an integer >= ${min}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}
