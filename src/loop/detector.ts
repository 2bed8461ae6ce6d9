import type { ResolvedLoopOptions } from '../session/options.js';
import { CallHistory } from './history.js';
import { depthRule, oscillationRule, type RuleHit, repeatRule, retryStormRule } from './rules.js';

/** One session's loop detector: the bounded call history, consecutive failures, and invalidation marks. */
export class LoopDetector {
  readonly options: ResolvedLoopOptions;
  readonly #history: CallHistory;
  readonly #failures = new Map<string, number>();
  /** Sequence number of the newest call when each resource was last invalidated in this session. */
  readonly #invalidatedAt = new Map<string, number>();
  #lastSeq = 0;

  constructor(options: ResolvedLoopOptions) {
    this.options = options;
    this.#history = new CallHistory(options.historyWindow);
  }

  /** Calls currently remembered (never more than `historyWindow`). */
  get historySize(): number {
    return this.#history.size;
  }

  /**
   * Records a call about to run and returns the loop it makes, if any. `key` is the canonical identity of the call
   * (undefined when its arguments have none), `resources` those of a read (for the reset on invalidation), `depth`
   * the nesting the call would run at.
   */
  observe(
    toolName: string,
    key: string | undefined,
    write: boolean,
    resources: readonly string[],
    depth: number,
  ): RuleHit | undefined {
    const o = this.options;
    const slot = this.#history.push(toolName, key);
    this.#lastSeq = slot.seq;
    const hit =
      depthRule(depth, o.maxExecutionDepth) ??
      retryStormRule(this.#failures.get(toolName) ?? 0, o.maxConsecutiveFailures) ??
      oscillationRule(this.#history, o.maxCyclePeriod, o.minCycleRepeats);
    if (hit !== undefined || slot.id === null) return hit;
    return repeatRule(slot.id, write ? 0 : this.#lastInvalidation(resources), o.maxToolRepeats);
  }

  /** A call of the tool settled: a success resets its failure count. */
  settled(toolName: string, ok: boolean): void {
    if (ok) this.#failures.delete(toolName);
    else this.#failures.set(toolName, (this.#failures.get(toolName) ?? 0) + 1);
  }

  /** Resources were invalidated: earlier identical reads of them no longer count as repeats. */
  invalidated(resources: readonly string[]): void {
    for (const r of resources) {
      this.#invalidatedAt.delete(r);
      this.#invalidatedAt.set(r, this.#lastSeq);
    }
    // Marks older than the whole window can no longer matter: keep the map bounded too.
    const horizon = this.#lastSeq - this.options.historyWindow;
    for (const [r, seq] of this.#invalidatedAt) {
      if (seq >= horizon) break;
      this.#invalidatedAt.delete(r);
    }
  }

  clear(): void {
    this.#history.clear();
    this.#failures.clear();
    this.#invalidatedAt.clear();
  }

  #lastInvalidation(resources: readonly string[]): number {
    let since = 0;
    for (const r of resources) {
      const seq = this.#invalidatedAt.get(r);
      if (seq !== undefined && seq > since) since = seq;
    }
    return since;
  }
}
