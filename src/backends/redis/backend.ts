import type { Redis } from 'ioredis';
import { AgentCacheTypeError, BackendClosedError } from '../../errors.js';
import type { Backend, BackendEntry, BackendGetOptions, MaybePromise } from '../contract.js';
import type { EntryInfo, InspectableBackend, InspectOptions } from '../inspection.js';
import { unregisterBackend } from '../registry.js';
import { decodeValue, encodeOrWarn } from '../serializer.js';
import { storable } from '../storable-text.js';
import { CircuitBreaker, RedisUnavailableError } from './breaker.js';
import { createClient } from './client.js';
import { encodeEntry, type Header, splitEntry, toEntry } from './entry.js';
import { globEscape, inspectRedis } from './inspect.js';
import { InvalidationFeed } from './invalidation-feed.js';
import { L1Cache, type L1Options } from './l1.js';
import { currentGenerations, sameTags } from './mget-check.js';
import { type Script, scripts } from './scripts.js';

export interface RedisBackendOptions {
  /** An ioredis client to use (it stays yours: close() does not quit it). */
  readonly client?: Redis;
  /** Where to connect when no client is given. Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /** Prefix of every key and of the pub/sub channel. Default `'agent-cache:'`. */
  readonly prefix?: string;
  /**
   * An in-process LRU in front of Redis, kept coherent through pub/sub. Off by default: then every hit is checked
   * in Redis, and an invalidation is seen everywhere as soon as the invalidator returns. With it on, a hit costs no
   * round trip but another process's invalidation arrives after a short delay (see the README for figures).
   */
  readonly l1?: boolean | L1Options;
  /** Bound on every Redis command, in ms. Default 500. */
  readonly timeout?: number;
  /** Consecutive failures that open the circuit (default 3) and how long it stays open in ms (default 1 000). */
  readonly breaker?: { readonly threshold?: number; readonly cooldown?: number };
}

/**
 * How long an expired entry stays in Redis after its expiry, in ms: a loop short-circuit may still return it
 * (`get(key, { stale: true })`), a normal read never does.
 */
const STALE_GRACE_MS = 60_000;

/** Keys whose tags this process remembers, for the one-MGET hit. */
const MAX_KNOWN_TAGS = 50_000;

type ConnectionEvent = 'ready' | 'close' | 'reconnecting' | 'end';

/**
 * Entries and resource generations in Redis, so several processes or machines share hits and invalidations. Every
 * read and write is one Lua script (atomic); see scripts.ts for the key layout. A Redis that is down makes calls
 * fail fast (bounded timeout, circuit breaker), which the core turns into uncached calls.
 */
export class RedisBackend implements Backend, InspectableBackend {
  readonly prefix: string;
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #breaker: CircuitBreaker;
  readonly #l1: L1Cache | undefined;
  readonly #warned = new Set<string>();
  readonly #listeners: [ConnectionEvent, () => void][] = [];
  /**
   * The tags (storable form) of keys this process has read or written. A key's tags rarely change (they come from
   * the tool and its arguments), so a hit can fetch the entry and the current generations of those tags in one
   * MGET — one atomic command, no script — and compare them here. If the entry turns out to have other tags, the
   * Lua script decides instead.
   */
  readonly #knownTags = new Map<
    string,
    { readonly tags: readonly string[]; readonly keys: readonly string[] }
  >();
  /** Keeps the L1 coherent; the L1 is served only while the feed is live (no invalidation can have been missed). */
  readonly #feed: InvalidationFeed | undefined;
  #closed = false;

