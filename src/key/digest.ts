import { createHash, type Hash } from 'node:crypto';
import { canonicalEncode, quote } from './canonical.js';
import { cachedStringRep, LONG_STRING, stringRep } from './digest-strings.js';
import { NotCanonicalisableError } from './errors.js';
import { sha256 } from './hash.js';

/**
 * A Merkle form of the canonical encoding, for large values that are re-keyed again and again (an agent's chat
 * request grows by a message or two per turn; everything before is the same objects).
 *
 * Definition (independent of any memo, so every process derives the same digest for the same value):
 * - A string longer than LONG_STRING characters is `h` + base64url SHA-256 of its UTF-8 bytes (digest-strings.ts).
 * - A plain object or array has a *body*: the grammar of `canonical.ts` (`[a,b]`, `{"k":v}` with sorted keys,
 *   `undefined` properties dropped) with each child written as `rep(child)`. Its rep is the body when the body is
 *   at most DIGEST_INLINE_LIMIT characters, else `H` + base64url SHA-256 of the body.
 * - Any other value is its canonical encoding (`canonicalEncode`), or `H` + SHA-256 of it when longer than the limit.
 * So a value with no long string and a short encoding has `rep(v) === canonicalEncode(v)`. `h` and `H` never start
 * a canonical encoding, so a digest never equals an inline encoding, and distinct values get distinct reps unless
 * SHA-256 collides. There is one grammar (canonical.ts); this file only decides where to cut it into hashed pieces.
 *
 * Memo: the rep of each plain object and array is remembered in a WeakMap by identity, with a shallow snapshot
 * of its own keys and values. A memo is *never trusted blindly*: on every use each memoized object is re-checked
 * (same own keys in the same order, same values by `===`, still a plain prototype, object children re-checked
 * recursively), so mutating a message in place (`msg.content = '…'`, `messages.push(…)`, `delete msg.name`)
 * always changes the key. The check hashes nothing, builds no string and allocates nothing: a `for…in` (served
 * from V8's enum cache) compared in order with the snapshot. A memo keeps direct references to its children's
 * memos (no WeakMap lookup per child), and an array keeps its plain leaf elements' snapshots (chat messages:
 * ≤ 4 keys, primitive values) side by side in `slots`, so a long history is re-checked by one loop reading
 * arrays in order; such an element met for the first time gets no memo of its own (no WeakMap entry) until
 * something asks for its digest alone (rememberElements, a prompt layout). Maps, Sets, Dates, typed arrays and
 * class instances are not memoized (their contents change without a visible property change): they are
 * re-encoded on every call.
 *
 * Arrays that grow by appending (the conversation) are extended, not re-hashed: an array memo keeps its SHA-256
 * state before the closing `]`, and a new array whose leading elements are those of a memoized array (the same
 * objects, re-checked) continues from a copy of that state.
 */
export const DIGEST_INLINE_LIMIT = 1024;

/** Objects and arrays whose body is shorter than this are not memoized (see objectRep)… */
const MEMO_MIN = 256;

/** How far back from the end of a new array we look for the end of an array seen before (new turns' messages). */
const EXTEND_LOOKBACK = 32;
const MAX_DEPTH = 2_000;
const objectProto = Object.prototype;

interface ObjectMemo {
  readonly array: false;
  /**
   * Deep-frozen when memoized (frozen, data properties only, every object below deep-frozen too): nothing in it
   * can ever change again (freezing cannot be undone), so the memo is used without re-checking.
   */
  readonly frozen: boolean;
  /** Every value is a primitive (a chat message with text content): re-checked by one tight loop. */
  readonly leaf: boolean;
  /** Shared between objects of the same shape (see sharedKeys). */
  readonly keys: readonly string[];
  /**
   * The first four values again, inside the memo itself: re-checking a message then reads one memo object, not
   * a memo and an array somewhere else in memory (a long history's re-check is bound by memory latency).
   */
  readonly v0: unknown;
  readonly v1: unknown;
  readonly v2: unknown;
  readonly v3: unknown;
  readonly vals: readonly unknown[];
  readonly reps: readonly (string | undefined)[];
  /**
   * The memo each object child was checked against when last seen (undefined: none, or a primitive): re-checking
   * a child goes straight to its snapshot, with no WeakMap lookup. A memo is a snapshot whose rep is a function of
   * the snapshot, so checking a child against an older memo of it is as sound as against the newest one.
   */
  readonly subs: (Memo | undefined)[];
  readonly rep: string;
}

