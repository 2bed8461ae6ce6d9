import type { CallHistory } from './history.js';
import type { LoopKind } from './types.js';

export interface RuleHit {
  readonly kind: LoopKind;
  readonly count: number;
  readonly cycle?: readonly string[];
}

/** `depth`: the call would run nested deeper than the limit. */
export function depthRule(depth: number, maxExecutionDepth: number): RuleHit | undefined {
  return depth > maxExecutionDepth ? { kind: 'depth', count: depth } : undefined;
}

/** `retry_storm`: the tool's last `max` calls all failed. */
export function retryStormRule(consecutiveFailures: number, max: number): RuleHit | undefined {
  return consecutiveFailures >= max ? { kind: 'retry_storm', count: consecutiveFailures } : undefined;
}

/**
 * `repeat`: occurrences of this identical call in the window (this one included), counting for a read only those
 * after `since` (the tick of the last invalidation of one of its resources; 0 for writes, whose repeats always
 * count). `inWindow` is the count over the whole window, kept by the history, so the common case costs nothing and
 * only a call already over the limit walks the window to apply `since`.
 */
export function repeatRule(
  history: CallHistory,
  inWindow: number,
  since: number,
  maxToolRepeats: number,
): RuleHit | undefined {
  if (inWindow <= maxToolRepeats) return undefined;
  const count = since === 0 || since < history.oldestTick ? inWindow : history.countNewestSince(since);
  return count > maxToolRepeats ? { kind: 'repeat', count } : undefined;
}

/**
 * `oscillation`: the newest calls end in a block of p (2..maxPeriod) identical calls, not all the same, repeated at
 * least `minRepeats` times. Calls are compared by identity. Per period p it looks at p·minRepeats calls (and
 * walks further back only once a loop is found, to report how many times the cycle ran), so a call costs
 * O(maxPeriod² · minRepeats) at worst, whatever the session's length.
 */
export function oscillationRule(
  history: CallHistory,
  maxPeriod: number,
  minRepeats: number,
): RuleHit | undefined {
  const size = history.size;
  const newest = history.idAt(0);
  if (newest <= 0) return undefined; // a call with no key is never part of a cycle
  for (let p = 2; p <= maxPeriod; p++) {
    const needed = p * minRepeats;
    if (size < needed) return undefined;
    if (history.idAt(p) !== newest) continue; // the cheap test that rejects almost every call
    if (matchRun(history, p, needed - p) < needed - p || !varied(history, p)) continue;
    const matched = matchRun(history, p, size - p);
    const cycle: string[] = [];
    for (let i = p - 1; i >= 0; i--) cycle.push(history.toolAt(i)!);
    return { kind: 'oscillation', count: Math.floor((matched + p) / p), cycle };
  }
  return undefined;
}

/** How many of the newest calls (up to `limit`) equal the call p steps before them. */
function matchRun(history: CallHistory, p: number, limit: number): number {
  let matched = 0;
  while (matched < limit) {
    const a = history.idAt(matched);
    if (a === 0 || a !== history.idAt(matched + p)) break;
    matched++;
  }
  return matched;
}

/** The block of the newest p calls has no shorter period (else it is a repeat or a shorter cycle). */
function varied(history: CallHistory, p: number): boolean {
  for (let q = 1; q < p; q++) {
    if (p % q !== 0) continue;
    let periodic = true;
    for (let i = 0; i + q < p && periodic; i++) periodic = history.idAt(i) === history.idAt(i + q);
    if (periodic) return false;
  }
  return true;
}
