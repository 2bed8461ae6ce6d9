import diagnostics from 'node:diagnostics_channel';
import { AgentCacheTypeError } from '../errors.js';
import type { LoopKind, LoopMode } from '../loop/types.js';
import type { Scope } from '../tool/options.js';

/**
 * The `node:diagnostics_channel` channels agent-cache publishes on, by event. Subscribe with
 * `diagnostics_channel.subscribe(channelNames.hit, fn)` or `subscribeAgentCache('hit', fn)`. Nothing is built or
 * published while a channel has no subscriber.
 */
export const channelNames = {
  hit: 'agent-cache:hit',
  miss: 'agent-cache:miss',
  invalidate: 'agent-cache:invalidate',
  loop: 'agent-cache:loop',
  bypass: 'agent-cache:bypass',
  'backend-error': 'agent-cache:backend-error',
  'response-hit': 'agent-cache:response-hit',
  'response-miss': 'agent-cache:response-miss',
  'prefix-break': 'agent-cache:prefix-break',
} as const;

export type AgentCacheEventName = keyof typeof channelNames;

/** What every tool-call event carries. */
export interface ToolEventMessage {
  /** The tool's name. */
  readonly tool: string;
  /**
   * A short hash of the cache entry's key (never the arguments): the same for every event of one entry, different
   * for the same arguments in two sessions. Undefined when the call has no key (arguments with no canonical form).
   */
  readonly key: string | undefined;
  /** The active session's id; undefined outside a session. */
  readonly sessionId: string | undefined;
  /** How long the call took, in ms (see each event). */
  readonly durationMs: number;
}

/**
 * A call answered from the cache. `durationMs`: how long the backend took to answer (0 when it answered
 * synchronously, as the memory backend does); for a coalesced call, how long it waited.
 */
export interface HitMessage extends ToolEventMessage {
  readonly key: string;
  /** What the hit saved: the measured execution time of the miss that stored the entry (0 if unknown). */
  readonly savedMs: number;
  /** The call joined an identical execution already in flight (single flight) instead of reading an entry. */
  readonly coalesced: boolean;
}

/** A call that ran the tool. `durationMs`: the execution time. `error`: what it threw (nothing is stored then). */
export interface MissMessage extends ToolEventMessage {
  readonly key: string;
  readonly error?: unknown;
}

export type BypassReason =
  /** A session-scoped tool called outside any session. */
  | 'no-session'
  /** A call still running in the async context of a session that has ended. */
  | 'session-ended'
  /** Arguments (or the `key` option's material) with no canonical form, or a `key` option that threw. */
  | 'uncacheable-arguments'
  /** The `resource` function threw. */
  | 'resource-error'
  /** A framework tool that its adapter runs uncached (not in the adapter's spec, or listed as `false`). */
  | 'not-cached'
  /** An invalidation of the entry could not be recorded by its backend yet: nothing of it is served or stored. */
  | 'pending-invalidation';

/** A call that ran uncached (counted in `bypassed`). `durationMs`: the execution time. */
export interface BypassMessage extends ToolEventMessage {
  readonly reason: BypassReason;
  readonly error?: unknown;
}

/** A backend operation failed; the call ran uncached (or the invalidation is retried). */
export interface BackendErrorMessage {
  /** The tool whose call met the failure; undefined for invalidateResource and session end. */
  readonly tool: string | undefined;
  readonly key: string | undefined;
  readonly sessionId: string | undefined;
  readonly operation: 'get' | 'generations' | 'set' | 'delete' | 'bump' | 'clearSession';
  readonly error: unknown;
}

/**
 * One per write-tool call (when it settles) and per `invalidateResource`. `durationMs`: the whole write
 * (invalidating before, the mutation, invalidating again), or the invalidation alone for `invalidateResource`.
 */