interface ArrayMemo {
  readonly array: true;
  /** Shared between a memo and the memos that extend it; this memo owns the first `len` entries. */
  readonly vals: unknown[];
  /** Reps of the object elements (undefined for primitives, which are re-checked by ===). */
  readonly reps: (string | undefined)[];
  /** Element memos (see ObjectMemo.subs), shared like `vals`. */
  readonly subs: (Memo | undefined)[];
  /** Leaf element snapshots, read in order (see LeafSlots), shared like `vals`. */
  readonly slots: LeafSlots;
  readonly len: number;
  readonly frozen: boolean;
  /** Every object among the first `len` elements is deep-frozen: checking them is checking their identity. */
  readonly elementsFrozen: boolean;
  /** SHA-256 state after `[` + reps joined by `,` (no `]`), when the array is hashed. */
  readonly state: Hash | undefined;
  readonly rep: string;
}

type Memo = ObjectMemo | ArrayMemo;

/** The reps and subs of a leaf object memo: never read (its values are primitives) and never written. */
const NO_REPS: (string | undefined)[] = [];
const NO_SUBS: (Memo | undefined)[] = [];

/**
 * Snapshots of mutable leaf objects (plain, at most four keys, primitive values: a chat message) laid out side by
 * side, slot `i` being `keys[i]` (a shared key list, or undefined: no snapshot) and `vals[4i…4i+3]`. A long history
 * is re-checked by walking these arrays in order, touching each message but no memo object scattered in memory.
 */
export interface LeafSlots {
  readonly keys: (readonly string[] | undefined)[];
  readonly vals: unknown[];
}

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

/** Appends the slot of an object whose memo is `handle` (see lastDigestHandle); an empty slot when not a leaf. */
export function pushLeafSlot(slots: LeafSlots, handle: DigestHandle | null | undefined): void {
  const memo = handle as Memo | null | undefined;
  if (memo != null && !memo.array && memo.leaf && !memo.frozen && memo.keys.length <= 4) {
    slots.keys.push(memo.keys);
    slots.vals.push(memo.v0, memo.v1, memo.v2, memo.v3);
  } else {
    slots.keys.push(undefined);
    slots.vals.push(undefined, undefined, undefined, undefined);
  }
}

/** pushLeafSlot for an element just worked out: its memo, or the snapshot objectRep left in slotKeys/slotVals. */
function pushSlot(slots: LeafSlots, element: unknown, memo: Memo | undefined): void {
  const keys = slotKeys;
  const vals = slotVals;
  const owner = slotFor;
  slotFor = undefined;
  slotKeys = undefined;
  slotVals = undefined;
  if (keys === undefined || vals === undefined || owner !== element) {
    pushLeafSlot(slots, memo);
    return;
  }
  slots.keys.push(keys);
  slots.vals.push(vals[0], vals[1], vals[2], vals[3]);
}

