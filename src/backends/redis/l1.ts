import { AgentCacheTypeError } from '../../errors.js';
import type { BackendEntry } from '../contract.js';
import { storable } from '../storable-text.js';

export interface L1Options {
  /** Most entries held in the process. Default 10 000. */
  readonly maxEntries?: number;
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
 */
export class L1Cache {
  readonly maxEntries: number;
  readonly #maxKnown: number;
  #entries = new Map<string, BackendEntry>();
  #known = new Map<string, number>();
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
    if ((entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) || !this.#current(entry)) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Stores what a Redis read or write returned, unless the L1 was flushed since that call started. */
  put(key: string, entry: BackendEntry, epoch: number): void {
    if (epoch !== this.#epoch || !this.#current(entry)) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string);
  }

  bumped(tags: readonly string[], lastGen: number): void {
    const first = lastGen - tags.length + 1;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      const gen = first + i;
      if ((this.#known.get(tag) ?? -1) < gen) this.#known.set(tag, gen);
    }
    if (this.#known.size > this.#maxKnown) this.flush();
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
    this.#epoch++;
  }

  #current(entry: BackendEntry): boolean {
    const { tags, gens } = entry;
    for (let i = 0; i < tags.length; i++) {
      const seen = this.#known.get(tags[i]!);
      if (seen !== undefined && seen > gens[i]!) return false;
    }
    return true;
  }
}