  constructor(options: RedisBackendOptions = {}) {
    const timeout = options.timeout ?? 500;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new AgentCacheTypeError(
        `RedisBackend: option \`timeout\` must be a positive number of ms, got ${String(timeout)}`,
      );
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new AgentCacheTypeError('RedisBackend: option `prefix` must be a string');
    }
    this.prefix = options.prefix ?? 'agent-cache:';
    this.#breaker = new CircuitBreaker({
      threshold: options.breaker?.threshold ?? 3,
      cooldown: options.breaker?.cooldown ?? 1_000,
      timeout,
    });
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#ownsClient = false;
    } else {
      this.#client = createClient(options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', timeout);
      this.#ownsClient = true;
      // Failures surface as rejected commands (counted by the core); without a listener ioredis logs each one.
      this.#client.on('error', () => {});
    }
    this.#on('ready', () => {
      // Back from a disconnection: invalidations may have been missed, so forget the L1, and let calls through.
      this.#l1?.flush();
      this.#breaker.reset();
    });
    const l1 = options.l1 === true ? {} : options.l1 === false ? undefined : options.l1;
    this.#l1 = l1 === undefined ? undefined : new L1Cache(l1);
    this.#feed =
      this.#l1 === undefined ? undefined : new InvalidationFeed(this.#client, `${this.prefix}inv`, this.#l1);
  }

  /** True while the circuit breaker refuses calls (Redis failed repeatedly). */
  get circuitOpen(): boolean {
    return this.#breaker.open;
  }

  /** True while the L1 serves hits: it is on and its invalidation subscription is live. */
  get l1Active(): boolean {
    return this.#feed?.live === true;
  }

  /** Entries currently held in the L1 (0 without one). */
  get l1Size(): number {
    return this.#l1?.size ?? 0;
  }

  get(key: string, options?: BackendGetOptions): MaybePromise<BackendEntry | undefined> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const stale = options?.stale === true;
    // The L1 is keyed by the key itself (a JavaScript Map needs no storable form): a local hit is two map lookups.
    if (this.#feed?.live === true && !stale) {
      const hit = this.#l1!.get(key);
      if (hit !== undefined) return hit;
    }
    return this.#getRemote(key, stale);
  }

  async generations(tags: readonly string[]): Promise<readonly number[]> {
    if (tags.length === 0) return [];
    const reply = (await this.#eval(scripts.generations, 0, [
      this.prefix,
      ...tags.map(storable),
    ])) as number[];
    return reply.map(Number);
  }

  async set(key: string, entry: BackendEntry): Promise<boolean> {
    if (this.#closed) throw this.#closedError();
    const bytes = encodeOrWarn(entry.value, 'RedisBackend', entry.tags, this.#warned);
    if (bytes === undefined) return false;
    const k = storable(key);
    const tags = entry.tags.map(storable);
    const header: Header = [
      entry.expiresAt,
      tags,
      [...entry.gens],
      entry.sessionId === undefined ? null : storable(entry.sessionId),
      entry.createdAt ?? 0,
      entry.durationMs ?? 0,
    ];
    const args: (string | Buffer)[] = [
      this.#entryKey(k),
      this.prefix,
      entry.expiresAt === 0 ? '0' : String(entry.expiresAt + STALE_GRACE_MS),
      header[3] === null ? '' : `=${header[3]}`,
      encodeEntry(header, bytes),
    ];
    for (let i = 0; i < tags.length; i++) args.push(tags[i]!, String(entry.gens[i]));
    const epoch = this.#l1?.epoch;
    const stored = (await this.#eval(scripts.set, 1, args)) === 1;
    if (stored) {
      this.#rememberTags(k, tags);
      if (this.#l1 !== undefined)
        this.#l1.put(key, { ...entry, tags: [...entry.tags], gens: [...entry.gens] }, epoch!);
    }
    return stored;
  }

  async bump(tags: readonly string[], sessionId?: string): Promise<void> {
    if (tags.length === 0) return;
    const sid = sessionId === undefined ? '' : `=${storable(sessionId)}`;
    const last = await this.#eval(scripts.bump, 0, [
      this.prefix,
      sid,
      JSON.stringify(tags),
      ...tags.map(storable),
    ]);
    // Our own invalidation applies to our L1 at once; other processes learn it from the published message.
    this.#l1?.bumped(tags, Number(last));
  }

  async delete(key: string): Promise<void> {
    const k = storable(key);
    this.#l1?.delete(key);
    await this.#eval(scripts.delete, 1, [this.#entryKey(k), this.prefix, k]);
  }

  async clearSession(sessionId: string): Promise<void> {
    const sid = storable(sessionId);
    this.#l1?.clearSession(sid);
    await this.#eval(scripts.clearSession, 0, [this.prefix, sid]);
  }

  /**
   * Everything under the prefix becomes stale at once (the floor rises above every generation handed out), then
   * the keys are deleted by SCAN in batches; a key written meanwhile may be deleted too, which is only a miss.
   */
  async clear(): Promise<void> {
    await this.#eval(scripts.clear, 0, [this.prefix]);
    this.#l1?.flush();
    // Only the key families of this layout (entries, generations, session sets): a longer prefix that begins with
    // this one (`app:` and `app:tenant:`) has its own keys under `app:tenant:…`, which none of these match.
    for (const family of ['e:', 'g:', 's:']) {
      const match = `${globEscape(this.prefix + family)}*`;
      let cursor = '0';
      do {
        const [next, keys] = await this.#call(() => this.#client.scan(cursor, 'MATCH', match, 'COUNT', 500));
        cursor = next;
        if (keys.length > 0) await this.#eval(scripts.purge, 0, [this.prefix, ...keys]);
      } while (cursor !== '0');
    }
  }

  /** Every entry under the prefix, by SCAN in batches (see `InspectableBackend`). */
  inspect(options: InspectOptions = {}): AsyncIterable<EntryInfo> {
    return inspectRedis(
      {
        prefix: this.prefix,
        scan: (cursor, match, count) =>
          this.#call(() => this.#client.scan(cursor, 'MATCH', match, 'COUNT', count)),
        describe: (keys) => this.#eval(scripts.inspect, 0, [this.prefix, ...keys]) as Promise<unknown[]>,
      },
      options,
    );
  }

  /**
   * Whether anything ever used this prefix (its generation clock exists): tells an empty cache from a mistyped
   * prefix, which the `agent-cache` command refuses rather than silently reporting nothing.
   */
  async inUse(): Promise<boolean> {
    return (await this.#call(() => this.#client.exists(`${this.prefix}clock`))) === 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#feed?.close();
    this.#l1?.flush();
    unregisterBackend(this);
    for (const [event, listener] of this.#listeners) this.#client.off(event, listener);
    if (this.#ownsClient) {
      try {
        await this.#breaker.run(() => this.#client.quit());
      } catch {
        // Redis is gone: there is nothing to say goodbye to.
      }
      this.#client.disconnect();
    }
  }

  async #getRemote(key: string, stale: boolean): Promise<BackendEntry | undefined> {
    const epoch = this.#l1?.epoch;
    const k = storable(key);
    const entryKey = this.#entryKey(k);
    let blob: Buffer | null;
    let header: Header | undefined;
    const known = stale ? undefined : this.#knownTags.get(k);
    if (stale) {
      blob = await this.#call(() => this.#client.getBuffer(entryKey));
    } else if (known !== undefined) {
      const reply = (await this.#call(() =>
        this.#client.callBuffer('MGET', entryKey, `${this.prefix}floor`, ...known.keys),
      )) as (Buffer | null)[];
      blob = reply[0]!;
      if (blob === null) return undefined;
      const split = splitEntry(blob);
      if (sameTags(split.header[1], known.tags)) {
        if (!currentGenerations(split.header[2], reply)) return undefined;
        header = split.header;
        blob = split.value;
      } else {
        blob = (await this.#eval(scripts.get, 1, [entryKey, this.prefix], true)) as Buffer | null;
      }
    } else {
      blob = (await this.#eval(scripts.get, 1, [entryKey, this.prefix], true)) as Buffer | null;
    }
    if (blob === null) return undefined;
    let entry: BackendEntry;
    try {
      let value: Buffer;
      if (header === undefined) {
        const split = splitEntry(blob);
        header = split.header;
        value = split.value;
        if (!stale) this.#rememberTags(k, header[1]);
      } else {
        value = blob;
      }
      entry = toEntry(header, decodeValue(value));
    } catch {
      // An entry that does not decode (written by something else under our prefix, or an incompatible Node) is a
      // miss; it is dropped so the next result can replace it.
      this.#eval(scripts.delete, 1, [entryKey, this.prefix, k]).catch(() => {});
      return undefined;
    }
    if (stale) return entry;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) return undefined;
    if (this.#l1 !== undefined) this.#l1.put(key, entry, epoch!);
    return entry;
  }

  #rememberTags(k: string, tags: readonly string[]): void {
    if (this.#knownTags.size >= MAX_KNOWN_TAGS) this.#knownTags.clear();
    this.#knownTags.set(k, { tags, keys: tags.map((tag) => `${this.prefix}g:${tag}`) });
  }

  #entryKey(k: string): string {
    return `${this.prefix}e:${k}`;
  }

  /** Runs a script by its SHA, loading it on the first NOSCRIPT (after a Redis restart the cache is empty). */
  #eval(script: Script, numKeys: number, args: (string | Buffer)[], buffers = false): Promise<unknown> {
    const client = this.#client;
    return this.#call(async () => {
      try {
        return buffers
          ? await client.callBuffer('EVALSHA', script.sha, numKeys, ...args)
          : await client.evalsha(script.sha, numKeys, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
        return buffers
          ? await client.callBuffer('EVAL', script.source, numKeys, ...args)
          : await client.eval(script.source, numKeys, ...args);
      }
    });
  }

  /** Every command goes through here: refused at once when closed or known to be disconnected, else bounded. */
  #call<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const status = this.#client.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      try {
        this.#breaker.fail(`Redis connection is ${status}`);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#breaker.run(command);
  }

  #closedError(): Error {
    return new BackendClosedError(`RedisBackend(${this.prefix})`);
  }

  #on(event: ConnectionEvent, listener: () => void): void {
    this.#client.on(event, listener);
    this.#listeners.push([event, listener]);
  }
}
