import { nextTick } from './clock.js';

/** A distinct call (tool + canonical arguments) and how many times it occurs in the window. */
interface Identity {
  /** Small positive number naming the key in the ring (0 there means "no key"). */
  readonly id: number;
  count: number;
}

/**
 * The last `window` calls of a session in a ring buffer of parallel typed arrays (no object per call), plus how
 * many times each distinct call (a key string) occurs in it. The ring holds numeric identities, so comparing two
 * calls (oscillations) is a number comparison, not a string one.
 *
 * Memory is bounded by the window whatever the session's length. Identities are not deleted one by one when their
 * count falls to zero (on a session that rarely repeats a call, per-call deletes made the map churn and cost more
 * than all the rules together): when the map reaches its capacity it is rebuilt with the live identities only (at
 * most `window` of them). With a capacity of at least 4·window that is amortised O(1) per call, and a working set
 * of recurring calls that fits in the capacity is looked up without inserting anything.
 */
const MIN_CAPACITY = 256;

export class CallHistory {
  readonly #window: number;
  /** Identity of each call; 0 for a call whose arguments have no canonical form (it equals no other call). */
  readonly #ids: Float64Array;
  readonly #tools: string[];
  /** Tick of each call (process-wide clock, so it compares with invalidations made anywhere). */
  readonly #ticks: Float64Array;
  #identities = new Map<string, Identity>();
  /** Identities kept before the map is rebuilt with the live ones only. */
  readonly #capacity: number;
  /** Identity of the call at each ring index, to decrement its count when it leaves. */
  readonly #slotIdentity: (Identity | null)[];
  #nextId = 1;
  /** Index the next call goes to. */
  #head = 0;
  #size = 0;

  constructor(window: number) {
    this.#window = window;
    this.#capacity = Math.max(MIN_CAPACITY, 4 * window);
    this.#ids = new Float64Array(window);
    this.#tools = new Array<string>(window).fill('');
    this.#ticks = new Float64Array(window);
    this.#slotIdentity = new Array<Identity | null>(window).fill(null);
  }

  get size(): number {
    return this.#size;
  }

  /** Distinct calls the history keeps track of (at most max(256, 4·window), whatever the session's length). */
  get trackedIdentities(): number {
    return this.#identities.size;
  }

  /** Appends a call (evicting the oldest when full) and returns how many times its key is now in the window. */
  push(toolName: string, key: string | undefined): number {
    const i = this.#head;
    if (this.#size === this.#window) {
      const leaving = this.#slotIdentity[i];
      if (leaving != null) leaving.count--;
    } else {
      this.#size++;
    }
    this.#tools[i] = toolName;
    this.#ticks[i] = nextTick();
    this.#head = i + 1 === this.#window ? 0 : i + 1;
    if (key === undefined) {
      this.#ids[i] = 0;
      this.#slotIdentity[i] = null;
      return 0;
    }
    let identity = this.#identities.get(key);
    if (identity === undefined) {
      if (this.#identities.size >= this.#capacity) this.#rebuild();
      identity = { id: this.#nextId++, count: 0 };
      this.#identities.set(key, identity);
    }
    identity.count++;
    this.#ids[i] = identity.id;
    this.#slotIdentity[i] = identity;
    return identity.count;
  }

  /** Identity of the call `back` steps before the newest (0 = the newest); -1 beyond the history, 0 for no key. */
  idAt(back: number): number {
    return back < this.#size ? this.#ids[this.#index(back)]! : -1;
  }

  /**
   * The newest call (with a key) equals the call p steps before it for some p in 2..maxPeriod: the necessary
   * condition of an oscillation, checked straight on the ring.
   */
  newestRecursWithin(maxPeriod: number): boolean {
    if (this.#size < 3) return false;
    const ids = this.#ids;
    const window = this.#window;
    let i = this.#head - 1;
    if (i < 0) i += window;
    const id = ids[i]!;
    if (id === 0) return false;
    const last = Math.min(maxPeriod, this.#size - 1);
    for (let p = 2; p <= last; p++) {
      const j = i - p;
      if (ids[j < 0 ? j + window : j] === id) return true;
    }
    return false;
  }

  toolAt(back: number): string | undefined {
    return back < this.#size ? this.#tools[this.#index(back)] : undefined;
  }

  /** Occurrences of the newest call's identity in the window with a tick after `since`. O(window). */
  countNewestSince(since: number): number {
    const id = this.idAt(0);
    let count = 0;
    for (let back = 0; back < this.#size; back++) {
      const i = this.#index(back);
      if (this.#ticks[i]! <= since) break; // ticks grow towards the newest: everything older is before `since`
      if (this.#ids[i] === id) count++;
    }
    return count;
  }

  /** Tick of the oldest call remembered (0 when empty). */
  get oldestTick(): number {
    return this.#size === 0 ? 0 : this.#ticks[this.#index(this.#size - 1)]!;
  }

  clear(): void {
    this.#ids.fill(0);
    this.#tools.fill('');
    this.#ticks.fill(0);
    this.#slotIdentity.fill(null);
    this.#identities = new Map();
    this.#head = 0;
    this.#size = 0;
  }

  /** Keeps the identities of the calls still in the ring (a fresh map: cheaper than deleting the dead ones). */
  #rebuild(): void {
    const live = new Map<string, Identity>();
    for (const [key, identity] of this.#identities) if (identity.count > 0) live.set(key, identity);
    this.#identities = live;
  }

  #index(back: number): number {
    const i = this.#head - 1 - back;
    return i < 0 ? i + this.#window : i;
  }
}
