import type { LanguageModelMiddleware } from 'ai';
import { getDefaults } from '../../config.js';
import { AgentCacheTypeError } from '../../errors.js';
import { PromptCacheGuard } from '../../llm/guard.js';
import type { CachePolicy } from '../../llm/policy.js';
import {
  recordResponseBypass,
  recordResponseHit,
  recordResponseMiss,
} from '../../llm/response-accounting.js';
import { InMemoryResponseCache, type ResponseCache } from '../../llm/response-cache.js';
import type { ResponseCacheEvent } from '../../llm/with-response-cache.js';
import { type Logger, type LogSink, toLogSink } from '../../logger.js';
import { contextStorage } from '../../session/context.js';
import { promptSegments } from './prompt-segments.js';
import {
  finishedNormally,
  generateHit,
  isRecorded,
  type RecordedResponse,
  recordGenerate,
  recordStream,
  streamHit,
} from './recorded.js';
import { type CallKind, keyExcludes, OPTIONS_NAMESPACE, requestKey } from './request-key.js';
import { type FlightEnd, StreamFlight } from './stream-flight.js';
import type { CallOptions, GenerateResult, LanguageModel, StreamPart, StreamResult } from './types.js';

export interface AgentCacheMiddlewareOptions {
  /**
   * Where responses are kept, by request key. Default: a new `InMemoryResponseCache` (this process, LRU); a
   * `BackendResponseCache` over a DiskBackend or RedisBackend keeps them across restarts and processes.
   */
  readonly cache?: ResponseCache<RecordedResponse>;
  /**
   * `responseCacheEnabled: false` turns the response cache off (calls pass through; the guard still observes);
   * `protectPromptPrefix: true` without a `guard` makes the middleware use a `PromptCacheGuard` of this policy.
   * A call's own `providerOptions.agentCache.responseCacheEnabled` overrides the first. Default: caching on.
   */
  readonly policy?: Partial<CachePolicy>;
  /** Observes each call's prompt (tools → system → messages) for breaks of the provider-cached prefix. */
  readonly guard?: PromptCacheGuard;
  /** Paths left out of the key, relative to the call options: `['providerOptions.openai.user', 'seed']`. */
  readonly exclude?: readonly string[];
  /** Every hit, miss and bypass. */
  readonly onEvent?: (event: ResponseCacheEvent) => void;
  /** Where warnings go. Default: the configured logger. */
  readonly logger?: Logger;
}

interface GenerateFlight {
  readonly outcome: Promise<
    | { readonly hit: true; readonly result: GenerateResult }
    | { readonly hit: false; readonly result: GenerateResult }
  >;
}

type Opened =
  | { readonly hit: true; readonly parts: readonly StreamPart[] }
  | { readonly hit: false; readonly flight: StreamFlight; readonly result: StreamResult };

interface PendingStream {
  readonly opened: Promise<Opened>;
}

/** The lookup failed: the model is called, and nothing is stored. */
const UNAVAILABLE = Symbol('unavailable');

/**
 * A `LanguageModelMiddleware` (for `wrapLanguageModel`) answering identical model calls from a response cache.
 *
 * - `wrapGenerate` and `wrapStream` both cache, under a key of the call options and the model (see `requestKey`).
 * - A stream miss reaches the caller part by part as the model produces it, recorded on the way; a hit replays
 *   every recorded part at once. A stream with an `error` part, that finished with an error or interruption, or
 *   that its caller cancelled or aborted, is not stored; neither is such a generate result.
 * - Answers from the cache carry `providerMetadata.agentCache = { hit: true, key }` (a stream's on its `finish`
 *   part, which is where `await result.providerMetadata` of `streamText` reads it).
 * - Identical concurrent calls call the model once; the others share its answer (a stream's as it is produced).
 * - With `guard`, each call's prompt is observed as segments, hits included.
 */
export function agentCacheMiddleware(options: AgentCacheMiddlewareOptions = {}): LanguageModelMiddleware {
  return new ResponseMiddleware(options).middleware();
}