/** Sets slot `i` (below the shared length) to an equivalent, newer snapshot of the same object. */
export function setLeafSlot(slots: LeafSlots, i: number, handle: DigestHandle | null | undefined): void {
  const memo = handle as Memo | null | undefined;
  if (memo != null && !memo.array && memo.leaf && !memo.frozen && memo.keys.length <= 4) {
    slots.keys[i] = memo.keys;
    const at = i << 2;
    slots.vals[at] = memo.v0;
    slots.vals[at + 1] = memo.v1;
    slots.vals[at + 2] = memo.v2;
    slots.vals[at + 3] = memo.v3;
  }
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

const objectMemo = new WeakMap<object, ObjectMemo>();
const arrayMemo = new WeakMap<readonly unknown[], ArrayMemo>();
/** The memo of an array seen before, by its last element: how a new, longer array finds the prefix it extends. */
const byLastElement = new WeakMap<object, ArrayMemo>();

class Unsupported extends Error {}

/**
 * The memo behind the rep an object or array rep function just returned (undefined when none): set by
 * objectRep, arrayRep and leafRep before every return, read by the caller right after the call. A side channel
 * instead of a returned pair, so the hot paths allocate nothing.
 */
let made: Memo | undefined;

/**
 * Set by an array right before it asks for an element's rep: a mutable leaf element met for the first time is
 * then not memoized on its own (no memo object, no WeakMap entry: first-seen requests are keyed faster and leave
 * less for the garbage collector); its snapshot goes into the array's slots instead, through `slotKeys` and
 * `slotVals`, which objectRep sets (and the array reads and clears) when it does so.
 */
let slotting = false;
/** The element the slot below is for: an array takes it only for that element. */
let slotFor: object | undefined;
let slotKeys: readonly string[] | undefined;
let slotVals: readonly unknown[] | undefined;

/**
 * `rep(value)` as defined above, remembering `value` itself too (a message given as a prompt segment's content).
 * Throws NotCanonicalisableError (with the offending path) like canonicalEncode. `remember`: memoize `value` even
 * when it is small (it is seen for the second time, so it is long-lived).
 */
export function canonicalDigest(value: unknown, remember = false): string {
  if (typeof value === 'object' && value !== null) {
    // A deep-frozen object seen before: one WeakMap lookup (layouts ask for every message's digest every turn).
    const memo = objectMemo.get(value);
    if (memo?.frozen) {
      made = memo;
      return memo.rep;
    }
  }
  made = undefined;
  // Start one level down, so that the value counts as a child (memoized), not as a throwaway request root.
  return digest(value, 1, remember);
}

/**
 * A handle on the snapshot behind the digest `canonicalDigest` just returned (undefined when there is none: a
 * primitive, a small object seen once, a Map…). `digestStillValid(value, handle)` then re-checks `value` against
 * it without a lookup, allocation or hashing: true means `canonicalDigest(value)` would return the same digest.
 */
export type DigestHandle = object;

export function lastDigestHandle(): DigestHandle | undefined {
  return made;
}

export function digestStillValid(value: unknown, handle: DigestHandle): boolean {
  const memo = handle as Memo;
  if (memo.frozen) return true;
  if (typeof value !== 'object' || value === null) return false;
  if (!memo.array && memo.leaf) return leafStillMatches(value as Record<string, unknown>, memo);
  try {
    return memoStillMatches(value, memo, 2);
  } catch {
    return false; // a cycle made since: the caller re-digests, which names it
  }
}

function digest(value: unknown, depth: number, again = false): string {
  // Left over only by a walk that threw half-way.
  slotting = false;
  slotFor = undefined;
  slotKeys = undefined;
  slotVals = undefined;
  try {
    return rep(value, depth, again);
  } catch (error) {
    if (
      error instanceof Unsupported ||
      error instanceof NotCanonicalisableError ||
      error instanceof RangeError
    ) {
      // The fast walk keeps no path; the canonical encoder's diagnostic pass names it.
      canonicalEncode(value);
      throw new NotCanonicalisableError('$', 'a value with no canonical form');
    }
    throw error;
  }
}

/** SHA-256 (64 lowercase hex) that identifies `value`: of its canonical encoding when small, else of its body. */
export function canonicalDigestHex(value: unknown): string {
  // Small values (one short message, tool arguments): the plain encoder's tight loop, same result by definition.
  if (looksSmall(value)) {
    const encoded = canonicalEncode(value);
    if (encoded.length <= DIGEST_INLINE_LIMIT) return sha256(encoded, 'hex');
  }
  const r = digest(value, 0);
  return r.charCodeAt(0) === 72 /* H */
    ? Buffer.from(r.slice(1), 'base64url').toString('hex')
    : sha256(r, 'hex');
}

/**
 * A cheap bounded look: no string over LONG_STRING in plain objects and arrays, and few enough nodes and
 * characters that the whole encoding probably fits DIGEST_INLINE_LIMIT; then `rep` is the canonical encoding.
 * Gives up at the first sign of a large value, so a large request pays almost nothing for asking.
 */
function looksSmall(root: unknown, maxChars = DIGEST_INLINE_LIMIT): boolean {
  const stack: unknown[] = [root];
  let nodes = 0;
  let chars = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > 64) return false;
    if (typeof v === 'string') {
      chars += v.length;
      if (v.length > LONG_STRING || chars > maxChars) return false;
    } else if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) {
        if (v.length > 64) return false;
        for (let i = 0; i < v.length; i++) stack.push(v[i]);
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto !== objectProto && proto !== null) continue; // encoded whole either way: the length check decides
        for (const k in v) stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return true;
}

