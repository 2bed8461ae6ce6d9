import { MetricsRecorder, type MetricsSnapshot } from './counters.js';

/** Counts every call in the process. */
export const globalMetrics = new MetricsRecorder();

/** Counters of every call in this process (all sessions and none), with per-tool counters in `tools`. */
export function getMetrics(): MetricsSnapshot {
  return globalMetrics.snapshot();
}

/** Zeroes the process-wide counters (sessions keep theirs). */
export function resetMetrics(): void {
  globalMetrics.reset();
}
