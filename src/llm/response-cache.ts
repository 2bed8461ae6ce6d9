import type { Backend } from '../backends/contract.js';
import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import { parseTtl, type Ttl } from '../tool/ttl.js';
import { rememberResponseDuration, responseDuration } from './response-accounting.js';

/** Where model responses are kept, by request key (`cacheKey`). `undefined` means "not cached". */
export interface ResponseCache<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
}

export interface InMemoryResponseCacheOptions {
  /** Most responses held; the least recently used go first. Default 1 000. */
  readonly maxEntries?: number;
  /** Lifetime of a response (ms or `'30s'`, `'5m'`…). Default: no expiry. */
  readonly ttl?: Ttl;
  /** Clock in ms (tests inject one). Default `Date.now`. */
  readonly now?: () => number;
}

/** An LRU map in this process. Responses are kept by reference: treat them as immutable. */
export class InMemoryResponseCache<T> implements ResponseCache<T> {
  readonly maxEntries: number;
  readonly ttl: number | undefined;
  readonly #now: () => number;
  readonly #entries = new Map<string, { readonly value: T; readonly expiresAt: number }>();

  constructor(options: InMemoryResponseCacheOptions = {}) {
    const max = options.maxEntries ?? 1_000;
    if (!Number.isInteger(max) || max <= 0) {
      throw new AgentCacheTypeError(
        `InMemoryResponseCache: option \`maxEntries\` must be a positive integer, got ${max}`,
      );
    }
    this.maxEntries = max;
    this.ttl = parseTtl(options.ttl, 'InMemoryResponseCache');
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<T | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  async put(key: string, value: T): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.ttl === undefined ? 0 : this.#now() + this.ttl });
    while (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async clear(): Promise<void> {
    this.#entries.clear();
  }
}

export interface BackendResponseCacheOptions {
  /** Lifetime of a response. Default: no expiry (the backend's own bounds apply). */
  readonly ttl?: Ttl;
  /** Key prefix, so several applications can share a backend. Default: the `configure({ namespace })` one. */
  readonly namespace?: string;
}

/**
 * Responses stored in any agent-cache Backend (memory, SQLite, Redis, your own), so they persist and are shared
 * between processes like tool results. Entries carry no generation tags: a response depends only on its request.
 * Keys are `llm` + the JSON namespace + the request key; tool keys start with `"`, so the two never collide.
 */
export class BackendResponseCache<T> implements ResponseCache<T> {
  readonly backend: Backend;
  readonly ttl: number | undefined;
  readonly #namespace: string | undefined;
  #warned = false;

  constructor(backend: Backend, options: BackendResponseCacheOptions = {}) {
    if (typeof backend?.get !== 'function' || typeof backend.set !== 'function') {
      throw new AgentCacheTypeError(
        'BackendResponseCache: the first argument must implement the Backend interface',
      );
    }
    if (options.namespace !== undefined && typeof options.namespace !== 'string') {
      throw new AgentCacheTypeError('BackendResponseCache: option `namespace` must be a string');
    }
    this.backend = backend;
    this.ttl = parseTtl(options.ttl, 'BackendResponseCache');
    this.#namespace = options.namespace;
  }

  async get(key: string): Promise<T | undefined> {
    const entry = await this.backend.get(this.#key(key));
    if (entry === undefined) return undefined;
    // A hit in another process (or after a restart) still saves what the original model call took.
    if (entry.durationMs !== undefined) rememberResponseDuration(key, entry.durationMs);
    return entry.value as T;
  }

  async put(key: string, value: T): Promise<void> {
    const now = Date.now();
    const expiresAt = this.ttl === undefined ? 0 : now + this.ttl;
    const stored = await this.backend.set(this.#key(key), {
      value,
      expiresAt,
      tags: [],
      gens: [],
      createdAt: now,
      durationMs: responseDuration(key) ?? 0,
    });
    if (!stored && !this.#warned) {
      this.#warned = true;
      getDefaults().logger.warn(
        'agent-cache: BackendResponseCache: the backend did not store a response (not serializable?)',
      );
    }
  }

  async delete(key: string): Promise<void> {
    await this.backend.delete(this.#key(key));
  }

  #key(key: string): string {
    // Read per call, so a later configure({ namespace }) applies (as it does for tools).
    return `llm${JSON.stringify(this.#namespace ?? getDefaults().namespace)}${key}`;
  }
}