function rep(value: unknown, depth: number, again = false): string {
  if (typeof value === 'object' && value !== null) {
    if (depth > MAX_DEPTH) throw new Unsupported();
    if (Array.isArray(value)) return arrayRep(value, depth + 1, again);
    const proto = Object.getPrototypeOf(value);
    if (proto === objectProto || proto === null)
      return objectRep(value as Record<string, unknown>, depth + 1, again);
    return leafRep(value);
  }
  if (typeof value === 'string') {
    if (value.length <= LONG_STRING) return quote(value);
    // Direct fields of the request (a system prompt) sit in a new object every turn, and a string given to
    // canonicalDigest on its own (a segment's content) has no object to remember it by: cache their digests.
    return depth <= 1 ? cachedStringRep(value) : stringRep(value);
  }
  if (typeof value === 'function' || typeof value === 'symbol') throw new Unsupported();
  return canonicalEncode(value);
}

/**
 * Whether object child `v` (slot `i` of a memo's snapshot, with `v === vals[i]` already checked) still has the rep
 * `reps[i]`: against the child memo kept in `subs[i]` when there is one, else (or when it no longer matches) by
 * working out its rep again, which finds or makes its current memo; that memo is then kept in `subs[i]` (valid for
 * every memo sharing the slot: they all hold the same object with the same rep there).
 */
function childStillMatches(
  v: object,
  subs: (Memo | undefined)[],
  reps: readonly (string | undefined)[],
  i: number,
  depth: number,
): boolean {
  const sub = subs[i];
  if (sub !== undefined && (sub.frozen || memoStillMatches(v, sub, depth + 1))) return true;
  if (rep(v, depth, true) !== reps[i]) return false;
  subs[i] = made;
  return true;
}

/** `v` (the object a memo was made for) still has the memo's rep. */
function memoStillMatches(v: object, memo: Memo, depth: number): boolean {
  if (memo.array) {
    if (depth > MAX_DEPTH) throw new Unsupported();
    return (v as unknown[]).length === memo.len && prefixMatches(v as unknown[], memo, depth);
  }
  if (memo.leaf) return leafStillMatches(v as Record<string, unknown>, memo);
  if (depth > MAX_DEPTH) throw new Unsupported();
  return plainProto(v) && objectStillMatches(v as Record<string, unknown>, memo, depth);
}

/**
 * The prototype is still Object.prototype or null (a plain object given another prototype since would be encoded
 * as a class instance). Reading `constructor` first lets V8 check the hidden class once and fold the prototype
 * lookup into it; an object with an own `constructor` key fails here and is re-checked the slow way.
 */
function plainProto(o: object): boolean {
  return (o as { constructor?: unknown }).constructor === Object
    ? Object.getPrototypeOf(o) === objectProto
    : Object.getPrototypeOf(o) === null;
}

/**
 * objectStillMatches for a memo with primitive values only: one loop, no allocation. `for…in` is served from
 * V8's enum cache (the object's hidden class), keys are internalized strings compared by pointer.
 */
