import type { Cluster, Redis } from 'ioredis';
import { AgentCacheTypeError, BackendClosedError } from '../../errors.js';
import type { Backend, BackendEntry, BackendGetOptions, MaybePromise } from '../contract.js';
import type { EntryInfo, InspectableBackend, InspectOptions } from '../inspection.js';
import { unregisterBackend } from '../registry.js';
import { encodeOrWarn, type Serializer, serializerOption } from '../serializer.js';
import { storable } from '../storable-text.js';
import { CircuitBreaker, RedisUnavailableError } from './breaker.js';
import { createClient } from './client.js';
import { encodeEntry, readHeader, readTags, toEntry } from './entry.js';
import { inspectRedis } from './inspect.js';
import { InvalidationFeed } from './invalidation-feed.js';
import { L1Cache, type L1Options } from './l1.js';
import { KeyLayout, SHARDS } from './layout.js';
import { RedisLink } from './link.js';
import { generationsFrom, KeyList, type Lookup, LookupBatch, tagPositions, type Verdict } from './lookups.js';
import { scripts } from './scripts.js';

export interface RedisBackendOptions {
  /**
   * An ioredis client to use: a `Redis` or a `Cluster` (it stays yours: close() does not quit it). On a cluster the
   * entries and generations spread over every node (see docs/redis-layout.md).
   */
  readonly client?: Redis | Cluster;
  /** Where to connect when no client is given. Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /**
   * Prefix of every key and channel. Default `'agent-cache:'`. It may not contain `{`; prefixes that begin with one
   * another (`app:` and `app:tenant2:`) never touch each other's keys.
   */
  readonly prefix?: string;
  /**
   * An in-process LRU in front of Redis, kept coherent through pub/sub. Off by default: then every hit is checked
   * in Redis, and an invalidation is seen everywhere as soon as the invalidator returns. With it on, a hit costs no
   * round trip but another process's invalidation arrives after a short delay (figures in docs/backends.md).
   */
  readonly l1?: boolean | L1Options;
  /** Bound on every Redis operation, in ms: a Redis that does not answer within it counts as down. Default 500. */
  readonly timeout?: number;
  /** Consecutive failures that open the circuit (default 3) and how long it stays open in ms (default 1 000). */
  readonly breaker?: { readonly threshold?: number; readonly cooldown?: number };
  /**
   * How values become bytes and back. Default: v8's structured serialization (`v8Serializer`). Every process
   * sharing the prefix must use the same one.
   */
  readonly serializer?: Serializer;
}

/**
 * How long an expired entry stays in Redis after its expiry, in ms: a loop short-circuit may still return it
 * (`get(key, { stale: true })`), a normal read never does.
 */
const STALE_GRACE_MS = 60_000;

/** `Promise.withResolvers` (Node 22+; the project's lib is ES2023): a pending promise without a closure of ours. */
function withResolvers<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  return (
    Promise as unknown as { withResolvers<U>(): ReturnType<typeof withResolvers<U>> }
  ).withResolvers<T>();
}
/** Members of a session's index handled per round trip when the session ends: no command blocks Redis for long. */
const SESSION_BATCH = 500;
/**
 * A session's own tag generations outlive its end by this much (then Redis drops them): a read of that session
 * still in flight somewhere cannot find its tags back at the floor and store what an invalidation made stale.
 */
const SESSION_TAG_GRACE_MS = 3_600_000;
const SCAN_COUNT = 500;
const DEFAULT_HEARTBEAT_MS = 1_000;

type ConnectionEvent = 'ready' | 'close' | 'reconnecting' | 'end';

/**
 * Entries and resource generations in Redis, so several processes or machines share hits and invalidations. A hit
 * is one MGET (concurrent hits share one), a miss that stores is that MGET and one Lua script; see layout.ts for the
 * key layout and scripts.ts for the scripts. A Redis that is down or stalled makes calls fail within `timeout`
 * (circuit breaker), which the core turns into uncached calls.
 */
export class RedisBackend implements Backend, InspectableBackend {
  readonly prefix: string;
  /** get() uses `options.tags`: the entry and its tags' generations come back in one round trip. */
  readonly tagsOnGet = true;
  readonly #layout: KeyLayout;
  readonly #client: Redis | Cluster;
  readonly #link: RedisLink;
  readonly #ownsClient: boolean;
  readonly #l1: L1Cache | undefined;
  /** Keeps the L1 coherent; the L1 is served only while the feed is live (no invalidation can have been missed). */
  readonly #feed: InvalidationFeed | undefined;
  readonly #lookups: LookupBatch;
  /** Generations read by a lookup that missed, for the generations() call of the same miss (see lookups.ts). */
  readonly #snapshots = new WeakMap<readonly string[], readonly number[]>();
  readonly #warned = new Set<string>();
  readonly #serializer: Serializer;
  readonly #listeners: [ConnectionEvent, () => void][] = [];
  #settingUp: Promise<void> | undefined;
  #floorsChecked = false;
  #closed = false;

