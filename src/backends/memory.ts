import { serialize } from 'node:v8';
import { AgentCacheTypeError, BackendClosedError } from '../errors.js';
import type { Backend, BackendEntry, BackendGetOptions } from './contract.js';
import { ClockRing } from './memory/clock-ring.js';
import { Stamps } from './memory/stamps.js';
import { SizedStored, Stored } from './memory/stored.js';
import { unregisterBackend } from './registry.js';

export interface MemoryBackendOptions {
  /** Most entries held; the least recently used go first. Default 10 000. */
  readonly maxEntries?: number;
  /** Upper bound on the estimated size of the stored values (v8 serialization size). Default: no bound. */
  readonly maxBytes?: number;
  /** Most tag generations remembered; older ones are forgotten conservatively (see below). Default 100 000. */
  readonly maxGenerations?: number;
}

/**
 * The default backend: entries in this process, bounded by `maxEntries` (and `maxBytes`), the least recently used
 * evicted first. Values are kept by reference (no copy on a hit), so treat cached results as immutable.
 *
 * Recency is kept CLOCK-style (see memory/clock-ring.ts): a hit sets a flag in the entry it already holds, and
 * eviction sweeps the ring of entries for one not used since the hand last passed. A hit costs one map lookup, or
 * none when the read path holds the entry from an earlier call (`current`), and eviction is O(1) amortized at any
 * bound.
 *
 * Freshness: see memory/stamps.ts. An entry is checked against the generations of its tags once per change of
 * any generation, and entries stored with the same tags and generations share that check, so invalidating one
 * resource does not slow the hits of others and invalidation itself touches no entry.
 */
export class MemoryBackend implements Backend {
  readonly maxEntries: number;
  readonly maxBytes: number | undefined;
  readonly maxGenerations: number;
  readonly #index = new Map<string, Stored>();
  readonly #ring: ClockRing;
  readonly #stamps: Stamps;
  #bytes = 0;
  /** Keys of each session's entries, dropped when the session ends. */
  #sessionKeys = new Map<string, Set<string>>();
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.maxEntries = positiveInteger(options.maxEntries ?? 10_000, 'maxEntries');
    this.maxBytes =
      options.maxBytes === undefined ? undefined : positiveInteger(options.maxBytes, 'maxBytes');
    this.maxGenerations = positiveInteger(options.maxGenerations ?? 100_000, 'maxGenerations');
    this.#ring = new ClockRing(this.maxEntries, this.maxBytes);
    this.#stamps = new Stamps(this, this.maxGenerations);
  }

  /** Number of entries held. */
  get size(): number {
    return this.#index.size;
  }

  /** Estimated bytes held (only tracked when `maxBytes` is set). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of sessions with entries or tag generations held. */
  get sessionCount(): number {
    const ids = new Set([...this.#sessionKeys.keys(), ...this.#stamps.sessions()]);
    return ids.size;
  }

  get(key: string, options?: BackendGetOptions): BackendEntry | undefined {
    if (this.#closed) throw closedError();
    const entry = this.#index.get(key);
    if (entry === undefined) return undefined;
    if (options?.stale) return entry;
    return this.#fresh(entry) ? entry : undefined;
  }

  current(entry: BackendEntry & { readonly key: string }): boolean {
    return (
      entry instanceof Stored &&
      entry.stamp.owner === this &&
      entry.used !== Stored.GONE &&
      !this.#closed &&
      this.#fresh(entry)
    );
  }

  generations(tags: readonly string[]): readonly number[] {
    if (this.#closed) throw closedError();
    return this.#stamps.generations(tags);
  }

  set(key: string, entry: BackendEntry): boolean {
    if (this.#closed) throw closedError();
    const stamp = this.#stamps.stampOf(entry.tags, entry.gens, entry.sessionId);
    if (stamp === undefined) return false;
    let bytes = 0;
    if (this.maxBytes !== undefined) {
      try {
        bytes = serialize(entry.value).length + key.length;
      } catch {
        return false;
      }
      if (bytes > this.maxBytes) return false;
    }
    const previous = this.#index.get(key);
    if (previous !== undefined) this.#remove(previous);
    const createdAt = entry.createdAt ?? 0;
    const durationMs = entry.durationMs ?? 0;
    const stored =
      this.maxBytes === undefined
        ? new Stored(key, entry.value, stamp, entry.expiresAt, createdAt, durationMs)
        : new SizedStored(key, entry.value, stamp, entry.expiresAt, createdAt, durationMs, bytes);
    if (this.maxBytes !== undefined) {
      while (this.#bytes + bytes > this.maxBytes && this.#index.size > 0) this.#remove(this.#ring.victim());
    }
    const evicted = this.#ring.add(stored);
    if (evicted !== undefined) this.#remove(evicted, false);
    this.#index.set(key, stored);
    this.#bytes += bytes;
    if (stamp.sessionId !== undefined) addTo(this.#sessionKeys, stamp.sessionId, key);
    return true;
  }

  bump(tags: readonly string[], sessionId?: string): void {
    if (this.#closed) throw closedError();
    this.#stamps.bump(tags, sessionId);
  }

  delete(key: string): void {
    if (this.#closed) throw closedError();
    const entry = this.#index.get(key);
    if (entry !== undefined) this.#remove(entry);
  }

  clearSession(sessionId: string): void {
    if (this.#closed) throw closedError();
    const keys = this.#sessionKeys.get(sessionId);
    if (keys) {
      this.#sessionKeys.delete(sessionId);
      for (const key of keys) {
        const entry = this.#index.get(key);
        if (entry !== undefined) this.#remove(entry);
      }
    }
    this.#stamps.clearSession(sessionId);
  }

  clear(): void {
    if (this.#closed) throw closedError();
    this.#drop();
  }

  #drop(): void {
    for (const entry of this.#index.values()) entry.used = Stored.GONE;
    this.#index.clear();
    this.#ring.clear();
    this.#sessionKeys.clear();
    this.#bytes = 0;
    this.#stamps.clear();
  }

  /** Drops everything; later calls throw (a closed backend makes calls run uncached) and it stops receiving
   * invalidations. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#drop();
    this.#closed = true;
    unregisterBackend(this);
  }

  /** Not expired and current: then marked as used. An entry found stale or expired is dropped. */
  #fresh(entry: Stored): boolean {
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.#remove(entry);
      return false;
    }
    if (!this.#stamps.current(entry.stamp)) {
      this.#remove(entry);
      return false;
    }
    if (entry.used === Stored.IDLE) entry.used = Stored.USED;
    return true;
  }

  /** Takes an entry out of the index; `inRing`: it still has its slot (not an entry the ring just evicted). */
  #remove(entry: Stored, inRing = true): void {
    if (entry.used === Stored.GONE) return;
    // An entry that has not gone is the one its key maps to (a replaced or dropped one is marked gone).
    const key = entry.key;
    this.#index.delete(key);
    this.#bytes -= entry.size();
    const sessionId = entry.stamp.sessionId;
    if (sessionId !== undefined) {
      const keys = this.#sessionKeys.get(sessionId);
      if (keys) {
        keys.delete(key);
        if (keys.size === 0) this.#sessionKeys.delete(sessionId);
      }
    }
    entry.used = Stored.GONE;
    if (inRing) this.#ring.left(entry);
  }
}

function addTo(index: Map<string, Set<string>>, id: string, member: string): void {
  const set = index.get(id);
  if (set) set.add(member);
  else index.set(id, new Set([member]));
}

function closedError(): Error {
  return new BackendClosedError('MemoryBackend');
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new AgentCacheTypeError(
      `MemoryBackend: option \`${option}\` must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}