function leafStillMatches(o: Record<string, unknown>, memo: ObjectMemo): boolean {
  if (!plainProto(o)) return false;
  const keys = memo.keys;
  const count = keys.length;
  if (count > 4) return objectStillMatches(o, memo, 0);
  let n = 0;
  for (const k in o) {
    if (n >= count || k !== keys[n]) return false;
    const v = o[k];
    if (v !== (n === 0 ? memo.v0 : n === 1 ? memo.v1 : n === 2 ? memo.v2 : memo.v3)) return false;
    n++;
  }
  return n === count;
}

/** Special objects are not memoized: their canonical encoding, hashed when long. */
function leafRep(value: unknown): string {
  made = undefined;
  const encoded = canonicalEncode(value);
  return encoded.length > DIGEST_INLINE_LIMIT ? `H${sha256(encoded, 'base64url')}` : encoded;
}

function objectRep(o: Record<string, unknown>, depth: number, again: boolean): string {
  const asSlot = slotting;
  slotting = false;
  const memo = objectMemo.get(o);
  if (memo !== undefined && (memo.frozen || objectStillMatches(o, memo, depth))) {
    made = memo;
    return memo.rep;
  }
  if (memo === undefined && !again && looksSmall(o, MEMO_MIN)) {
    // A small object met for the first time (a tool's schema, a short message) will not be memoized anyway:
    // the plain encoder's tight loop gives its rep (the canonical encoding, by definition) faster.
    const encoded = canonicalEncode(o);
    if (encoded.length < MEMO_MIN) {
      made = undefined;
      return encoded;
    }
  }
  const keys = Object.keys(o);
  const n = keys.length;
  const vals: unknown[] = new Array(n);
  const encoded: (string | undefined)[] = new Array(n);
  // Made on the first object child: a leaf (a chat message with text content) shares the empty lists.
  let reps = NO_REPS;
  let subs = NO_SUBS;
  let sorted = true;
  // Whether re-encoding would hash a long string again: then the object is worth remembering, however small.
  let heavy = false;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const v = o[k];
    if (typeof v === 'string' && v.length > LONG_STRING) heavy = true;
    vals[i] = v;
    const r = v === undefined ? undefined : rep(v, depth, again);
    encoded[i] = r;
    // Primitives are re-checked by ===; only object children need their rep kept (no copy of long strings).
    if (typeof v === 'object' && v !== null) {
      if (reps === NO_REPS) {
        reps = new Array<string | undefined>(n).fill(undefined);
        subs = new Array<Memo | undefined>(n).fill(undefined);
      }
      reps[i] = r;
      subs[i] = made;
    }
    if (i > 0 && keys[i - 1]! > k) sorted = false;
  }
  const leaf = reps === NO_REPS;
  const order = sorted ? undefined : sortedOrder(keys);
  let body = '{';
  for (let x = 0; x < n; x++) {
    const i = order === undefined ? x : order[x]!;
    const r = encoded[i];
    if (r === undefined) continue;
    if (body.length > 1) body += ',';
    body += `${quote(keys[i]!)}:${r}`;
  }
  body += '}';
  const result = body.length > DIGEST_INLINE_LIMIT ? `H${sha256(body, 'base64url')}` : body;
  // Not memoized: the root (depth 1), nearly always a new request object, and small objects met for the first
  // time (every WeakMap entry is work for the garbage collector). A small object met `again` — while re-checking
  // a memoized parent, so it belongs to something long-lived (a tool's schema) — is remembered.
  if (depth > 1 && (heavy || again || body.length >= MEMO_MIN)) {
    const frozen = deepFrozen(o, keys, vals);
    if (asSlot && !again && !frozen && leaf && n <= 4) {
      made = undefined;
      slotFor = o;
      slotKeys = sharedKeys(keys);
      slotVals = vals;
      return result;
    }
    const m: ObjectMemo = {
      array: false,
      frozen,
      leaf,
      keys: sharedKeys(keys),
      v0: vals[0],
      v1: vals[1],
      v2: vals[2],
      v3: vals[3],
      vals,
      reps,
      subs,
      rep: result,
    };
    objectMemo.set(o, m);
    made = m;
  } else {
    made = undefined;
  }
  return result;
}

