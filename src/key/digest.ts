import { createHash, type Hash } from 'node:crypto';
import { canonicalEncode } from './canonical.js';
import { cachedStringRep, LONG_STRING, quoted, sha256, stringRep } from './digest-strings.js';
import { NotCanonicalisableError } from './errors.js';

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
 * (same own keys in the same order, same values by `===`, object children re-checked recursively), so mutating a
 * message in place (`msg.content = '…'`, `messages.push(…)`, `delete msg.name`) always changes the key. The
 * check costs a few tens of nanoseconds per object, with no hashing and no string building. Maps, Sets, Dates,
 * typed arrays and class instances are not memoized (their contents change without a visible property change):
 * they are re-encoded on every call.
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
  /**
   * Deep-frozen when memoized (frozen, data properties only, every object below deep-frozen too): nothing in it
   * can ever change again (freezing cannot be undone), so the memo is used without re-checking.
   */
  readonly frozen: boolean;
  readonly keys: readonly string[];
  readonly vals: readonly unknown[];
  readonly reps: readonly (string | undefined)[];
  readonly rep: string;
}

interface ArrayMemo {
  /** Shared between a memo and the memos that extend it; this memo owns the first `len` entries. */
  readonly vals: unknown[];
  /** Reps of the object elements (undefined for primitives, which are re-checked by ===). */
  readonly reps: (string | undefined)[];
  readonly len: number;
  readonly frozen: boolean;
  /** Every object among the first `len` elements is deep-frozen: checking them is checking their identity. */
  readonly elementsFrozen: boolean;
  /** SHA-256 state after `[` + reps joined by `,` (no `]`), when the array is hashed. */
  readonly state: Hash | undefined;
  readonly rep: string;
}

const objectMemo = new WeakMap<object, ObjectMemo>();
const arrayMemo = new WeakMap<readonly unknown[], ArrayMemo>();
/** The memo of an array seen before, by its last element: how a new, longer array finds the prefix it extends. */
const byLastElement = new WeakMap<object, ArrayMemo>();

class Unsupported extends Error {}

/**
 * `rep(value)` as defined above, remembering `value` itself too (a message given as a prompt segment's content).
 * Throws NotCanonicalisableError (with the offending path) like canonicalEncode.
 */
export function canonicalDigest(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    // A deep-frozen object seen before: one WeakMap lookup (layouts ask for every message's digest every turn).
    const memo = objectMemo.get(value);
    if (memo?.frozen) return memo.rep;
  }
  // Start one level down, so that the value counts as a child (memoized), not as a throwaway request root.
  return digest(value, 1);
}

function digest(value: unknown, depth: number): string {
  try {
    return rep(value, depth);
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
    if (value.length <= LONG_STRING) return JSON.stringify(value);
    // Direct fields of the request (a system prompt) sit in a new object every turn, and a string given to
    // canonicalDigest on its own (a segment's content) has no object to remember it by: cache their digests.
    return depth <= 1 ? cachedStringRep(value) : stringRep(value);
  }
  if (typeof value === 'function' || typeof value === 'symbol') throw new Unsupported();
  return canonicalEncode(value);
}

/** `rep` of an object already known to be an element of a memoized array: the plain-object case first. */
function elementRep(v: object, depth: number): string {
  const memo = objectMemo.get(v);
  if (memo?.frozen) return memo.rep;
  if (memo !== undefined && objectStillMatches(v as Record<string, unknown>, memo, depth + 1)) {
    const proto = Object.getPrototypeOf(v);
    if (proto === objectProto || proto === null) return memo.rep;
  }
  return rep(v, depth, true);
}

/** Special objects are not memoized: their canonical encoding, hashed when long. */
function leafRep(value: unknown): string {
  const encoded = canonicalEncode(value);
  return encoded.length > DIGEST_INLINE_LIMIT ? `H${sha256(encoded, 'base64url')}` : encoded;
}

function objectRep(o: Record<string, unknown>, depth: number, again: boolean): string {
  const memo = objectMemo.get(o);
  if (memo !== undefined && (memo.frozen || objectStillMatches(o, memo, depth))) return memo.rep;
  if (memo === undefined && !again && looksSmall(o, MEMO_MIN)) {
    // A small object met for the first time (a tool's schema, a short message) will not be memoized anyway:
    // the plain encoder's tight loop gives its rep (the canonical encoding, by definition) faster.
    const encoded = canonicalEncode(o);
    if (encoded.length < MEMO_MIN) return encoded;
  }
  const keys = Object.keys(o);
  const n = keys.length;
  const vals: unknown[] = new Array(n);
  const encoded: (string | undefined)[] = new Array(n);
  const reps: (string | undefined)[] = new Array(n);
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
    reps[i] = typeof v === 'object' && v !== null ? r : undefined;
    if (i > 0 && keys[i - 1]! > k) sorted = false;
  }
  let order: number[] | undefined;
  if (!sorted) {
    order = keys.map((_, i) => i);
    order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  }
  let body = '{';
  for (let x = 0; x < n; x++) {
    const i = order === undefined ? x : order[x]!;
    const r = encoded[i];
    if (r === undefined) continue;
    if (body.length > 1) body += ',';
    body += `${quoted(keys[i]!)}:${r}`;
  }
  body += '}';
  const result = body.length > DIGEST_INLINE_LIMIT ? `H${sha256(body, 'base64url')}` : body;
  // Not memoized: the root (depth 1), nearly always a new request object, and small objects met for the first
  // time (every WeakMap entry is work for the garbage collector). A small object met `again` — while re-checking
  // a memoized parent, so it belongs to something long-lived (a tool's schema) — is remembered.
  if (depth > 1 && (heavy || again || body.length >= MEMO_MIN)) {
    objectMemo.set(o, { frozen: deepFrozen(o, keys, vals), keys, vals, reps, rep: result });
  }
  return result;
}