export interface InvalidateMessage {
  /** The write tool; undefined for `invalidateResource`. */
  readonly tool: string | undefined;
  readonly resources: readonly string[];
  readonly scope: Scope;
  readonly sessionId: string | undefined;
  readonly durationMs: number;
  /** What the mutation threw (its resources were invalidated all the same). */
  readonly error?: unknown;
}

/** A detected loop, in any `onLoop` mode. */
export interface LoopMessage {
  readonly tool: string;
  readonly key: string | undefined;
  readonly sessionId: string;
  readonly kind: LoopKind;
  /** Identical calls (repeat), cycle repetitions (oscillation), consecutive failures (retry_storm), depth. */
  readonly count: number;
  /** What was done about it. */
  readonly mode: LoopMode;
}

/** What response events carry. Token counts are undefined when the response reports no usage. */
export interface ResponseEventMessage {
  /** A short hash of the request key. */
  readonly key: string;
  readonly sessionId: string | undefined;
  /** Hit: the time to answer from the cache; miss: the model call. */
  readonly durationMs: number;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
}

/** A model request answered from the response cache; its tokens are what the hit saved. */
export interface ResponseHitMessage extends ResponseEventMessage {
  readonly coalesced: boolean;
  /** What the hit saved: the measured duration of the model call that produced the answer (0 if unknown). */
  readonly savedMs: number;
}

/** A model request that called the model; its tokens are what it cost. `error`: the model call failed. */
export interface ResponseMissMessage extends ResponseEventMessage {
  readonly error?: unknown;
}

/** The cacheable prompt prefix changed from one request to the next (the provider's prompt cache misses). */
export interface PrefixBreakMessage {
  readonly sessionId: string | undefined;
  /** The first prefix segment that changed or went missing. */
  readonly firstChangedId: string | undefined;
  readonly segmentIdsBefore: readonly string[];
  readonly segmentIdsAfter: readonly string[];
  /** Same segment ids, different contents (a timestamp in the system prompt). */
  readonly contentOnlyChange: boolean;
  /** The `label` given to `PromptCacheGuard.observe`, or the `middleware` given to `checkPass`. */
  readonly label: string | undefined;
  readonly middleware: string | undefined;
}

/** The message type of each event. */
export interface AgentCacheEvents {
  hit: HitMessage;
  miss: MissMessage;
  invalidate: InvalidateMessage;
  loop: LoopMessage;
  bypass: BypassMessage;
  'backend-error': BackendErrorMessage;
  'response-hit': ResponseHitMessage;
  'response-miss': ResponseMissMessage;
  'prefix-break': PrefixBreakMessage;
}

export const hitChannel = diagnostics.channel(channelNames.hit);
export const missChannel = diagnostics.channel(channelNames.miss);
export const invalidateChannel = diagnostics.channel(channelNames.invalidate);
export const loopChannel = diagnostics.channel(channelNames.loop);
export const bypassChannel = diagnostics.channel(channelNames.bypass);
export const backendErrorChannel = diagnostics.channel(channelNames['backend-error']);
export const responseHitChannel = diagnostics.channel(channelNames['response-hit']);
export const responseMissChannel = diagnostics.channel(channelNames['response-miss']);
export const prefixBreakChannel = diagnostics.channel(channelNames['prefix-break']);

/**
 * Subscribes `listener` to one event's channel; returns the function that unsubscribes it. The same as
 * `diagnostics_channel.subscribe(channelNames[event], listener)`, typed.
 */
export function subscribeAgentCache<E extends AgentCacheEventName>(
  event: E,
  listener: (message: AgentCacheEvents[E]) => void,
): () => void {
  const name = channelNames[event];
  if (name === undefined)
    throw new AgentCacheTypeError(`subscribeAgentCache: unknown event ${JSON.stringify(event)}`);
  const fn = (message: unknown) => listener(message as AgentCacheEvents[E]);
  diagnostics.subscribe(name, fn);
  return () => {
    diagnostics.unsubscribe(name, fn);
  };
}