/**
 * One key list per object shape (every message of a conversation has the same few keys): a re-check then reads
 * a key list that is already in the CPU cache, and the memo costs less memory. A small most-recent-first list.
 */
const keyLists: (readonly string[])[] = [];
const MAX_KEY_LISTS = 16;

function sharedKeys(keys: readonly string[]): readonly string[] {
  const n = keys.length;
  search: for (let j = 0; j < keyLists.length; j++) {
    const list = keyLists[j]!;
    if (list.length !== n) continue;
    for (let i = 0; i < n; i++) if (list[i] !== keys[i]) continue search;
    if (j > 0) {
      keyLists[j] = keyLists[0]!;
      keyLists[0] = list;
    }
    return list;
  }
  if (keyLists.length >= MAX_KEY_LISTS) keyLists.pop();
  keyLists.unshift(keys);
  return keys;
}

/** Positions of `keys` in sorted order: an insertion sort (objects have few keys; no comparator closure). */
function sortedOrder(keys: readonly string[]): number[] {
  const n = keys.length;
  if (n > 16) return keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    let j = i;
    while (j > 0 && keys[order[j - 1]!]! > k) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  return order;
}

/**
 * Same own enumerable keys in the same order, same values; object values re-checked through their own memo.
 * `for…in` is the cheapest way to see every key (it also lists inherited enumerable keys, which exist only on a
 * polluted Object.prototype: they make the check fail, so the object is re-encoded — slower, never wrong).
 */
function objectStillMatches(o: Record<string, unknown>, memo: ObjectMemo, depth: number): boolean {
  const { keys, vals, reps, subs } = memo;
  const count = keys.length;
  let n = 0;
  for (const k in o) {
    if (n >= count || k !== keys[n]) return false;
    const v = o[k];
    if (v !== vals[n]) return false;
    if (typeof v === 'object' && v !== null && !childStillMatches(v, subs, reps, n, depth)) return false;
    n++;
  }
  return n === count;
}

/** …unless they hold a long string, which re-encoding would hash again. */
function hasLongString(a: readonly unknown[]): boolean {
  for (const v of a) if (typeof v === 'string' && v.length > LONG_STRING) return true;
  return false;
}

function arrayRep(a: readonly unknown[], depth: number, again: boolean): string {
  slotting = false; // only a plain object element is kept in its parent's slots
  const own = arrayMemo.get(a);
  if (own !== undefined && (own.frozen || (own.len === a.length && prefixMatches(a, own, depth)))) {
    made = own;
    return own.rep;
  }
  const base =
    own !== undefined && own.len < a.length && prefixMatches(a, own, depth) ? own : findPrefix(a, depth);
  const memo = base === undefined ? freshArray(a, depth, again) : extendArray(a, base, depth, again);
  if (!again && memo.state === undefined && memo.rep.length < MEMO_MIN && !hasLongString(a)) {
    made = undefined;
    return memo.rep;
  }
  made = memo;
  arrayMemo.set(a, memo);
  const last = a[a.length - 1];
  if (typeof last === 'object' && last !== null && memo.state !== undefined) byLastElement.set(last, memo);
  return memo.rep;
}

/** The elements `memo` covers are still there, the same values, and object elements unchanged inside. */
function prefixMatches(a: readonly unknown[], memo: ArrayMemo, depth: number): boolean {
  const { vals, reps, subs, len, slots } = memo;
  if (a.length < len) return false;
  if (memo.elementsFrozen) {
    for (let i = 0; i < len; i++) if (a[i] !== vals[i]) return false;
    return true;
  }
  let i = 0;
  while (i < len) {
    // Runs of elements checked against their slots (messages with text content), in one tight loop.
    i = firstSlotMismatch(a, vals, slots, i, len);
    if (i >= len) break;
    const v = a[i];
    if (v !== vals[i]) return false;
    if (typeof v === 'object' && v !== null) {
      if (!childStillMatches(v, subs, reps, i, depth)) return false;
      setLeafSlot(slots, i, subs[i]);
    }
    i++;
  }
  return true;
}

