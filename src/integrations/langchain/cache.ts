import { BaseCache } from '@langchain/core/caches';
import type { Generation } from '@langchain/core/outputs';
import type { Backend } from '../../backends/contract.js';
import { getDefaults } from '../../config.js';
import { AgentCacheTypeError } from '../../errors.js';
import { cacheKey } from '../../llm/cache-key.js';
import { recordResponseHit, recordResponseMiss } from '../../llm/response-accounting.js';
import { BackendResponseCache } from '../../llm/response-cache.js';
import { parseTtl, type Ttl } from '../../tool/ttl.js';
import { decodeGenerations, encodeGenerations } from './stored.js';

export interface AgentCacheLangChainCacheOptions {
  /** Where generations live (memory, SQLite, Redis, ...). Default: the configured backend, read per call. */
  readonly backend?: Backend;
  /** Lifetime of a cached generation. Default: no expiry (the backend's own bounds apply). */
  readonly ttl?: Ttl;
  /** Key prefix, so several applications can share a backend. Default: the `configure({ namespace })` one. */
  readonly namespace?: string;
}

/** Lookups that missed, awaiting their `update`: what the model call took. Bounded (a failed call never updates). */
const MAX_PENDING = 1_024;

/**
 * A LangChain `BaseCache` over any agent-cache backend: `new ChatOpenAI({ cache: new AgentCacheLangChainCache() })`.
 * Generations are keyed by `cacheKey({ prompt, llmKey })` and stored as plain data, so a hit — also from a SQLite
 * file or Redis after a restart — returns real message objects (`AIMessage`, with tool calls, usage and metadata).
 * A failing backend never fails the model call: a lookup then misses and an update is skipped (one warning).
 */
export class AgentCacheLangChainCache extends BaseCache<Generation[]> {
  readonly #backend: Backend | undefined;
  readonly #ttl: Ttl | undefined;
  readonly #namespace: string | undefined;
  #responses: BackendResponseCache<unknown> | undefined;
  readonly #pending = new Map<string, number>();
  #warned = false;

  constructor(options: AgentCacheLangChainCacheOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new AgentCacheTypeError('AgentCacheLangChainCache: options must be an object');
    }
    if (options.backend !== undefined && typeof options.backend?.get !== 'function') {
      throw new AgentCacheTypeError(
        'AgentCacheLangChainCache: option `backend` must implement the Backend interface',
      );
    }
    if (options.namespace !== undefined && typeof options.namespace !== 'string') {
      throw new AgentCacheTypeError('AgentCacheLangChainCache: option `namespace` must be a string');
    }
    parseTtl(options.ttl, 'AgentCacheLangChainCache');
    this.#backend = options.backend;
    this.#ttl = options.ttl;
    this.#namespace = options.namespace;
  }

  async lookup(prompt: string, llmKey: string): Promise<Generation[] | null> {
    const started = performance.now();
    let key: string;
    try {
      key = cacheKey({ prompt, llmKey });
      const generations = decodeGenerations(await this.#store().get(key));
      if (generations !== undefined) {
        const first = generations[0] as { message?: unknown } | undefined;
        // Accounted now, before LangChain zeroes the usage of the message it is handed.
        recordResponseHit({
          key,
          durationMs: performance.now() - started,
          response: first?.message ?? first,
        });
        return generations;
      }
    } catch (error) {
      this.#failed('look up', error);
      return null;
    }
    if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
    this.#pending.set(key, performance.now());
    return null;
  }

  async update(prompt: string, llmKey: string, generations: Generation[]): Promise<void> {
    let key: string;
    try {
      key = cacheKey({ prompt, llmKey });
    } catch (error) {
      this.#failed('store', error);
      return;
    }
    const started = this.#pending.get(key);
    this.#pending.delete(key);
    const message = (generations[0] as { message?: unknown } | undefined)?.message;
    // Accounted before storing, so the stored entry carries how long the model call took (what a hit saves).
    recordResponseMiss({
      key,
      durationMs: started === undefined ? 0 : performance.now() - started,
      response: message,
    });
    try {
      await this.#store().put(key, encodeGenerations(generations));
    } catch (error) {
      this.#failed('store', error);
    }
  }

  #store(): BackendResponseCache<unknown> {
    const backend = this.#backend ?? getDefaults().backend;
    if (this.#responses?.backend !== backend) {
      this.#responses = new BackendResponseCache<unknown>(backend, {
        ttl: this.#ttl,
        namespace: this.#namespace,
      });
    }
    return this.#responses;
  }

  #failed(what: string, error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    getDefaults().logger.warn(
      `agent-cache: AgentCacheLangChainCache could not ${what} a generation; the model call goes on uncached (warned once)`,
      error,
    );
  }
}