  constructor(options: RedisBackendOptions = {}) {
    this.#serializer = serializerOption(options.serializer, 'RedisBackend');
    const timeout = options.timeout ?? 500;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new AgentCacheTypeError(
        `RedisBackend: option \`timeout\` must be a positive number of ms, got ${String(timeout)}`,
      );
    }
    const l1 = options.l1 === true ? {} : options.l1 === false ? undefined : options.l1;
    const heartbeat = l1?.heartbeat ?? DEFAULT_HEARTBEAT_MS;
    if (!Number.isFinite(heartbeat) || heartbeat < 10) {
      throw new AgentCacheTypeError(
        `RedisBackend: option \`l1.heartbeat\` must be a number of ms >= 10, got ${String(heartbeat)}`,
      );
    }
    this.#layout = new KeyLayout(options.prefix ?? 'agent-cache:');
    this.prefix = this.#layout.prefix;
    this.#l1 = l1 === undefined ? undefined : new L1Cache(l1);
    const breaker = new CircuitBreaker({
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
    this.#link = new RedisLink(this.#client, breaker, () => (this.#closed ? this.#closedError() : undefined));
    this.#lookups = new LookupBatch(this.#link, this.#layout, this.#snapshots, (lookup, verdict) =>
      lookup.resolve(this.#served(lookup, verdict)),
    );
    this.#on('ready', () => {
      // Back from a disconnection: invalidations may have been missed, so forget the L1, and let calls through.
      this.#l1?.flush();
      this.#link.reset();
    });
    this.#feed =
      this.#l1 === undefined
        ? undefined
        : new InvalidationFeed(this.#link, this.#layout, this.#l1, heartbeat);
  }

  /** True while the circuit breaker refuses calls (Redis failed repeatedly). */
  get circuitOpen(): boolean {
    return this.#link.circuitOpen;
  }