class ResponseMiddleware {
  readonly #cache: ResponseCache<RecordedResponse>;
  readonly #policy: Partial<CachePolicy> | undefined;
  readonly #guard: PromptCacheGuard | undefined;
  readonly #exclude: readonly string[];
  readonly #onEvent: ((event: ResponseCacheEvent) => void) | undefined;
  readonly #logger: LogSink | undefined;
  readonly #generates = new Map<string, GenerateFlight>();
  readonly #streams = new Map<string, PendingStream>();
  readonly #warned = new Set<string>();

  constructor(options: AgentCacheMiddlewareOptions) {
    const owner = 'agentCacheMiddleware';
    if (typeof options !== 'object' || options === null) {
      throw new AgentCacheTypeError(`${owner}: options must be an object`);
    }
    const { cache, guard, exclude, onEvent, logger, policy } = options;
    if (cache !== undefined && (typeof cache?.get !== 'function' || typeof cache.put !== 'function')) {
      throw new AgentCacheTypeError(`${owner}: option \`cache\` must implement ResponseCache (get and put)`);
    }
    if (guard !== undefined && !(guard instanceof PromptCacheGuard)) {
      throw new AgentCacheTypeError(`${owner}: option \`guard\` must be a PromptCacheGuard`);
    }
    if (
      exclude !== undefined &&
      (!Array.isArray(exclude) || !exclude.every((path) => typeof path === 'string' && path !== ''))
    ) {
      throw new AgentCacheTypeError(`${owner}: option \`exclude\` must be an array of non-empty paths`);
    }
    if (onEvent !== undefined && typeof onEvent !== 'function') {
      throw new AgentCacheTypeError(`${owner}: option \`onEvent\` must be a function`);
    }
    if (policy !== undefined && (typeof policy !== 'object' || policy === null)) {
      throw new AgentCacheTypeError(`${owner}: option \`policy\` must be an object`);
    }
    this.#cache = cache ?? new InMemoryResponseCache<RecordedResponse>();
    this.#policy = policy;
    this.#guard =
      guard ?? (policy?.protectPromptPrefix === true ? new PromptCacheGuard({ policy }) : undefined);
    this.#exclude = keyExcludes(exclude ?? []);
    this.#onEvent = onEvent;
    this.#logger = logger === undefined ? undefined : toLogSink(logger, owner);
  }

  middleware(): LanguageModelMiddleware {
    return {
      specificationVersion: 'v4',
      wrapGenerate: ({ doGenerate, params, model }) => this.#generate(doGenerate, params, model),
      wrapStream: ({ doStream, params, model }) => this.#stream(doStream, params, model),
    };
  }

