import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import { type Logger, type LogSink, toLogSink } from '../logger.js';
import { type PrefixBreakMessage, prefixBreakChannel } from '../observe/channels.js';
import { AgentCacheSession } from '../session/session.js';
import { PromptPrefixViolationError } from './errors.js';
import { CacheLayoutEvent, type LayoutInput, toLayout } from './layout-event.js';
import { type CachePolicy, defaultCachePolicy } from './policy.js';
import type { PromptCacheLayout } from './prompt-layout.js';

export type OnViolation = 'raise' | 'warn' | 'record';

export interface PromptCacheGuardOptions {
  /** With `protectPromptPrefix: true` a prefix change is a violation. Default: `defaultCachePolicy` (record only). */
  readonly policy?: Partial<CachePolicy>;
  /** What a violation does. Default `'raise'` (PromptPrefixViolationError); the event is recorded in every mode. */
  readonly onViolation?: OnViolation;
  /** Where `'warn'` goes. Default: the session's logger, else the configured one. */
  readonly logger?: Logger;
  /** Most events kept per history (oldest dropped). Default 1 000. */
  readonly maxEvents?: number;
}

interface History {
  last: PromptCacheLayout | undefined;
  readonly events: CacheLayoutEvent[];
}

/**
 * Watches the cacheable prompt prefix from request to request and reports when it breaks (the provider's KV cache
 * then misses and the whole prompt is billed again). History is kept per AgentCacheSession (in a WeakMap, so it
 * goes with the session object; an ended session's history is dropped on its next use) and per guard outside
 * sessions.
 */
export class PromptCacheGuard {
  readonly policy: CachePolicy;
  readonly onViolation: OnViolation;
  readonly #logger: LogSink | undefined;
  readonly #maxEvents: number;
  readonly #sessions = new WeakMap<AgentCacheSession, History>();
  readonly #global: History = { last: undefined, events: [] };

  constructor(options: PromptCacheGuardOptions = {}) {
    const onViolation = options.onViolation ?? 'raise';
    if (onViolation !== 'raise' && onViolation !== 'warn' && onViolation !== 'record') {
      throw new AgentCacheTypeError(
        `PromptCacheGuard: option \`onViolation\` must be 'raise', 'warn' or 'record', got ${String(onViolation)}`,
      );
    }
    this.policy = { ...defaultCachePolicy, ...options.policy };
    this.onViolation = onViolation;
    this.#logger = options.logger === undefined ? undefined : toLogSink(options.logger, 'PromptCacheGuard');
    this.#maxEvents = options.maxEvents ?? 1_000;
  }

  /**
   * Compares with the previous observation of this session (or of this guard outside sessions). Returns and
   * records an event when the prefix changed; an unchanged or only extended prefix returns undefined. The
   * observation becomes the new reference even when it violates (so one break is reported once).
   */
  observe(input: LayoutInput, options: { readonly label?: string } = {}): CacheLayoutEvent | undefined {
    const layout = toLayout(input);
    const history = this.#history();
    const previous = history.last;
    history.last = layout;
    if (previous === undefined) return undefined;
    const event = CacheLayoutEvent.between(previous, layout, { label: options.label });
    return event.changedPrefix ? this.#report(history, event) : undefined;
  }

  /** Checks one middleware pass: `after` must keep `before`'s prefix. Same recording and policy as `observe`. */
  checkPass(
    before: LayoutInput,
    after: LayoutInput,
    options: { readonly middleware?: string } = {},
  ): CacheLayoutEvent {
    const event = CacheLayoutEvent.between(before, after, { middleware: options.middleware });
    if (event.changedPrefix) this.#report(this.#history(), event);
    return event;
  }

  /** The recorded prefix changes of the active session (or of this guard, outside sessions), oldest first. */
  events(): readonly CacheLayoutEvent[] {
    return [...this.#history().events];
  }

  /** Forgets the history of the active session (or of this guard, outside sessions). */
  reset(): void {
    const history = this.#history();
    history.last = undefined;
    history.events.length = 0;
  }

  #history(): History {
    const session = AgentCacheSession.current();
    if (session === undefined) return this.#global;
    if (session.ended) {
      // Nothing is kept for an ended session: a throwaway history.
      this.#sessions.delete(session);
      return { last: undefined, events: [] };
    }
    let history = this.#sessions.get(session);
    if (history === undefined) {
      history = { last: undefined, events: [] };
      this.#sessions.set(session, history);
    }
    return history;
  }

  #report(history: History, event: CacheLayoutEvent): CacheLayoutEvent {
    history.events.push(event);
    if (history.events.length > this.#maxEvents) history.events.shift();
    const session = AgentCacheSession.current();
    if (prefixBreakChannel.hasSubscribers) {
      prefixBreakChannel.publish({
        sessionId: session?.sessionId,
        firstChangedId: event.firstChangedId,
        segmentIdsBefore: event.segmentIdsBefore,
        segmentIdsAfter: event.segmentIdsAfter,
        contentOnlyChange: event.contentOnlyChange,
        label: event.label,
        middleware: event.middleware,
      } satisfies PrefixBreakMessage);
    }
    if (!this.policy.protectPromptPrefix || this.onViolation === 'record') return event;
    if (this.onViolation === 'raise') throw new PromptPrefixViolationError(event, session?.sessionId);
    (this.#logger ?? session?.logger ?? getDefaults().logger).warn(`agent-cache: ${event.describe()}`);
    return event;
  }
}
