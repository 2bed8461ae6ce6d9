import { Stored } from './stored.js';

/**
 * The eviction order of a MemoryBackend: CLOCK, the classic approximation of LRU. Entries sit in a ring of slots;
 * a hit only sets the entry's `used` flag (no list to reorder, no second lookup), and to make room the hand sweeps
 * the ring, clearing the flags it passes, and evicts the first entry not used since its last pass. Every flag a
 * sweep clears was set by a hit, so eviction is O(1) amortized whatever the bound. An entry that left the backend
 * (deleted, replaced, its session ended) stays in its slot, marked gone, until the hand reuses the slot.
 */
export class ClockRing {
  readonly #capacity: number;
  readonly #slots: Stored[] = [];
  #hand = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
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
      return held.used === Stored.GONE ? undefined : held;
    }
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
  }
}
