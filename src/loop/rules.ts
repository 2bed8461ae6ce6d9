import type { CallHistory, CallIdentity } from './history.js';
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
 * `repeat`: occurrences of this identical call in the window (this one included) that happened after `since`
 * (the last invalidation of one of a read tool's resources; 0 for writes, whose repeats always count).
 */
export function repeatRule(id: CallIdentity, since: number, maxToolRepeats: number): RuleHit | undefined {
  const seqs = id.seqs;
  let count = 0;
  for (let i = seqs.length - 1; i >= 0 && seqs[i]! > since; i--) count++;
  return count > maxToolRepeats ? { kind: 'repeat', count } : undefined;
}

/**
 * `oscillation`: the newest calls end in a block of p (2..maxPeriod) identical calls, not all the same, repeated at
 * least `minRepeats` times. Compares identities by reference: O(maxPeriod² · minRepeats) per call.
 */
export function oscillationRule(history: CallHistory, maxPeriod: number, minRepeats: number): RuleHit | undefined {
  for (let p = 2; p <= maxPeriod; p++) {
    const needed = p * minRepeats;
    if (history.size < needed) return undefined;
    let matched = 0;
    while (p + matched < history.size) {
      const a = history.at(matched)!.id;
      if (a === null || a !== history.at(matched + p)!.id) break;
      matched++;
    }
    if (matched + p < needed || !varied(history, p)) continue;
    const cycle: string[] = [];
    for (let i = p - 1; i >= 0; i--) cycle.push(history.at(i)!.toolName);
    return { kind: 'oscillation', count: Math.floor((matched + p) / p), cycle };
  }
  return undefined;
}

/** The block of the newest p calls has no shorter period (else it is a repeat or a shorter cycle). */
function varied(history: CallHistory, p: number): boolean {
  for (let q = 1; q < p; q++) {
    if (p % q !== 0) continue;
    let periodic = true;
    for (let i = 0; i + q < p && periodic; i++) periodic = history.at(i)!.id === history.at(i + q)!.id;
    if (periodic) return false;
  }
  return true;
}