/**
 * Same own enumerable keys in the same order, same values; object values re-checked through their own memo.
 * `for…in` is the cheapest way to see every key (it also lists inherited enumerable keys, which exist only on a
 * polluted Object.prototype: they make the check fail, so the object is re-encoded — slower, never wrong).
 */
function objectStillMatches(o: Record<string, unknown>, memo: ObjectMemo, depth: number): boolean {
  const { keys, vals, reps } = memo;
  let n = 0;
  for (const k in o) {
    if (n >= keys.length || k !== keys[n]) return false;
    const v = o[k];
    if (v !== vals[n]) return false;
    if (typeof v === 'object' && v !== null && rep(v, depth, true) !== reps[n]) return false;
    n++;
  }
  return n === keys.length;
}

/** …unless they hold a long string, which re-encoding would hash again. */
function hasLongString(a: readonly unknown[]): boolean {
  for (const v of a) if (typeof v === 'string' && v.length > LONG_STRING) return true;
  return false;
}

function arrayRep(a: readonly unknown[], depth: number, again: boolean): string {
  const own = arrayMemo.get(a);
  if (own?.frozen) return own.rep;
  if (own !== undefined && own.len === a.length && prefixMatches(a, own, depth)) return own.rep;
  const base =
    own !== undefined && own.len < a.length && prefixMatches(a, own, depth) ? own : findPrefix(a, depth);
  const memo = base === undefined ? freshArray(a, depth, again) : extendArray(a, base, depth, again);
  if (!again && memo.state === undefined && memo.rep.length < MEMO_MIN && !hasLongString(a)) return memo.rep;
  arrayMemo.set(a, memo);
  const last = a[a.length - 1];
  if (typeof last === 'object' && last !== null && memo.state !== undefined) byLastElement.set(last, memo);
  return memo.rep;
}

/** The elements `memo` covers are still there, the same values, and object elements unchanged inside. */
function prefixMatches(a: readonly unknown[], memo: ArrayMemo, depth: number): boolean {
  const { vals, reps, len } = memo;
  if (a.length < len) return false;
  if (memo.elementsFrozen) {
    for (let i = 0; i < len; i++) if (a[i] !== vals[i]) return false;
    return true;
  }
  for (let i = 0; i < len; i++) {
    const v = a[i];
    if (v !== vals[i]) return false;
    if (typeof v === 'object' && v !== null && elementRep(v, depth) !== reps[i]) return false;
  }
  return true;
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
  const encoded: string[] = new Array(a.length);
  let length = 2;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const r = rep(v, depth, again);
    vals[i] = v;
    encoded[i] = r;
    reps[i] = typeof v === 'object' && v !== null ? r : undefined;
    length += r.length + 1;
  }
  const body = `[${encoded.join(',')}`;
  const elementsFrozen = objectsDeepFrozen(vals, 0);
  const frozen = elementsFrozen && Object.isFrozen(a) && deepFrozen(a, undefined, vals);
  if (length - (a.length > 0 ? 1 : 0) <= DIGEST_INLINE_LIMIT) {
    return { vals, reps, len: a.length, frozen, elementsFrozen, state: undefined, rep: `${body}]` };
  }
  const state = createHash('sha256').update(body);
  return {
    vals,
    reps,
    len: a.length,
    frozen,
    elementsFrozen,
    state,
    rep: `H${state.copy().update(']').digest('base64url')}`,
  };
}

/** Continues `base` (a hashed prefix of `a`) with the remaining elements, from a copy of its hash state. */
function extendArray(a: readonly unknown[], base: ArrayMemo, depth: number, again: boolean): ArrayMemo {
  if (base.state === undefined) return freshArray(a, depth, again);
  // Share the snapshot arrays when nobody extended `base` yet; copy the owned part when the history branched.
  const shared = base.vals.length === base.len;
  const vals = shared ? base.vals : base.vals.slice(0, base.len);
  const reps = shared ? base.reps : base.reps.slice(0, base.len);
  const state = base.state.copy();
  for (let i = base.len; i < a.length; i++) {
    const v = a[i];
    const r = rep(v, depth, again);
    vals.push(v);
    reps.push(typeof v === 'object' && v !== null ? r : undefined);
    state.update(i === 0 ? r : `,${r}`);
  }
  // Conservatively never marked frozen: a frozen array built from a memoized one is re-checked like any other.
  return {
    vals,
    reps,
    len: a.length,
    frozen: false,
    elementsFrozen: base.elementsFrozen && objectsDeepFrozen(vals, base.len),
    state,
    rep: `H${state.copy().update(']').digest('base64url')}`,
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
