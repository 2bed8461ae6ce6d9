/**
 * The publishing points of the read and write paths. Each call site guards with `observed(channel)` (one flag read
 * and one `hasSubscribers` check), so nothing here runs, and no message is built, while no one listens.
 */
import type { Channel } from 'node:diagnostics_channel';
import type { LoopKind, LoopMode } from '../loop/types.js';
import type { AgentCacheSession } from '../session/session.js';
import type { Scope } from '../tool/options.js';
import { currentStatus, tracing } from './call-status.js';
import {
  type BackendErrorMessage,
  type BypassReason,
  backendErrorChannel,
  bypassChannel,
  hitChannel,
  invalidateChannel,
  loopChannel,
  missChannel,
} from './channels.js';
import { eventKey } from './event-key.js';

/** Whether an event of `channel` has anyone to go to (a subscriber, or a running trace recorder). */
export function observed(channel: Channel): boolean {
  return tracing || channel.hasSubscribers;
}

export function publishHit(
  tool: string,
  key: string,
  session: AgentCacheSession | undefined,
  savedMs: number,
  durationMs: number,
  coalesced: boolean,
): void {
  const status = currentStatus();
  if (status !== undefined) status.savedMs = savedMs;
  if (!hitChannel.hasSubscribers) return;
  hitChannel.publish({
    tool,
    key: eventKey(key),
    sessionId: session?.sessionId,
    durationMs,
    savedMs,
    coalesced,
  });
}

export function publishMiss(
  tool: string,
  key: string,
  session: AgentCacheSession | undefined,
  durationMs: number,
  failed: boolean,
  error?: unknown,
): void {
  const status = currentStatus();
  if (status !== undefined) status.executedMs = durationMs;
  if (!missChannel.hasSubscribers) return;
  missChannel.publish(
    failed
      ? { tool, key: eventKey(key), sessionId: session?.sessionId, durationMs, error }
      : { tool, key: eventKey(key), sessionId: session?.sessionId, durationMs },
  );
}

/** Runs the call uncached and publishes the bypass when it settles (its duration is the execution time). */
export function observeBypass<T>(
  run: () => Promise<T>,
  tool: string,
  key: string | undefined,
  session: AgentCacheSession | undefined,
  reason: BypassReason,
): Promise<T> {
  const started = performance.now();
  const done = (failed: boolean, error?: unknown): void => {
    const durationMs = performance.now() - started;
    const status = currentStatus();
    if (status !== undefined) status.executedMs = durationMs;
    if (!bypassChannel.hasSubscribers) return;
    const base = {
      tool,
      key: keyOf(key),
      sessionId: session?.sessionId,
      durationMs,
      reason,
    };
    bypassChannel.publish(failed ? { ...base, error } : base);
  };
  return run().then(
    (value) => {
      done(false);
      return value;
    },
    (error: unknown) => {
      done(true, error);
      throw error;
    },
  );
}

export function publishBackendError(
  tool: string | undefined,
  key: string | undefined,
  sessionId: string | undefined,
  operation: BackendErrorMessage['operation'],
  error: unknown,
): void {
  if (!backendErrorChannel.hasSubscribers) return;
  backendErrorChannel.publish({
    tool,
    key: keyOf(key),
    sessionId,
    operation,
    error,
  } satisfies BackendErrorMessage);
}

export function publishInvalidate(
  tool: string | undefined,
  resources: readonly string[],
  scope: Scope,
  session: AgentCacheSession | undefined,
  durationMs: number,
  failed: boolean,
  error?: unknown,
): void {
  if (!invalidateChannel.hasSubscribers) return;
  const base = { tool, resources, scope, sessionId: session?.sessionId, durationMs };
  invalidateChannel.publish(failed ? { ...base, error } : base);
}

export function publishLoop(
  tool: string,
  key: string | undefined,
  sessionId: string,
  kind: LoopKind,
  count: number,
  mode: LoopMode,
): void {
  if (!loopChannel.hasSubscribers) return;
  loopChannel.publish({
    tool,
    key: keyOf(key),
    sessionId,
    kind,
    count,
    mode,
  });
}

/** The event name of a key, when the call has one. */
function keyOf(key: string | undefined): string | undefined {
  return key === undefined ? undefined : eventKey(key);
}
