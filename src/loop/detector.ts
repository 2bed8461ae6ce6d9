import type { ResolvedLoopOptions } from '../session/options.js';
import { currentTick, enableGlobalMarks, globalMark, nextTick } from './clock.js';
import { CallHistory } from './history.js';
import { depthRule, oscillationRule, type RuleHit, repeatRule, retryStormRule } from './rules.js';

/** Consecutive failures of one tool, and what the newest of them was (to recognise coalesced callers). */
interface FailureRun {
  count: number;
  lastError: unknown;
  /** Newest tick when the last failure settled: a call that started before it may have shared its execution. */
  settledAt: number;
}

/**
 * One session's loop detector: the bounded call history, consecutive failures per tool, and the session-scoped
 * invalidation marks. Every structure is bounded by the window or by the number of tools and resources in play,
 * never by the session's length.
 */
export class LoopDetector {
  readonly options: ResolvedLoopOptions;
  readonly #history: CallHistory;
  readonly #failures = new Map<string, FailureRun>();
  /** Tick of the last session-scoped invalidation of each resource in this session (oldest first). */
  readonly #invalidatedAt = new Map<string, number>();

  constructor(options: ResolvedLoopOptions) {
    this.options = options;
    this.#history = new CallHistory(options.historyWindow);
    enableGlobalMarks();
  }

  /** Calls currently remembered (never more than `historyWindow`). */
  get historySize(): number {
    return this.#history.size;
  }

  /** Distinct calls and resources the detector keeps anything for: bounded by the window, not the session. */
  get trackedEntries(): number {
    return this.#history.trackedIdentities + this.#invalidatedAt.size + this.#failures.size;
  }

  /**
   * Records a call about to run and returns the loop it makes, if any (one per call: depth, then retry_storm,
   * then oscillation, then repeat). `key` is the canonical identity of the call (undefined when its arguments have
   * none), `depth` the nesting the call would run at. `resourcesOf(thisArg, args)` gives a read's resources, for
   * the reset on invalidation; it is only called when the call is already over the repeat limit in the window (so a
   * resource function costs nothing on the hot path), and is undefined for writes, whose repeats always count.
   */
  observe(
    toolName: string,
    key: string | undefined,
    depth: number,
    resourcesOf?: (thisArg: unknown, args: readonly unknown[]) => readonly string[],
    thisArg?: unknown,
    args: readonly unknown[] = [],
  ): RuleHit | undefined {
    const o = this.options;
    const history = this.#history;
    const inWindow = history.push(toolName, key);
    // The common case (no rule close to firing) is decided by a few comparisons, without building anything.
    const hit =
      depth > o.maxExecutionDepth
        ? depthRule(depth, o.maxExecutionDepth)
        : this.#failures.size !== 0 && (this.#failures.get(toolName)?.count ?? 0) >= o.maxConsecutiveFailures
          ? retryStormRule(this.#failures.get(toolName)!.count, o.maxConsecutiveFailures)
          : history.newestRecursWithin(o.maxCyclePeriod)
            ? oscillationRule(history, o.maxCyclePeriod, o.minCycleRepeats)
            : undefined;
    if (hit !== undefined || key === undefined || inWindow <= o.maxToolRepeats) return hit;
    let since = 0;
    if (resourcesOf !== undefined) {
      try {
        since = this.#lastInvalidation(resourcesOf(thisArg, args));
      } catch {
        // No resources known: every identical call in the window counts.
      }
    }
    return repeatRule(history, inWindow, since, o.maxToolRepeats);
  }

  /**
   * A call of the tool settled; `startedAt` is a tick read when it started. A success resets the tool's failure
   * count. A failure adds one, except when it is the very error of the previous failure and the call started before
   * that failure settled: then it was a coalesced caller of the same execution (`Promise.all` of identical calls),
   * and one failed execution is one failure.
   */
  settled(toolName: string, startedAt: number, ok: boolean, error?: unknown): void {
    if (ok) {
      if (this.#failures.size !== 0) this.#failures.delete(toolName);
      return;
    }
    const run = this.#failures.get(toolName);
    if (run === undefined) {
      this.#failures.set(toolName, { count: 1, lastError: error, settledAt: currentTick() });
      return;
    }
    if (error === run.lastError && startedAt <= run.settledAt) return;
    run.count++;
    run.lastError = error;
    run.settledAt = currentTick();
  }

  /** Resources were invalidated in this session only: earlier identical reads of them no longer count as repeats. */
  invalidated(resources: readonly string[]): void {
    const at = nextTick();
    for (const r of resources) {
      this.#invalidatedAt.delete(r);
      this.#invalidatedAt.set(r, at);
    }
    // A mark older than every remembered call can no longer matter: drop it, so the map stays bounded too.
    const horizon = this.#history.oldestTick;
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

  /** Tick of the newest invalidation (session or global) of any of the resources; 0 when none. */
  #lastInvalidation(resources: readonly string[]): number {
    let since = 0;
    for (const r of resources) {
      const local = this.#invalidatedAt.get(r);
      if (local !== undefined && local > since) since = local;
      const global = globalMark(r);
      if (global !== undefined && global > since) since = global;
    }
    return since;
  }
}
