import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import { type Logger, toLogSink } from '../logger.js';
import { cacheKey } from './cache-key.js';
import { type CachePolicy, responseCacheEnabled } from './policy.js';
import { recordResponseBypass, recordResponseHit, recordResponseMiss } from './response-accounting.js';
import type { ResponseCache } from './response-cache.js';

/** What happened to one call; `coalesced` hits joined an identical request already in flight. */
export type ResponseCacheEvent =
  | { readonly type: 'cache.hit'; readonly key: string; readonly coalesced: boolean }
  | { readonly type: 'cache.miss'; readonly key: string }
  | { readonly type: 'cache.bypass'; readonly reason: 'policy' | 'uncacheable-request' | 'cache-error' };

export interface WithResponseCacheOptions<Req, Res> {
  readonly cache: ResponseCache<Res>;
  /** Overridden flag by flag by the request's own `cachePolicy` field. Default: enabled (a cache is attached). */
  readonly policy?: Partial<CachePolicy>;
  /** The key of a request. Default: `cacheKey(request, { exclude: ['cachePolicy', ...exclude] })`. */
  readonly key?: (request: Req) => string;
  /** Fields left out of the default key (top-level names or dotted paths), e.g. `['metadata', 'user']`. */
  readonly exclude?: readonly string[];
  /** Responses for which it returns false are returned but not stored (e.g. a tool call not to be replayed). */
  readonly shouldCache?: (response: Res, request: Req) => boolean;
  readonly onEvent?: (event: ResponseCacheEvent) => void;
  /** Where warnings go. Default: the configured logger (`configure({ logger })`). */
  readonly logger?: Logger;
}

export type ModelCall<Req, Res, Rest extends unknown[] = []> = (request: Req, ...rest: Rest) => Promise<Res>;

/**
 * Wraps any `(request, ...rest) => Promise<response>` with the response cache. Only the request is keyed; the
 * other arguments (an AbortSignal, call options) are passed through, and a call that joins an identical request in
 * flight shares that request's outcome. The request reaches the model unchanged (its `cachePolicy` included).
 * `undefined` responses are never stored (the cache reads `undefined` as "absent").
 */
export function withResponseCache<Req, Res, Rest extends unknown[] = []>(
  callModel: ModelCall<Req, Res, Rest>,
  options: WithResponseCacheOptions<Req, Res>,
): ModelCall<Req, Res, Rest> {
  if (typeof callModel !== 'function')
    throw new AgentCacheTypeError('withResponseCache: callModel must be a function');
  const { cache, policy, shouldCache, onEvent } = options ?? {};
  if (typeof cache?.get !== 'function' || typeof cache.put !== 'function') {
    throw new AgentCacheTypeError(
      'withResponseCache: option `cache` must implement ResponseCache (get and put)',
    );
  }
  const exclude = ['cachePolicy', ...(options.exclude ?? [])];
  const keyOf = options.key ?? ((request: Req) => cacheKey(request, { exclude }));
  const inflight = new Map<string, Promise<Res>>();
  const logger = options.logger === undefined ? undefined : toLogSink(options.logger, 'withResponseCache');
  const warned = new Set<string>();
  const emit = (event: ResponseCacheEvent): void => onEvent?.(event);
  const bypass = (reason: 'policy' | 'uncacheable-request' | 'cache-error'): void => {
    recordResponseBypass();
    emit({ type: 'cache.bypass', reason });
  };
  const warnOnce = (what: string, error: unknown): void => {
    if (warned.has(what)) return;
    warned.add(what);
    (logger ?? getDefaults().logger).warn(
      `agent-cache: withResponseCache: ${what}; calling the model uncached`,
      error,
    );
  };

  const lookupAndCall = async (key: string, request: Req, rest: Rest): Promise<Res> => {
    const started = performance.now();
    let cached: Res | undefined;
    try {
      cached = await cache.get(key);
    } catch (error) {
      warnOnce('the response cache failed', error);
      bypass('cache-error');
      return callModel(request, ...rest);
    }
    if (cached !== undefined) {
      recordResponseHit({ key, durationMs: performance.now() - started, response: cached });
      emit({ type: 'cache.hit', key, coalesced: false });
      return cached;
    }
    emit({ type: 'cache.miss', key });
    const calledAt = performance.now();
    let response: Res;
    try {
      response = await callModel(request, ...rest);
    } catch (error) {
      recordResponseMiss({ key, durationMs: performance.now() - calledAt, failed: true, error });
      throw error;
    }
    recordResponseMiss({ key, durationMs: performance.now() - calledAt, response });
    if (response !== undefined && (shouldCache === undefined || shouldCache(response, request))) {
      try {
        await cache.put(key, response);
      } catch (error) {
        warnOnce('the response cache failed to store', error);
      }
    }
    return response;
  };

  /** A request that joined an identical one in flight: a hit, accounted when it settles (its usage known). */
  const joined = (key: string, running: Promise<Res>): Promise<Res> => {
    const started = performance.now();
    return running.then(
      (response) => {
        recordResponseHit({ key, durationMs: performance.now() - started, response, coalesced: true });
        return response;
      },
      (error: unknown) => {
        recordResponseHit({ key, durationMs: performance.now() - started, coalesced: true });
        throw error;
      },
    );
  };

  return (request: Req, ...rest: Rest): Promise<Res> => {
    if (!responseCacheEnabled(request, policy)) {
      bypass('policy');
      return callModel(request, ...rest);
    }
    let key: string;
    try {
      key = keyOf(request);
    } catch (error) {
      // A request with a function or a cycle in it still works; it just cannot be cached.
      warnOnce('a request could not be keyed', error);
      bypass('uncacheable-request');
      return callModel(request, ...rest);
    }
    const running = inflight.get(key);
    if (running !== undefined) {
      emit({ type: 'cache.hit', key, coalesced: true });
      return joined(key, running);
    }
    const flight = lookupAndCall(key, request, rest).finally(() => {
      if (inflight.get(key) === flight) inflight.delete(key);
    });
    inflight.set(key, flight);
    return flight;
  };
}
