/**
 * The reps of the last few tool lists keyed, found again by their contents. A framework that builds its tool
 * definitions afresh for every call (the AI SDK does, for every step) passes a new array of new objects each time,
 * so no memo by identity ever finds them, yet their names, descriptions and schemas are the same: a walk that
 * records them flat (a tape, as the tool-argument memo's: markers, counts, property names and primitives, in
 * property order) and compares that with the tapes of the lists seen last costs a fraction of encoding and hashing
 * them again. Two values with equal tapes (element by element, `===`) are equal values, so they have one rep:
 * nothing here can make a key depend on what was seen before. Only JSON-like values are recorded (plain objects
 * without `toJSON`, arrays, primitives); anything else is simply encoded.
 */

/** Tape markers: objects no recorded value can be `===` to. */
const ARRAY = Object.freeze({ tape: 'array' });
const OBJECT = Object.freeze({ tape: 'object' });

/** Lists whose tape would be longer than this are encoded (and not remembered). */
const MAX_TAPE = 8192;
const MAX_DEPTH = 32;
/** Lists remembered (a few agents, or a few tool sets, in one process). */
const RECENT = 8;
const objectProto = Object.prototype;

interface Entry {
  readonly tape: readonly unknown[];
  readonly rep: string;
}

export class RecentLists {
  readonly #entries: Entry[] = [];
  /** The tape of the list being looked up, reused from call to call. */
  readonly #scratch: unknown[] = [];
  #length = -1;

  /** The rep of a list equal to `list` seen lately, or undefined (then `remember` may be called with its rep). */
  find(list: readonly unknown[]): string | undefined {
    let length = -1;
    try {
      length = record(list, this.#scratch, 0, 0);
    } catch {
      length = -1; // a getter threw: the walk that encodes the list says where
    }
    // Inherited enumerable keys (a polluted Object.prototype) would be recorded as if they were own ones.
    if (length >= 0 && hasEnumerable(objectProto)) length = -1;
    this.#length = length;
    if (length < 0) return undefined;
    const scratch = this.#scratch;
    const entries = this.#entries;
    search: for (let e = 0; e < entries.length; e++) {
      const tape = entries[e]!.tape;
      if (tape.length !== length) continue;
      for (let i = 0; i < length; i++) if (tape[i] !== scratch[i]) continue search;
      return entries[e]!.rep;
    }
    return undefined;
  }

  /** Remembers `rep` as the rep of the list `find` was just asked about (if it could be recorded). */
  remember(rep: string): void {
    if (this.#length < 0) return;
    const entries = this.#entries;
    if (entries.length >= RECENT) entries.pop();
    entries.unshift({ tape: this.#scratch.slice(0, this.#length), rep });
    this.#length = -1;
  }
}

/** Records `v` on `tape` from `at`; the new length, or -1 when `v` is not JSON-like or too large. */
function record(v: unknown, tape: unknown[], at: number, depth: number): number {
  if (at >= MAX_TAPE) return -1;
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'function' || typeof v === 'symbol') return -1;
    tape[at] = v;
    return at + 1;
  }
  if (depth >= MAX_DEPTH) return -1;
  if (Array.isArray(v)) {
    tape[at++] = ARRAY;
    tape[at++] = v.length;
    for (let i = 0; i < v.length; i++) {
      at = record(v[i], tape, at, depth + 1);
      if (at < 0) return -1;
    }
    return at;
  }
  const proto = Object.getPrototypeOf(v);
  if ((proto !== objectProto && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return -1;
  // Its enumerable keys in their order (own ones, what the encoding reads, unless Object.prototype has some: see
  // find); an object with the same keys in another order is the same value, but recorded differently, and misses.
  tape[at++] = OBJECT;
  const count = at++;
  let n = 0;
  for (const k in v) {
    tape[at++] = k;
    at = record((v as Record<string, unknown>)[k], tape, at, depth + 1);
    if (at < 0) return -1;
    n++;
  }
  tape[count] = n;
  return at;
}

function hasEnumerable(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
