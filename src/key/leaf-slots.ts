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
 * object matching its non-empty slot; `to` when there is none. The re-check of a long history: each run of slots
 * with one key list (a conversation's messages mostly share one) is checked by that list's own loop (see
 * runCheckFor), with no call per message.
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
  let i = from;
  while (i < to) {
    const keys = slotKeys[i];
    if (keys === undefined) return i;
    const stop = runCheckFor(keys)(values, expected, slotKeys, slotVals, i, to);
    // Stopped at the end, at a mismatch, or where the next run (another key list) begins.
    if (stop >= to || stop === i || slotKeys[stop] === keys) return stop;
    i = stop;
  }
  return to;
}

/**
 * Checks the slots from `from` on while they have the key list `keys`; returns the index where it stopped (the
 * first mismatch, the first slot with another key list, or `to`).
 */
type RunCheck = (
  values: readonly unknown[],
  expected: readonly unknown[] | undefined,
  slotKeys: readonly (readonly string[] | undefined)[],
  slotVals: readonly unknown[],
  from: number,
  to: number,
) => number;

/** Per shared key list (they are few: one per message shape). */
const runChecks = new WeakMap<readonly string[], RunCheck>();

function runCheckFor(keys: readonly string[]): RunCheck {
  let check = runChecks.get(keys);
  if (check === undefined) {
    check = compiledRunCheck(keys) ?? genericRunCheck(keys);
    runChecks.set(keys, check);
  }
  return check;
}

/**
 * The check of one key list written out for its keys: count the object's enumerable keys with `for…in` (the cheap
 * part of it) and read each snapshot key by name (a monomorphic property load, where a keyed load by a variable
 * name is several times slower). Same count and same values by `===` mean the same own enumerable properties (the
 * prototype is checked to be a plain one, whose keys `for…in` would otherwise count), except for a property
 * whose snapshot value is `undefined`, which must still be there: checked with `Object.hasOwn`. A third of the
 * cost of the generic loop, which compares the keys one by one. Undefined where code cannot be generated (a
 * runtime that forbids `new Function`).
 */
function compiledRunCheck(keys: readonly string[]): RunCheck | undefined {
  const tests = keys
    .map((k, j) => {
      const name = JSON.stringify(k);
      return `o[${name}] !== (v = slotVals[at + ${j}]) || (v === undefined && !Object.hasOwn(o, ${name}))`;
    })
    .join(' || ');
  const source = `return function checkRun(values, expected, slotKeys, slotVals, from, to) {
    for (let i = from; i < to; i++) {
      if (slotKeys[i] !== keys) return i;
      const o = values[i];
      if (expected !== undefined && o !== expected[i]) return i;
      if (typeof o !== 'object' || o === null) return i;
      if (o.constructor === Object ? Object.getPrototypeOf(o) !== objectProto : Object.getPrototypeOf(o) !== null)
        return i;
      let n = 0;
      for (const k in o) n++;
      const at = i << 2;
      let v;
      if (n !== ${keys.length} || ${tests}) return i;
    }
    return to;
  };`;
  try {
    return new Function('keys', 'objectProto', source)(keys, objectProto) as RunCheck;
  } catch {
    return undefined;
  }
}

/** The same check without generated code: keys compared in order with the snapshot's, then values. */
function genericRunCheck(keys: readonly string[]): RunCheck {
  const count = keys.length;
  return (values, expected, slotKeys, slotVals, from, to) => {
    for (let i = from; i < to; i++) {
      if (slotKeys[i] !== keys) return i;
      const o = values[i] as Record<string, unknown>;
      if (expected !== undefined && o !== expected[i]) return i;
      if (typeof o !== 'object' || o === null || !plainProto(o)) return i;
      const at = i << 2;
      let n = 0;
      for (const k in o) {
        if (n >= count || k !== keys[n] || o[k] !== slotVals[at + n]) return i;
        n++;
      }
      if (n !== count) return i;
    }
    return to;
  };
}