/**
 * The first index in [from, to) where `values[i]` is not `expected[i]` (when `expected` is given) or is not an
 * object matching its non-empty slot (see LeafSlots); `to` when there is none. The re-check of a long history,
 * written as one loop so that V8 compiles it as one (no call per message).
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

/** A hashed array seen before whose elements begin this one (the previous turn's messages). */
function findPrefix(a: readonly unknown[], depth: number): ArrayMemo | undefined {
  const stop = Math.max(0, a.length - 1 - EXTEND_LOOKBACK);
  // From the last element: a framework that copies the messages array on every call gives the same elements.
  for (let j = a.length - 1; j >= stop; j--) {
    const v = a[j];
    if (typeof v !== 'object' || v === null) continue;
    const memo = byLastElement.get(v);
    if (memo !== undefined && memo.len === j + 1 && prefixMatches(a, memo, depth)) return memo;
  }
  return undefined;
}

function freshArray(a: readonly unknown[], depth: number, again: boolean): ArrayMemo {
  const vals: unknown[] = new Array(a.length);
  const reps: (string | undefined)[] = new Array(a.length);
  const subs: (Memo | undefined)[] = new Array(a.length);
  const slots = emptyLeafSlots();
  const encoded: string[] = new Array(a.length);
  let length = 2;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    slotting = true;
    const r = rep(v, depth, again);
    slotting = false;
    vals[i] = v;
    encoded[i] = r;
    if (typeof v === 'object' && v !== null) {
      reps[i] = r;
      subs[i] = made;
    } else {
      reps[i] = undefined;
      subs[i] = undefined;
    }
    pushSlot(slots, v, subs[i]);
    length += r.length + 1;
  }
  const body = `[${encoded.join(',')}`;
  const elementsFrozen = objectsDeepFrozen(vals, 0);
  const frozen = elementsFrozen && Object.isFrozen(a) && deepFrozen(a, undefined, vals);
  const inline = length - (a.length > 0 ? 1 : 0) <= DIGEST_INLINE_LIMIT;
  const state = inline ? undefined : createHash('sha256').update(body);
  const own = state === undefined ? `${body}]` : hashedArrayRep(state);
  return { array: true, vals, reps, subs, slots, len: a.length, frozen, elementsFrozen, state, rep: own };
}

/** The rep of a hashed array: its running hash state closed with `]`. */
function hashedArrayRep(state: Hash): string {
  return `H${state.copy().update(']').digest('base64url')}`;
}

/** Continues `base` (a hashed prefix of `a`) with the remaining elements, from a copy of its hash state. */
function extendArray(a: readonly unknown[], base: ArrayMemo, depth: number, again: boolean): ArrayMemo {
  if (base.state === undefined) return freshArray(a, depth, again);
  // Share the snapshot arrays when nobody extended `base` yet; copy the owned part when the history branched.
  const shared = base.vals.length === base.len;
  const vals = shared ? base.vals : base.vals.slice(0, base.len);
  const reps = shared ? base.reps : base.reps.slice(0, base.len);
  const subs = shared ? base.subs : base.subs.slice(0, base.len);
  const slots = shared ? base.slots : leafSlotsPrefix(base.slots, base.len);
  const state = base.state.copy();
  for (let i = base.len; i < a.length; i++) {
    const v = a[i];
    slotting = true;
    const r = rep(v, depth, again);
    slotting = false;
    vals.push(v);
    if (typeof v === 'object' && v !== null) {
      reps.push(r);
      subs.push(made);
      pushSlot(slots, v, made);
    } else {
      reps.push(undefined);
      subs.push(undefined);
      pushSlot(slots, v, undefined);
    }
    state.update(i === 0 ? r : `,${r}`);
  }
  // Conservatively never marked frozen: a frozen array built from a memoized one is re-checked like any other.
  const elementsFrozen = base.elementsFrozen && objectsDeepFrozen(vals, base.len);
  const own = hashedArrayRep(state);
  return {
    array: true,
    vals,
    reps,
    subs,
    slots,
    len: a.length,
    frozen: false,
    elementsFrozen,
    state,
    rep: own,
  };
}

