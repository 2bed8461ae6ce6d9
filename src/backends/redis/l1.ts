import { AgentCacheTypeError } from '../../errors.js';
import type { BackendEntry } from '../contract.js';
import { storable } from '../storable-text.js';

export interface L1Options {
  /** Most entries held in the process. Default 10 000. */
  readonly maxEntries?: number;
  /**
   * How old, in ms, the last proof that the subscription delivers may be while the L1 serves. Each process
   * publishes a heartbeat to itself every quarter of this through Redis; when none has come back within it (a
   * stalled Redis, a silent connection), the L1 is emptied and hits go to Redis until heartbeats come back.
   * Default 1 000.
   */
  readonly heartbeat?: number;
}

/** An entry as the L1 holds it: the plain entry plus two bookkeeping fields (the core reads only the entry's). */
interface Held extends BackendEntry {
  /** `seq` when the tags were last found current: unchanged seq, nothing to re-check. */
  checkedAt: number;
  /** Use counter when the entry was last moved to the recent end. */
  touched: number;
}

/**
 * The optional in-process layer of RedisBackend: an LRU of decoded entries, kept coherent by the invalidation
 * messages every process publishes through Redis.
 *
 * A message says "tag X is now at generation N". The L1 remembers the highest generation seen per tag and serves an
 * entry only while none of its tags has moved past the generation the entry recorded. Because the entry carries its
 * own generations, a message that overtakes the read that brought the entry in (they travel on two different
 * connections) still makes it stale. When the remembered table is full, or the subscription was interrupted
 * (messages may have been lost), everything is flushed and the epoch moves on, so that a read started before the
 * flush cannot insert what it read afterwards.
 *
 * A tag whose invalidation this process could not record in Redis is `lost`: no entry of it is served or held until
 * an invalidation of it succeeds (the entry in Redis may still look current to everyone else).
 */
export class L1Cache {
  readonly maxEntries: number;
  readonly #maxKnown: number;
  #entries = new Map<string, Held>();
  #known = new Map<string, number>();
  readonly #lost = new Set<string>();
  /** Moves whenever #known or #lost changes. */
  #seq = 0;
  #ticks = 0;
  #epoch = 0;

  constructor(options: L1Options = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isInteger(max) || max <= 0) {
      throw new AgentCacheTypeError(
        `RedisBackend: option \`l1.maxEntries\` must be a positive integer, got ${String(max)}`,
      );
    }
    this.maxEntries = max;
    this.#maxKnown = Math.max(1_000, max * 4);
  }

  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): BackendEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (entry.checkedAt !== this.#seq) {
      if (!this.#current(entry)) {
        this.#entries.delete(key);
        return undefined;
      }
      entry.checkedAt = this.#seq;
    }
    // Approximate LRU, as MemoryBackend: an entry among the most recent half is not moved.
    const tick = ++this.#ticks;
    if (tick - entry.touched > this.maxEntries >> 1) {
      entry.touched = tick;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Stores what a Redis read or write returned, unless the L1 was flushed since that call started. */
  put(key: string, entry: BackendEntry, epoch: number): void {
    if (epoch !== this.#epoch || !this.#current(entry)) return;
    const held: Held = { ...entry, checkedAt: this.#seq, touched: ++this.#ticks };
    this.#entries.delete(key);
    this.#entries.set(key, held);
    if (this.#entries.size > this.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string);
  }

  /**
   * Tag i of `tags` is now at `lastGen - tags.length + 1 + i`. `own`: this process's invalidation, recorded in
   * Redis, which ends a `lost` mark.
   */
  bumped(tags: readonly string[], lastGen: number, own = false): void {
    const first = lastGen - tags.length + 1;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      const gen = first + i;
      if (own) this.#lost.delete(tag);
      if ((this.#known.get(tag) ?? -1) < gen) this.#known.set(tag, gen);
    }
    this.#seq++;
    if (this.#known.size > this.#maxKnown) this.flush();
  }

  /** An invalidation of `tags` could not be recorded: hold nothing of them until one is. */
  lost(tags: readonly string[]): void {
    for (const tag of tags) this.#lost.add(tag);
    this.#seq++;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** `sessionId` in its storable() form, as the published message carries it. */
  clearSession(sessionId: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.sessionId !== undefined && storable(entry.sessionId) === sessionId) this.#entries.delete(key);
    }
  }

  flush(): void {
    this.#entries.clear();
    this.#known.clear();
    this.#seq++;
    this.#epoch++;
  }

  #current(entry: BackendEntry): boolean {
    const { tags, gens } = entry;
    const lost = this.#lost.size !== 0;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      if (lost && this.#lost.has(tag)) return false;
      const seen = this.#known.get(tag);
      if (seen !== undefined && seen > gens[i]!) return false;
    }
    return true;
  }
}
