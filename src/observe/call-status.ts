import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a trace recorder learns about one tool call from the inside: whether it was answered from the cache (and
 * what the entry's execution had cost), or how long its execution took. Only exists while a recorder runs.
 */
export interface CallStatus {
  /** Set once the traced call itself has started; calls it makes (nested tools) get their own status. */
  claimed: boolean;
  /** Served from the cache: the measured execution time of the entry's miss. */
  savedMs: number | undefined;
  /** Executed: how long the function ran. */
  executedMs: number | undefined;
}

const statusStorage = new AsyncLocalStorage<CallStatus>();

/** True while a trace recorder runs (a plain module flag: the hot path reads it once per call). */
export let tracing = false;
let recorders = 0;

export function traceRecorderStarted(): void {
  recorders++;
  tracing = true;
}

export function traceRecorderStopped(): void {
  recorders = Math.max(0, recorders - 1);
  tracing = recorders > 0;
}

/** Runs `fn` (one tool call) with a fresh status that the publishing points inside it fill in. */
export function withCallStatus<T>(status: CallStatus, fn: () => T): T {
  return statusStorage.run(status, fn);
}

/**
 * Whether the call starting now must be handed to the recorder: true unless it is the call the recorder itself
 * just started (then its status is claimed and the call proceeds normally).
 */
export function needsRecording(): boolean {
  const status = statusStorage.getStore();
  if (status === undefined || status.claimed) return true;
  status.claimed = true;
  return false;
}

/** The status of the call in whose async context this runs (only while tracing). */
export function currentStatus(): CallStatus | undefined {
  return tracing ? statusStorage.getStore() : undefined;
}
