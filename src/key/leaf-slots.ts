/**
 * Snapshots of mutable leaf objects (plain, at most four keys, primitive values: a chat message) laid out side by
 * side, slot `i` being `keys[i]` (a shared key list, or undefined: no snapshot) and `vals[4i…4i+3]`. A long history
 * is re-checked by walking these arrays in order, touching each message but no memo object scattered in memory.
 * Used by the Merkle form's array memos (digest.ts) and by prompt layouts.
 */
export interface LeafSlots {
  readonly keys: (readonly string[] | undefined)[];
  readonly vals: unknown[];
}

const objectProto = Object.prototype;

export function emptyLeafSlots(): LeafSlots {
  return { keys: [], vals: [] };
}

/** The first `n` slots, copied. */
export function leafSlotsPrefix(slots: LeafSlots, n: number): LeafSlots {
  return { keys: slots.keys.slice(0, n), vals: slots.vals.slice(0, 4 * n) };
}

export function truncateLeafSlots(slots: LeafSlots, n: number): void {
  slots.keys.length = n;
  slots.vals.length = 4 * n;
}

/** Appends a slot: the snapshot `keys` / `vals` (first four values), or an empty slot when `keys` is undefined. */
export function pushSlot(
  slots: LeafSlots,
  keys: readonly string[] | undefined,
  v0: unknown,
  v1: unknown,
  v2: unknown,
  v3: unknown,
): void {
  slots.keys.push(keys);
  slots.vals.push(v0, v1, v2, v3);
}

/** Sets slot `i` (below the slots' length) to the snapshot `keys` / `vals`. */
export function setSlot(
  slots: LeafSlots,
  i: number,
  keys: readonly string[],
  v0: unknown,
  v1: unknown,
  v2: unknown,
  v3: unknown,
): void {
  slots.keys[i] = keys;
  const at = i << 2;
  slots.vals[at] = v0;
  slots.vals[at + 1] = v1;
  slots.vals[at + 2] = v2;
  slots.vals[at + 3] = v3;
}

/**
 * The prototype is still Object.prototype or null (a plain object given another prototype since would be encoded
 * as a class instance). Reading `constructor` first lets V8 check the hidden class once and fold the prototype
 * lookup into it; an object with an own `constructor` key fails here and is re-checked the slow way.
 */
export function plainProto(o: object): boolean {
  return (o as { constructor?: unknown }).constructor === Object
    ? Object.getPrototypeOf(o) === objectProto
    : Object.getPrototypeOf(o) === null;
}

/** `o` still matches the non-empty slot `i` of `slots` (keys `keys`). */
export function leafSlotMatches(
  o: object,
  keys: readonly string[],
  vals: readonly unknown[],
  i: number,
): boolean {
  if (!plainProto(o)) return false;
  const count = keys.length;
  const at = i << 2;
  let n = 0;
  for (const k in o) {
    if (n >= count || k !== keys[n] || (o as Record<string, unknown>)[k] !== vals[at + n]) return false;
    n++;
  }
  return n === count;
}

/**
 * The first index in [from, to) where `values[i]` is not `expected[i]` (when `expected` is given) or is not an
 * object matching its non-empty slot; `to` when there is none. The re-check of a long history, written as one
 * loop so that V8 compiles it as one (no call per message).
 */
export function firstSlotMismatch(
  values: readonly unknown[],
  expected: readonly unknown[] | undefined,
  slots: LeafSlots,
  from: number,
  to: number,
): number {
  const slotKeys = slots.keys;
  const slotVals = slots.vals;
  for (let i = from; i < to; i++) {
    const o = values[i] as Record<string, unknown>;
    const keys = slotKeys[i];
    if (keys === undefined || (expected !== undefined && o !== expected[i])) return i;
    // plainProto, inlined
    if (
      o.constructor === Object ? Object.getPrototypeOf(o) !== objectProto : Object.getPrototypeOf(o) !== null
    )
      return i;
    const count = keys.length;
    const at = i << 2;
    let n = 0;
    for (const k in o) {
      if (n >= count || k !== keys[n] || o[k] !== slotVals[at + n]) return i;
      n++;
    }
    if (n !== count) return i;
  }
  return to;
}
