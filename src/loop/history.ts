/** A distinct call (tool + canonical arguments) seen in the window, with the sequence numbers of its occurrences. */
export interface CallIdentity {
  readonly key: string;
  readonly toolName: string;
  /** Occurrences still in the window, oldest first. */
  readonly seqs: number[];
}

interface Slot {
  /** null for a call whose arguments have no canonical form: it equals no other call. */
  id: CallIdentity | null;
  toolName: string;
  seq: number;
}

/**
 * The last `window` calls of a session in a ring buffer. Memory is bounded by the window whatever the session's
 * length: when a call leaves the ring, its identity forgets that occurrence (and is dropped when it has none).
 */
export class CallHistory {
  readonly #window: number;
  readonly #slots: Slot[] = [];
  readonly #ids = new Map<string, CallIdentity>();
  #head = 0;
  #seq = 0;

  constructor(window: number) {
    this.#window = window;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Distinct calls remembered (bounded by the window). */
  get distinctCalls(): number {
    return this.#ids.size;
  }

  /** Appends a call and returns its identity (null when it has no key) and sequence number. */
  push(toolName: string, key: string | undefined): Slot {
    const seq = ++this.#seq;
    let id: CallIdentity | null = null;
    if (key !== undefined) {
      id = this.#ids.get(key) ?? null;
      if (id === null) {
        id = { key, toolName, seqs: [] };
        this.#ids.set(key, id);
      }
      id.seqs.push(seq);
    }
    if (this.#slots.length < this.#window) {
      const slot = { id, toolName, seq };
      this.#slots.push(slot);
      return slot;
    }
    const slot = this.#slots[this.#head]!;
    this.#forget(slot);
    slot.id = id;
    slot.toolName = toolName;
    slot.seq = seq;
    this.#head = (this.#head + 1) % this.#window;
    return slot;
  }

  /** The call `back` steps before the newest (0 = the newest). */
  at(back: number): Slot | undefined {
    const n = this.#slots.length;
    if (back >= n) return undefined;
    const newest = n < this.#window ? n - 1 : (this.#head - 1 + this.#window) % this.#window;
    return this.#slots[(newest - back + n) % n];
  }

  clear(): void {
    this.#slots.length = 0;
    this.#ids.clear();
    this.#head = 0;
  }

  #forget(slot: Slot): void {
    const id = slot.id;
    if (id === null) return;
    id.seqs.shift();
    if (id.seqs.length === 0) this.#ids.delete(id.key);
  }
}