/**
 * Frozen with data properties only (a getter could answer differently each time), and every object value deep-
 * frozen too. Checked once, when the memo is made; only frozen objects pay for the descriptor walk.
 */
function deepFrozen(o: object, keys: readonly string[] | undefined, vals: readonly unknown[]): boolean {
  if (!Object.isFrozen(o)) return false;
  const names = keys ?? Object.keys(o);
  for (let i = 0; i < names.length; i++) {
    if (Object.getOwnPropertyDescriptor(o, names[i]!)?.get !== undefined) return false;
  }
  for (const v of vals) {
    if (typeof v !== 'object' || v === null) continue;
    const memo = Array.isArray(v) ? arrayMemo.get(v) : objectMemo.get(v);
    if (memo !== undefined ? !memo.frozen : !smallDeepFrozen(v)) return false;
  }
  return true;
}

/** Every object in `vals` from `from` on is deep-frozen (primitives never change). */
function objectsDeepFrozen(vals: readonly unknown[], from: number): boolean {
  for (let i = from; i < vals.length; i++) {
    const v = vals[i];
    if (typeof v !== 'object' || v === null) continue;
    const memo = Array.isArray(v) ? arrayMemo.get(v) : objectMemo.get(v);
    if (memo !== undefined ? !memo.frozen : !smallDeepFrozen(v)) return false;
  }
  return true;
}

/**
 * Memoizes, from their parent's slots, the leaf elements `a[from…]` that keying `a` kept only as slots (see
 * `slotting`): their rep is already known, so a later `canonicalDigest` of one of them (a prompt layout asking
 * for each new message's digest) finds it instead of encoding and hashing the message again. Each element is
 * re-checked against its slot first. Does nothing for an array that was not keyed.
 */
export function rememberElements(a: readonly unknown[], from: number): void {
  const memo = arrayMemo.get(a);
  if (memo === undefined) return;
  const { vals, reps, subs, slots } = memo;
  const end = Math.min(memo.len, a.length);
  for (let i = from; i < end; i++) {
    const v = a[i];
    const keys = slots.keys[i];
    if (keys === undefined || v !== vals[i] || typeof v !== 'object' || v === null) continue;
    if (subs[i] !== undefined || objectMemo.has(v) || !leafSlotMatches(v, keys, slots.vals, i)) continue;
    const at = i << 2;
    const snapshot: unknown[] = new Array(keys.length);
    for (let n = 0; n < keys.length; n++) snapshot[n] = slots.vals[at + n];
    const m: ObjectMemo = {
      array: false,
      frozen: false,
      leaf: true,
      keys,
      v0: snapshot[0],
      v1: snapshot[1],
      v2: snapshot[2],
      v3: snapshot[3],
      vals: snapshot,
      reps: NO_REPS,
      subs: NO_SUBS,
      rep: reps[i]!,
    };
    objectMemo.set(v, m);
    subs[i] = m;
  }
}

/** Whether `value` never changes: a primitive, or an object known (memoized) to be deep-frozen. */
export function isImmutable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  const memo = Array.isArray(value) ? arrayMemo.get(value) : objectMemo.get(value);
  return memo?.frozen === true;
}

/** A child too small to be memoized (see MEMO_MIN): checked directly, once, when its parent is memoized. */
function smallDeepFrozen(v: object): boolean {
  if (!Array.isArray(v)) {
    const proto = Object.getPrototypeOf(v);
    if (proto !== objectProto && proto !== null) return false;
  }
  const keys = Object.keys(v);
  return deepFrozen(
    v,
    keys,
    keys.map((k) => (v as Record<string, unknown>)[k]),
  );
}
