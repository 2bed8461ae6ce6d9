/**
 * The one place where a response-cache lookup is accounted for, whoever did the caching (`withResponseCache`, the
 * AI SDK middleware, your own wrapper): the global and session `responses` metrics, the tokens a hit saved, and the
 * `response-hit` / `response-miss` events.
 */

import type { ResponseCounters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import type { ResponseHitMessage, ResponseMissMessage } from '../observe/channels.js';
import { responseHitChannel, responseMissChannel } from '../observe/channels.js';
import { eventKey } from '../observe/event-key.js';
import { contextStorage } from '../session/context.js';
import { type TokenUsage, tokenUsage } from './usage.js';

export interface ResponseOutcome {
  /** The request key (events carry a short hash of it, never the key). */
  readonly key: string;
  /** Hit: the time to answer from the cache; miss: the model call, in ms. */
  readonly durationMs: number;
  /**
   * The response served or produced, or just its usage, in any shape `tokenUsage` recognises: what a hit saved
   * and a miss spent.
   */
  readonly response?: unknown;
  /** Hit: it joined an identical request in flight. */
  readonly coalesced?: boolean;
  /** Miss: the model call failed (pass `failed: true` with it; an `undefined` error is still a failure). */
  readonly failed?: boolean;
  readonly error?: unknown;
}

/**
 * How long the model call behind each request key took, as measured by the miss that produced it (or read back
 * from a persistent response cache): what a later hit of that key saves. Bounded; the oldest keys go first.
 */
const MAX_DURATIONS = 10_000;
const durations = new Map<string, number>();

/** Remembers what the response of `key` cost to produce (BackendResponseCache calls it when it reads an entry). */
export function rememberResponseDuration(key: string, durationMs: number): void {
  if (!(durationMs > 0)) return;
  durations.delete(key);
  durations.set(key, durationMs);
  if (durations.size > MAX_DURATIONS) durations.delete(durations.keys().next().value as string);
}

/** The measured model-call time of `key`'s response, if this process knows it. */
export function responseDuration(key: string): number | undefined {
  return durations.get(key);
}

function countersInScope(): [ResponseCounters, ResponseCounters | undefined] {
  return [globalMetrics.responses, contextStorage.getStore()?.session.metrics.responses];
}

/** A request answered from the cache: counts a hit, adds the response's tokens to the saved ones, publishes. */
export function recordResponseHit(outcome: ResponseOutcome): void {
  const usage = tokenUsage(outcome.response);
  const coalesced = outcome.coalesced === true;
  const savedMs = durations.get(outcome.key) ?? 0;
  for (const counters of countersInScope()) {
    if (counters === undefined) continue;
    counters.hits++;
    if (coalesced) counters.coalesced++;
    counters.savedMs += savedMs;
    counters.savedInputTokens += usage?.inputTokens ?? 0;
    counters.savedOutputTokens += usage?.outputTokens ?? 0;
  }
  if (!responseHitChannel.hasSubscribers) return;
  responseHitChannel.publish({ ...base(outcome, usage), coalesced, savedMs } satisfies ResponseHitMessage);
}

/**
 * A request that called the model: counts a miss, remembers how long the call took (what a hit of this key will
 * save; record the miss before storing the response, so a BackendResponseCache persists it), publishes.
 */
export function recordResponseMiss(outcome: ResponseOutcome): void {
  if (!outcome.failed) rememberResponseDuration(outcome.key, outcome.durationMs);
  for (const counters of countersInScope()) if (counters !== undefined) counters.misses++;
  if (!responseMissChannel.hasSubscribers) return;
  const message: ResponseMissMessage = base(outcome, tokenUsage(outcome.response));
  responseMissChannel.publish(outcome.failed ? { ...message, error: outcome.error } : message);
}

/** A request the response cache did not apply to (policy off, not keyable, the cache failing). */
export function recordResponseBypass(): void {
  for (const counters of countersInScope()) if (counters !== undefined) counters.bypassed++;
}

function base(outcome: ResponseOutcome, usage: TokenUsage | undefined): ResponseMissMessage {
  return {
    key: eventKey(outcome.key),
    sessionId: contextStorage.getStore()?.session.sessionId,
    durationMs: outcome.durationMs,
    inputTokens: usage?.inputTokens,
    outputTokens: usage?.outputTokens,
  };
}
