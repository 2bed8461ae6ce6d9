import { Stored } from './stored.js';

/**
 * The eviction order of a MemoryBackend: CLOCK, the classic approximation of LRU. Entries sit in a ring of slots;
 * a hit only sets the entry's `used` flag (no list to reorder, no second lookup), and to make room the hand sweeps
 * the ring, clearing the flags it passes, and evicts the first entry not used since its last pass. Every flag a
 * sweep clears was set by a hit, so eviction is O(1) amortized whatever the bound. An entry that left the backend
 * (deleted, replaced, found stale, its session ended) stays in its slot, marked gone, until the hand reuses the slot
 * — or until gone entries are more than half of the slots, or hold more than `maxGoneBytes`: then the ring is
 * compacted (O(slots), amortized O(1) per entry that left), so what left the backend does not stay in memory: the
 * values of ended sessions and of invalidated entries are released, and `maxBytes` bounds the heap, not only the
 * live entries.
 */
export class ClockRing {
  readonly #capacity: number;
  readonly #maxGoneBytes: number;
  readonly #slots: Stored[] = [];
  #hand = 0;
  /** Slots holding an entry that left the backend, and the bytes those entries were counted with. */
  #gone = 0;
  #goneBytes = 0;

  constructor(capacity: number, maxGoneBytes = Number.POSITIVE_INFINITY) {
    this.#capacity = capacity;
    this.#maxGoneBytes = maxGoneBytes;
  }

  /**
   * Puts `entry` in a slot: a new one while the ring is not full, else the one the hand stops at. Returns the live
   * entry that slot held, which the caller must drop from its index (undefined when it was free).
   */
  add(entry: Stored): Stored | undefined {
    const slots = this.#slots;
    if (slots.length < this.#capacity) {
      slots.push(entry);
      return undefined;
    }
    for (;;) {
      const at = this.#hand;
      const held = slots[at]!;
      this.#hand = at + 1 === slots.length ? 0 : at + 1;
      if (held.used === Stored.USED) {
        held.used = Stored.IDLE;
        continue;
      }
      slots[at] = entry;
      if (held.used !== Stored.GONE) return held;
      this.#gone--;
      this.#goneBytes -= held.size();
      return undefined;
    }
  }

  /** `entry`, still in its slot, has just left the backend (marked gone). */
  left(entry: Stored): void {
    this.#gone++;
    this.#goneBytes += entry.size();
    if (2 * this.#gone > this.#slots.length || this.#goneBytes > this.#maxGoneBytes) this.#compact();
  }

  /**
   * The entry the hand would evict next (to free bytes rather than a slot); it stays in its slot, and the caller
   * removes it (which marks it gone). The ring must hold at least one entry that has not gone.
   */
  victim(): Stored {
    const slots = this.#slots;
    for (;;) {
      const at = this.#hand < slots.length ? this.#hand : 0;
      const held = slots[at]!;
      this.#hand = at + 1 === slots.length ? 0 : at + 1;
      if (held.used === Stored.USED) held.used = Stored.IDLE;
      else if (held.used === Stored.IDLE) return held;
    }
  }

  clear(): void {
    this.#slots.length = 0;
    this.#hand = 0;
    this.#gone = 0;
    this.#goneBytes = 0;
  }

  /** Drops the gone entries' slots, keeping the order of the others and where the hand points among them. */
  #compact(): void {
    const slots = this.#slots;
    let kept = 0;
    let hand = 0;
    for (let i = 0; i < slots.length; i++) {
      const entry = slots[i]!;
      if (i === this.#hand) hand = kept;
      if (entry.used !== Stored.GONE) slots[kept++] = entry;
    }
    slots.length = kept;
    this.#hand = hand < kept ? hand : 0;
    this.#gone = 0;
    this.#goneBytes = 0;
  }
}
