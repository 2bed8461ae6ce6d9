import { serialize } from 'node:v8';
import { AgentCacheTypeError, BackendClosedError } from '../errors.js';
import type { Backend, BackendEntry, BackendGetOptions } from './contract.js';
import { unregisterBackend } from './registry.js';

export interface MemoryBackendOptions {
  /** Most entries held; the least recently used go first. Default 10 000. */
  readonly maxEntries?: number;
  /** Upper bound on the estimated size of the stored values (v8 serialization size). Default: no bound. */
  readonly maxBytes?: number;
  /** Most tag generations remembered; older ones are forgotten conservatively (see below). Default 100 000. */
  readonly maxGenerations?: number;
}

interface Stored extends BackendEntry {
  readonly bytes: number;
  /** Value of the backend's use counter when the entry was last moved to the recent end. */
  touched: number;
  /** The generation clock when the tags were last found current: unchanged clock, nothing to re-check. */
  checkedAt: number;
}

/**
 * The default backend: an LRU map in this process. Values are kept by reference (no copy on a hit), so treat
 * cached results as immutable.
 *
 * Generations come from one monotonic counter. The generation table is bounded: when a tag is forgotten, the
 * `floor` rises to its generation and every tag not in the table reads as `floor`, so an entry recorded against a
 * forgotten tag can only turn stale (a spurious miss), never fresh again.
 */
export class MemoryBackend implements Backend {
  readonly maxEntries: number;
  readonly maxBytes: number | undefined;
  readonly maxGenerations: number;
  #entries = new Map<string, Stored>();
  #bytes = 0;
  #gens = new Map<string, number>();
  #clock = 0;
  #ticks = 0;
  #floor = 0;
  #sessionKeys = new Map<string, Set<string>>();
  #sessionTags = new Map<string, Set<string>>();
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.maxEntries = positiveInteger(options.maxEntries ?? 10_000, 'maxEntries');
    this.maxBytes =
      options.maxBytes === undefined ? undefined : positiveInteger(options.maxBytes, 'maxBytes');
    this.maxGenerations = positiveInteger(options.maxGenerations ?? 100_000, 'maxGenerations');
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Estimated bytes held (only tracked when `maxBytes` is set). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of sessions with entries or tag generations held. */
  get sessionCount(): number {
    const ids = new Set([...this.#sessionKeys.keys(), ...this.#sessionTags.keys()]);
    return ids.size;
  }

  get(key: string, options?: BackendGetOptions): BackendEntry | undefined {
    if (this.#closed) throw closedError();
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (options?.stale) return entry;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.#remove(key, entry);
      return undefined;
    }
    // Every change of a generation (bump, forgetting, clear, clearSession) advances the clock, so an entry checked
    // since the last change is still current: a hit in a quiet period costs no generation lookup.
    if (entry.checkedAt !== this.#clock) {
      if (!this.#current(entry)) {
        this.#remove(key, entry);
        return undefined;
      }
      entry.checkedAt = this.#clock;
    }
    // Move to the most-recently-used end, unless it is already among the most recent half: an approximate LRU
    // that spares hot entries two map operations per hit.
    const tick = ++this.#ticks;
    if (tick - entry.touched > this.maxEntries >> 1) {
      entry.touched = tick;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  generations(tags: readonly string[]): readonly number[] {
    if (this.#closed) throw closedError();
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) out[i] = this.#gens.get(tags[i]!) ?? this.#floor;
    return out;
  }

  set(key: string, entry: BackendEntry): boolean {
    if (this.#closed) throw closedError();
    if (!this.#current(entry)) return false;
    let bytes = 0;
    if (this.maxBytes !== undefined) {
      try {
        bytes = serialize(entry.value).length + key.length;
      } catch {
        return false;
      }
      if (bytes > this.maxBytes) return false;
    }
    const previous = this.#entries.get(key);
    if (previous) this.#remove(key, previous);
    const stored: Stored = { ...entry, bytes, touched: ++this.#ticks, checkedAt: this.#clock };
    this.#entries.set(key, stored);
    this.#bytes += bytes;
    if (entry.sessionId !== undefined) addTo(this.#sessionKeys, entry.sessionId, key);
    this.#evict();
    return true;
  }

  bump(tags: readonly string[], sessionId?: string): void {
    if (this.#closed) throw closedError();
    for (const tag of tags) {
      this.#gens.delete(tag);
      this.#gens.set(tag, ++this.#clock);
      if (sessionId !== undefined) addTo(this.#sessionTags, sessionId, tag);
    }
    while (this.#gens.size > this.maxGenerations) {
      const [oldest, gen] = this.#gens.entries().next().value as [string, number];
      this.#gens.delete(oldest);
      if (gen > this.#floor) this.#floor = gen;
    }
  }

  delete(key: string): void {
    if (this.#closed) throw closedError();
    const entry = this.#entries.get(key);
    if (entry) this.#remove(key, entry);
  }

  clearSession(sessionId: string): void {
    if (this.#closed) throw closedError();
    const keys = this.#sessionKeys.get(sessionId);
    if (keys) {
      for (const key of keys) {
        const entry = this.#entries.get(key);
        if (entry) {
          this.#entries.delete(key);
          this.#bytes -= entry.bytes;
        }
      }
      this.#sessionKeys.delete(sessionId);
    }
    const tags = this.#sessionTags.get(sessionId);
    if (tags) {
      for (const tag of tags) this.#gens.delete(tag);
      this.#clock++; // those tags now read as the floor: entries must be checked again
      this.#sessionTags.delete(sessionId);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#sessionKeys.clear();
    this.#sessionTags.clear();
    this.#gens.clear();
    this.#bytes = 0;
    // Every generation recorded before the clear now differs from what tags read: nothing in flight can land.
    this.#floor = ++this.#clock;
  }

  /** Drops everything; later calls throw (a closed backend makes calls run uncached) and it stops receiving
   * invalidations. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.clear();
    this.#closed = true;
    unregisterBackend(this);
  }

  #current(entry: BackendEntry): boolean {
    const { tags, gens } = entry;
    for (let i = 0; i < tags.length; i++) {
      if ((this.#gens.get(tags[i]!) ?? this.#floor) !== gens[i]) return false;
    }
    return true;
  }

  #remove(key: string, entry: Stored): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    if (entry.sessionId !== undefined) {
      const keys = this.#sessionKeys.get(entry.sessionId);
      if (keys) {
        keys.delete(key);
        if (keys.size === 0) this.#sessionKeys.delete(entry.sessionId);
      }
    }
  }

  #evict(): void {
    const maxBytes = this.maxBytes ?? Number.POSITIVE_INFINITY;
    while (this.#entries.size > this.maxEntries || this.#bytes > maxBytes) {
      const [key, entry] = this.#entries.entries().next().value as [string, Stored];
      this.#remove(key, entry);
    }
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