  async #generate(
    doGenerate: () => PromiseLike<GenerateResult>,
    params: CallOptions,
    model: LanguageModel,
  ): Promise<GenerateResult> {
    const key = this.#begin('generate', params, model);
    if (key === undefined) return doGenerate();
    const joined = this.#generates.get(key);
    if (joined !== undefined) return this.#joinGenerate(key, joined);
    let flight: GenerateFlight | undefined;
    const release = (): void => {
      if (this.#generates.get(key) === flight) this.#generates.delete(key);
    };
    flight = { outcome: this.#generateOnce(key, doGenerate, release) };
    this.#generates.set(key, flight);
    flight.outcome.catch(release);
    const outcome = await flight.outcome;
    return outcome.hit ? generateHit(outcome.result, key) : outcome.result;
  }

  /** An identical call is in flight: a (coalesced) hit on its answer, or its error. */
  async #joinGenerate(key: string, joined: GenerateFlight): Promise<GenerateResult> {
    this.#emit({ type: 'cache.hit', key, coalesced: true });
    const started = performance.now();
    try {
      const { result } = await joined.outcome;
      recordResponseHit({ key, durationMs: performance.now() - started, response: result, coalesced: true });
      return generateHit(result, key);
    } catch (error) {
      recordResponseHit({ key, durationMs: performance.now() - started, coalesced: true });
      throw error;
    }
  }

  /** Looks up, else calls the model; the flight is released once what it stored is readable (or nothing is). */
  async #generateOnce(
    key: string,
    doGenerate: () => PromiseLike<GenerateResult>,
    release: () => void,
  ): Promise<{ hit: true; result: GenerateResult } | { hit: false; result: GenerateResult }> {
    const stored = await this.#lookup(key, 'generate');
    if (stored !== undefined && stored !== UNAVAILABLE && stored.kind === 'generate') {
      release();
      return { hit: true, result: stored.result };
    }
    const calledAt = performance.now();
    let result: GenerateResult;
    try {
      result = await doGenerate();
    } catch (error) {
      if (stored !== UNAVAILABLE) {
        recordResponseMiss({ key, durationMs: performance.now() - calledAt, failed: true, error });
      }
      throw error;
    }
    if (stored !== UNAVAILABLE)
      recordResponseMiss({ key, durationMs: performance.now() - calledAt, response: result });
    if (stored === UNAVAILABLE || !finishedNormally(result.finishReason)) {
      release();
      return { hit: false, result };
    }
    const recorded = recordGenerate(result);
    // The caller gets its answer now; identical calls join this flight until the stored copy is readable.
    void this.#store(key, recorded).finally(release);
    return { hit: false, result };
  }

  async #stream(
    doStream: () => PromiseLike<StreamResult>,
    params: CallOptions,
    model: LanguageModel,
  ): Promise<StreamResult> {
    const key = this.#begin('stream', params, model);
    if (key === undefined) return doStream();
    const joined = this.#streams.get(key);
    if (joined !== undefined) return this.#joinStream(key, joined, params.abortSignal);
    let pending: PendingStream | undefined;
    const release = (): void => {
      if (this.#streams.get(key) === pending) this.#streams.delete(key);
    };
    pending = { opened: this.#openStream(key, doStream, params, release) };
    this.#streams.set(key, pending);
    pending.opened.catch(release);
    const opened = await pending.opened;
    if (opened.hit) return { stream: replay(streamHit(opened.parts, key)) };
    return opened.result;
  }

  /** An identical stream is in flight: its parts, as they come (a hit, accounted when the stream ends). */
  async #joinStream(
    key: string,
    joined: PendingStream,
    signal: AbortSignal | undefined,
  ): Promise<StreamResult> {
    this.#emit({ type: 'cache.hit', key, coalesced: true });
    const started = performance.now();
    const frame = contextStorage.getStore();
    let opened: Opened;
    try {
      opened = await joined.opened;
    } catch (error) {
      recordResponseHit({ key, durationMs: performance.now() - started, coalesced: true });
      throw error;
    }
    if (opened.hit) {
      recordResponseHit({
        key,
        durationMs: performance.now() - started,
        response: finishOf(opened.parts),
        coalesced: true,
      });
      return { stream: replay(streamHit(opened.parts, key)) };
    }
    void opened.flight.ended.then((end) =>
      inContext(frame, () =>
        recordResponseHit({
          key,
          durationMs: performance.now() - started,
          response: end.finish,
          coalesced: true,
        }),
      ),
    );
    return { stream: opened.flight.subscribe(key, signal) };
  }

  async #openStream(
    key: string,
    doStream: () => PromiseLike<StreamResult>,
    params: CallOptions,
    release: () => void,
  ): Promise<Opened> {
    const stored = await this.#lookup(key, 'stream');
    if (stored !== undefined && stored !== UNAVAILABLE && stored.kind === 'stream') {
      release();
      return { hit: true, parts: stored.parts };
    }
    const accounted = stored !== UNAVAILABLE;
    const calledAt = performance.now();
    const frame = contextStorage.getStore();
    let result: StreamResult;
    try {
      result = await doStream();
    } catch (error) {
      if (accounted)
        recordResponseMiss({ key, durationMs: performance.now() - calledAt, failed: true, error });
      throw error;
    }
    const { stream, ...rest } = result;
    const flight = new StreamFlight(stream);
    void flight.ended.then((end: FlightEnd) => {
      if (accounted) {
        const durationMs = performance.now() - calledAt;
        inContext(frame, () =>
          recordResponseMiss(
            end.failed
              ? { key, durationMs, response: end.finish, failed: true, error: end.error }
              : { key, durationMs, response: end.finish },
          ),
        );
      }
      if (end.complete && accounted) void this.#store(key, recordStream(flight.parts)).finally(release);
      else release();
    });
    const signal = params.abortSignal;
    if (signal !== undefined) {
      if (signal.aborted) flight.spoil();
      else signal.addEventListener('abort', () => flight.spoil(), { once: true });
    }
    // The caller that started the model call is its first subscriber, before any identical call can join.
    return { hit: false, flight, result: { ...rest, stream: flight.subscribe() } };
  }

  /** Observes the prompt, then the key of a call that may be cached; undefined when it passes through. */
  #begin(kind: CallKind, params: CallOptions, model: LanguageModel): string | undefined {
    this.#guard?.observe(promptSegments(params), { label: `${model.provider}:${model.modelId}` });
    if (!this.#enabled(params)) {
      this.#bypass('policy');
      return undefined;
    }
    try {
      return requestKey(kind, model, params, this.#exclude);
    } catch (error) {
      this.#warnOnce('a call could not be keyed; it runs uncached', error);
      this.#bypass('uncacheable-request');
      return undefined;
    }
  }

  #enabled(params: CallOptions): boolean {
    const own = (
      params.providerOptions?.[OPTIONS_NAMESPACE] as { responseCacheEnabled?: unknown } | undefined
    )?.responseCacheEnabled;
    if (typeof own === 'boolean') return own;
    return this.#policy?.responseCacheEnabled !== false;
  }

  async #lookup(key: string, kind: CallKind): Promise<RecordedResponse | undefined | typeof UNAVAILABLE> {
    const started = performance.now();
    let value: unknown;
    try {
      value = await this.#cache.get(key);
    } catch (error) {
      this.#warnOnce('the response cache failed; calls run uncached while it fails', error);
      this.#bypass('cache-error');
      return UNAVAILABLE;
    }
    if (value !== undefined && isRecorded(value, kind)) {
      // What the hit saved: the usage of the call that produced the answer.
      const response = value.kind === 'generate' ? value.result : finishOf(value.parts);
      recordResponseHit({ key, durationMs: performance.now() - started, response });
      this.#emit({ type: 'cache.hit', key, coalesced: false });
      return value;
    }
    if (value !== undefined) {
      this.#warnOnce('the response cache returned a value this middleware did not store; treated as a miss');
    }
    this.#emit({ type: 'cache.miss', key });
    return undefined;
  }

  async #store(key: string, recorded: RecordedResponse): Promise<void> {
    try {
      await this.#cache.put(key, recorded);
    } catch (error) {
      this.#warnOnce('the response cache failed to store a response', error);
    }
  }

  #bypass(reason: 'policy' | 'uncacheable-request' | 'cache-error'): void {
    recordResponseBypass();
    this.#emit({ type: 'cache.bypass', reason });
  }

  #emit(event: ResponseCacheEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#warnOnce('onEvent threw', error);
    }
  }

  #warnOnce(what: string, error?: unknown): void {
    if (this.#warned.has(what)) return;
    this.#warned.add(what);
    const logger = this.#logger ?? getDefaults().logger;
    const message = `agent-cache: agentCacheMiddleware: ${what} (warned once)`;
    if (error === undefined) logger.warn(message);
    else logger.warn(message, error);
  }
}

/** The finish part of a recorded stream (its usage). */
function finishOf(parts: readonly StreamPart[]): StreamPart | undefined {
  return parts.findLast((part) => part.type === 'finish');
}

/**
 * Runs `fn` in the async context of the call that started a stream: a stream ends in whatever context read its
 * last part, while its accounting belongs to the session of the call.
 */
function inContext(frame: ReturnType<typeof contextStorage.getStore>, fn: () => void): void {
  if (frame === undefined) contextStorage.exit(fn);
  else contextStorage.run(frame, fn);
}

/** A recorded stream, every part at once. */
function replay(parts: readonly StreamPart[]): ReadableStream<StreamPart> {
  return new ReadableStream<StreamPart>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}