  /** True while the L1 serves hits: it is on and its subscription is proven live by a recent heartbeat. */
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
    if (!stale && this.#feed !== undefined && this.#feed.serves()) {
      const hit = this.#l1!.get(key);
      if (hit !== undefined) return hit;
    }
    return stale ? this.#getStale(key) : this.#getRemote(key, options?.tags?.());
  }

  generations(tags: readonly string[]): MaybePromise<readonly number[]> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (tags.length === 0) return [];
    const snapshot = this.#snapshots.get(tags);
    if (snapshot !== undefined) {
      this.#snapshots.delete(tags);
      return snapshot;
    }
    return this.#link.run(() => this.#currentGenerations(tags));
  }

  async set(key: string, entry: BackendEntry): Promise<boolean> {
    if (this.#closed) throw this.#closedError();
    const bytes = encodeOrWarn(entry.value, 'RedisBackend', entry.tags, this.#warned, this.#serializer);
    if (bytes === undefined) return false;
    const layout = this.#layout;
    const k = storable(key);
    const entryKey = layout.entryKey(k);
    const sid = entry.sessionId === undefined ? undefined : storable(entry.sessionId);
    const blob = encodeEntry(
      {
        expiresAt: entry.expiresAt,
        createdAt: entry.createdAt ?? 0,
        durationMs: entry.durationMs ?? 0,
        gens: entry.gens,
        sessionId: entry.sessionId,
        tags: entry.tags,
      },
      bytes,
    );
    const pxat = entry.expiresAt === 0 ? '0' : String(entry.expiresAt + STALE_GRACE_MS);
    const epoch = this.#l1?.epoch;
    let stored: boolean;
    if (!this.#link.cluster) {
      // One script: the generation check and the write are one atomic step.
      const keys = [entryKey];
      for (const tag of entry.tags) {
        const t = layout.tagKey(tag);
        keys.push(layout.floorKey(t.shard), t.key);
      }
      if (sid !== undefined) keys.push(layout.sessionKey(sid));
      const args = [pxat, blob, sid === undefined ? '0' : '1', ...entry.gens.map(String)];
      stored = (await this.#link.eval(scripts.set, keys, args)) === 1;
    } else {
      stored = await this.#link.run(() => this.#clusterSet(entry, entryKey, sid, blob, pxat));
    }
    if (stored && this.#l1 !== undefined && this.#feed!.live) {
      // A decoded copy: the caller keeps (and may change) the object it stored.
      this.#l1.put(
        key,
        { ...entry, value: this.#serializer.decode(bytes), tags: [...entry.tags], gens: [...entry.gens] },
        epoch!,
      );
    }
    return stored;
  }

  async bump(tags: readonly string[], sessionId?: string): Promise<void> {
    if (this.#closed) throw this.#closedError();
    if (tags.length === 0) return;
    const layout = this.#layout;
    const link = this.#link;
    const index = sessionId === undefined ? undefined : layout.sessionKey(storable(sessionId));
    const shards = new Map<number, string[]>();
    for (const tag of tags) {
      const shard = layout.tagKey(tag).shard;
      const group = shards.get(shard);
      if (group === undefined) shards.set(shard, [tag]);
      else group.push(tag);
    }
    const groups = [...shards];
    let lasts: unknown[];
    try {
      lasts = await link.run(async () => {
        await this.#floorsReady();
        // On a cluster the session index lives in another slot: record the keys first (a leftover member is
        // harmless; a generation missing from the index would outlive the session).
        const inScript = index !== undefined && !link.cluster;
        if (index !== undefined && link.cluster) {
          await this.#client.sadd(index, ...tags.map((tag) => layout.tagKey(tag).key));
        }
        return Promise.all(
          groups.map(([shard, group]) => {
            const keys = [layout.clockKey(shard), layout.floorKey(shard)];
            for (const tag of group) keys.push(layout.tagKey(tag).key);
            if (inScript) keys.push(index);
            return link.evalNow(scripts.bump, keys, [
              layout.channel,
              JSON.stringify(group),
              inScript ? '1' : '0',
            ]);
          }),
        );
      });
    } catch (error) {
      // Not recorded (or not known to be): this process's L1 holds nothing of these tags until one is.
      this.#l1?.lost(tags);
      throw error;
    }
    // Our own invalidation applies to our L1 at once; other processes learn it from the published message.
    for (let i = 0; i < groups.length; i++) this.#l1?.bumped(groups[i]![1], Number(lasts[i]), true);
  }

  async delete(key: string): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const k = storable(key);
    this.#l1?.delete(key);
    await this.#link.eval(scripts.delete, [this.#layout.entryKey(k)], [this.#layout.channel, `d${k}`]);
  }

  /**
   * Drops the session's entries and tag generations in batches of SESSION_BATCH members of its index, each batch
   * a few short commands: other clients of the Redis never wait behind a big session.
   */
  async clearSession(sessionId: string): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const sid = storable(sessionId);
    this.#l1?.clearSession(sid);
    const layout = this.#layout;
    const link = this.#link;
    const client = this.#client;
    const index = layout.sessionKey(sid);
    for (;;) {
      const members = (await link.run(() => client.srandmember(index, SESSION_BATCH))) as string[];
      if (members.length === 0) break;
      const entries: string[] = [];
      const tags: string[] = [];
      for (const member of members) (layout.kindOf(member) === 'tag' ? tags : entries).push(member);
      await link.run(() =>
        Promise.all([
          entries.length === 0
            ? undefined
            : link.bySlot(entries, (group) => client.unlink(...group).then(() => group)),
          ...tags.map((tag) => client.pexpire(tag, SESSION_TAG_GRACE_MS)),
        ]),
      );
      // Removed from the index only once their keys are gone: an interrupted end can be run again.
      await link.run(() => client.srem(index, ...members));
    }
    await link.run(() => client.publish(layout.channel, `s${sid}`));
  }

  /**
   * Everything under the prefix becomes stale at once (every shard's floor rises above every generation it handed
   * out), then the keys are deleted by SCAN in batches on every node; a key written meanwhile may be deleted too,
   * which is only a miss. Keys of other prefixes never match (see layout.ts).
   */
  async clear(): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const layout = this.#layout;
    const link = this.#link;
    await link.run(async () => {
      await this.#floorsReady();
      const clocks = await link.mgetNow(Array.from({ length: SHARDS }, (_, s) => layout.clockKey(s)));
      let target = 0;
      for (const clock of clocks) if (clock !== null) target = Math.max(target, Number(clock.toString()) + 1);
      await Promise.all(
        Array.from({ length: SHARDS }, (_, s) =>
          link.evalNow(scripts.clear, [layout.clockKey(s), layout.floorKey(s)], [String(target)]),
        ),
      );
    });
    this.#l1?.flush();
    await link.run(() => this.#client.publish(layout.channel, 'c'));
    for (const node of link.masters()) {
      let cursor = '0';
      do {
        const [next, keys] = await link.run(() =>
          node.scan(cursor, 'MATCH', layout.pattern, 'COUNT', SCAN_COUNT),
        );
        cursor = next;
        if (keys.length > 0) await link.run(() => this.#purge(keys));
      } while (cursor !== '0');
    }
  }

  /** Every entry under the prefix, by SCAN in batches (see `InspectableBackend`). Serves and changes nothing. */
  inspect(options: InspectOptions = {}): AsyncIterable<EntryInfo> {
    const layout = this.#layout;
    const link = this.#link;
    const entryPrefix = layout.entryKey('');
    const match = layout.entryPattern;
    return inspectRedis(
      {
        entryPrefix,
        batches: async function* () {
          for (const node of link.masters()) {
            let cursor = '0';
            do {
              const [next, keys] = await link.run(() =>
                node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT),
              );
              cursor = next;
              if (keys.length > 0) yield keys;
            } while (cursor !== '0');
          }
        },
        describe: (keys) =>
          link.run(async () => {
            const pairs = await link.bySlot(keys, async (group) => {
              const reply = (await link.evalBufferNow(scripts.inspect, group, [])) as unknown[];
              return group.map((_, i) => {
                const head = reply[2 * i];
                return [Buffer.isBuffer(head) ? head : null, Number(reply[2 * i + 1])] as const;
              });
            });
            return pairs;
          }),
        generations: (tags) =>
          tags.length === 0
            ? Promise.resolve([])
            : link.run(async () => {
                const list = new KeyList();
                const positions = tagPositions(layout, tags, list);
                return generationsFrom(positions, await link.mgetNow(list.keys));
              }),
      },
      options,
    );
  }

  /**
   * Whether anything ever used this prefix (its generation floors exist; clear() keeps them): tells an empty cache
   * from a mistyped prefix, which the `agent-cache` command refuses rather than silently reporting nothing.
   */
  async inUse(): Promise<boolean> {
    const floor = this.#layout.floorKey(0);
    return (await this.#link.run(() => this.#client.exists(floor))) === 1;
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
        await Promise.race([this.#client.quit(), new Promise((r) => setTimeout(r, 200).unref())]);
      } catch {
        // Redis is gone: there is nothing to say goodbye to.
      }
      this.#client.disconnect();
    }
  }

  #getRemote(key: string, tags: readonly string[] | undefined): Promise<BackendEntry | undefined> {
    const { promise, resolve, reject } = withResolvers<BackendEntry | undefined>();
    const lookup: Lookup = { key, k: storable(key), tags, epoch: this.#l1?.epoch ?? 0, resolve, reject };
    this.#lookups.add(lookup);
    return promise;
  }

  async #getStale(key: string): Promise<BackendEntry | undefined> {
    const k = storable(key);
    const blob = await this.#link.run(() => this.#client.getBuffer(this.#layout.entryKey(k)));
    if (blob === null) return undefined;
    try {
      const header = readHeader(blob);
      return toEntry(header, this.#serializer.decode(blob.subarray(header.valueAt)), readTags(blob, header));
    } catch {
      return this.#damaged(k);
    }
  }

  /** A verified entry becomes a BackendEntry (and an L1 entry); one that does not decode is dropped: a miss. */
  #served(lookup: Lookup, verdict: Verdict): BackendEntry | undefined {
    if (verdict === undefined) return undefined;
    if (verdict === 'damaged') return this.#damaged(lookup.k);
    let entry: BackendEntry;
    try {
      entry = toEntry(
        verdict.header,
        this.#serializer.decode(verdict.blob.subarray(verdict.header.valueAt)),
        verdict.tags,
      );
    } catch {
      return this.#damaged(lookup.k);
    }
    if (this.#l1 !== undefined && this.#feed!.live) this.#l1.put(lookup.key, entry, lookup.epoch);
    return entry;
  }

  /**
   * An entry that does not decode (written by something else under our prefix, or an incompatible Node) is a miss;
   * it is dropped so the next result can replace it.
   */
  #damaged(k: string): undefined {
    this.#link
      .eval(scripts.delete, [this.#layout.entryKey(k)], [this.#layout.channel, `d${k}`])
      .catch(() => {});
    return undefined;
  }

  /** The current generation of each tag, creating the floors of shards used for the first time. */
  async #currentGenerations(tags: readonly string[]): Promise<readonly number[]> {
    const layout = this.#layout;
    const list = new KeyList();
    const positions = tagPositions(layout, tags, list);
    const gens = generationsFrom(positions, await this.#link.mgetNow(list.keys));
    if (gens !== undefined) return gens;
    await this.#floorsSetUp();
    const again = generationsFrom(positions, await this.#link.mgetNow(list.keys));
    if (again === undefined)
      throw new RedisUnavailableError('Redis dropped generation floors while they were read');
    return again;
  }

  /**
   * Gives every shard without a floor one (a new deployment, or a Redis that lost its data), all from one reading
   * of the server's clock in µs: shards start at one base generation, above anything an old snapshot recorded.
   */
  async #setUpFloors(): Promise<void> {
    const layout = this.#layout;
    const floors = Array.from({ length: SHARDS }, (_, s) => layout.floorKey(s));
    const present = await this.#link.mgetNow(floors);
    if (present.every((floor) => floor !== null)) return;
    const [seconds, micros] = (await this.#client.time()) as [string | number, string | number];
    const start = `${seconds}${String(micros).padStart(6, '0')}`;
    await Promise.all(
      present.map((floor, s) =>
        floor === null
          ? this.#link.evalNow(scripts.floor, [layout.clockKey(s), floors[s]!], [start])
          : undefined,
      ),
    );
  }

  /** #setUpFloors, once at a time. */
  #floorsSetUp(): Promise<void> {
    this.#settingUp ??= this.#setUpFloors().then(
      () => {
        this.#settingUp = undefined;
        this.#floorsChecked = true;
      },
      (error: unknown) => {
        this.#settingUp = undefined;
        throw error;
      },
    );
    return this.#settingUp;
  }

  /** Before this process's first write: every shard has its floor (writes create a missing one on their own). */
  async #floorsReady(): Promise<void> {
    if (!this.#floorsChecked) await this.#floorsSetUp();
  }

  /**
   * A store on a cluster, where an entry and its tags live in different slots: the generations are compared just
   * before the write instead of in the same script. That leaves a moment in which an invalidation can land after
   * the check and before the write; the entry is then stored with generations that are no longer current, and no
   * hit ever serves it, because every hit compares them again (lookups.ts).
   */
  async #clusterSet(
    entry: BackendEntry,
    entryKey: string,
    sid: string | undefined,
    blob: Buffer,
    pxat: string,
  ): Promise<boolean> {
    const layout = this.#layout;
    const client = this.#client as Cluster;
    if (entry.tags.length > 0) {
      const list = new KeyList();
      const positions = tagPositions(layout, entry.tags, list);
      const current = generationsFrom(positions, await this.#link.mgetNow(list.keys));
      if (current === undefined) return false;
      for (let i = 0; i < current.length; i++) if (current[i] !== entry.gens[i]) return false;
    }
    // The index first: a member whose entry never came is harmless, an entry missing from the index would outlive
    // its session.
    if (sid !== undefined) await client.sadd(layout.sessionKey(sid), entryKey);
    if (pxat === '0') await client.set(entryKey, blob);
    else await client.call('SET', entryKey, blob, 'PXAT', pxat);
    return true;
  }

  /** Deletes what clear() made obsolete: entries and session indexes, and generations below their shard's floor. */
  async #purge(keys: readonly string[]): Promise<void> {
    const layout = this.#layout;
    const link = this.#link;
    const client = this.#client;
    const gone: string[] = [];
    const byShard = new Map<number, string[]>();
    for (const key of keys) {
      const kind = layout.kindOf(key);
      if (kind === 'entry' || kind === 'session') gone.push(key);
      else if (kind === 'tag') {
        const shard = layout.shardOfKey(key);
        const group = byShard.get(shard);
        if (group === undefined) byShard.set(shard, [key]);
        else group.push(key);
      }
    }
    await Promise.all([
      gone.length === 0 ? undefined : link.bySlot(gone, (group) => client.unlink(...group).then(() => group)),
      ...[...byShard].map(([shard, group]) =>
        link.evalNow(scripts.purge, [layout.floorKey(shard), ...group], []),
      ),
    ]);
  }

  #closedError(): Error {
    return new BackendClosedError(`RedisBackend(${this.prefix})`);
  }

  #on(event: ConnectionEvent, listener: () => void): void {
    this.#client.on(event, listener);
    this.#listeners.push([event, listener]);
  }
}
