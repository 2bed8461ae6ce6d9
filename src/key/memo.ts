import { canonicalEncode } from './canonical.js';
import { compactKey } from './compact.js';

/**
 * A value-keyed memo in front of `canonicalEncode` for the hot path of tool calls.
 *
 * Building a canonical key means sorting keys and concatenating many small strings, and the resulting rope must
 * then be flattened and hashed by the map lookup; for a small object argument that costs more than the rest of a
 * cache hit together. Agents call the same tools with the same small arguments over and over, so we remember
 * recent encodings, keyed by the *value* (never by object identity, so mutating an argument can never return a
 * stale key):
 *  - an order-insensitive structural hash picks one slot of a direct-mapped table (no allocation on a hit);
 *  - the slot holds a private deep copy of the arguments and their encoding; the encoding is reused only when the
 *    arguments are structurally equal to that copy under the canonical rules (§6), else it is recomputed.
 *
 * Only JSON-like values are memoised (plain objects, arrays, strings, finite numbers, booleans, null, undefined)
 * and only small ones; anything else goes straight to `canonicalEncode`. The memo never changes a key: it returns
 * exactly what `canonicalEncode` returned for an equal value.
 */
export class KeyMemo {
  readonly #table: (Memo | undefined)[];
  readonly #mask: number;

  /** `slots`: a power of two. Each value may sit in one of two slots, so a few collisions do not thrash. */
  constructor(slots = 1024) {
    this.#table = new Array(slots);
    this.#mask = slots - 1;
  }

  /**
   * The cache key `prefix + scope + compactKey(canonicalEncode(value))`, the same string object as last time when
   * an equal value was seen under the same prefix and scope (so the backend's map finds its hash already computed).
   * `scopeSeed` (any 31-bit number fixed per scope) spreads scopes over the table. Throws like `canonicalEncode`
   * for values with no canonical form.
   */
  key(value: unknown, prefix: string, scope: string, scopeSeed = 0): string {
    budget = MAX_NODES;
    seen = 0;
    let hash = hashOf(value, 0);
    if (hash === BAIL) return prefix + scope + compactKey(canonicalEncode(value));
    // Sessions calling a tool with the same arguments land in different slots instead of evicting each other.
    hash = (hash ^ scopeSeed) >>> 1;
    const table = this.#table;
    const a = hash & this.#mask;
    const b = (Math.imul(hash, 0x9e3779b1) >>> 16) & this.#mask;
    const inA = table[a];
    if (inA !== undefined && matches(inA, hash, prefix, scope, value)) return inA.key;
    const inB = table[b];
    if (inB !== undefined && matches(inB, hash, prefix, scope, value)) return inB.key;
    // Encode the private copy, so the memo holds exactly what was encoded even if reading `value` is impure.
    const copy = copyOf(value);
    const key = flat(prefix + scope + compactKey(canonicalEncode(copy)));
    const memo: Memo = { hash, copy, prefix, scope, key };
    if (inA === undefined) table[a] = memo;
    else table[b] = memo; // evicts whatever held b
    return key;
  }
}

function matches(memo: Memo, hash: number, prefix: string, scope: string, value: unknown): boolean {
  if (memo.hash !== hash || memo.scope !== scope || memo.prefix !== prefix) return false;
  replayed = 0;
  return equal(memo.copy, value);
}

/** Flattens a concatenated string once, so every later lookup with it hashes a flat string (the hash is cached). */
function flat(s: string): string {
  Number(s);
  return s;
}

interface Memo {
  readonly hash: number;
  readonly copy: unknown;
  readonly prefix: string;
  readonly scope: string;
  readonly key: string;
}

const MAX_NODES = 64;
const MAX_STRING = 256;
const BAIL = -1;
const objectProto = Object.prototype;
let budget = MAX_NODES;
/** Object.keys of each plain object hashOf visited, in visiting order (equal replays them). */
const seenKeys: string[][] = new Array(MAX_NODES);
let seen = 0;
let replayed = 0;

/** A non-negative 31-bit hash, or BAIL for values the memo does not handle. */
function hashOf(value: unknown, depth: number): number {
  if (--budget < 0) return BAIL;
  switch (typeof value) {
    case 'string':
      return hashString(value);
    case 'number':
      if (!Number.isFinite(value)) return BAIL;
      return (Math.imul(value | 0, 0x9e3779b1) ^ Math.imul((value * 1e6) | 0, 0x85ebca6b) ^ 0x3c6ef372) >>> 1;
    case 'boolean':
      return value ? 0x1234567 : 0x7654321;
    case 'undefined':
      return 0x2545f491;
    case 'object': {
      if (value === null) return 0x3a8f05c5;
      if (depth > 16) return BAIL;
      if (Array.isArray(value)) {
        let h = 0x27d4eb2f ^ value.length;
        for (let i = 0; i < value.length; i++) {
          const x = hashOf(value[i], depth + 1);
          if (x === BAIL) return BAIL;
          h = Math.imul(h ^ x, 0x01000193) + i;
        }
        return h >>> 1;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== objectProto && proto !== null) return BAIL;
      // Order-insensitive: a sum of per-property hashes.
      let h = 0x165667b1;
      const keys = Object.keys(value);
      seenKeys[seen++] = keys;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) continue; // the same as a missing property
        const vh = hashOf(v, depth + 1);
        if (vh === BAIL) return BAIL;
        // A property name only enters by its length and first character: names rarely tell two calls of one tool
        // apart (values do), and equality is checked on the copy anyway.
        const kh = Math.imul(k.length, 0x9e3779b1) ^ (k.length > 0 ? k.charCodeAt(0) : 0);
        h = (h + Math.imul(kh ^ Math.imul(vh, 0x2c1b3c6d), 0x297a2d39)) | 0;
      }
      return h >>> 1;
    }
    default:
      return BAIL;
  }
}

function hashString(s: string): number {
  const n = s.length;
  if (n > MAX_STRING) return BAIL;
  // Only the slot depends on this hash (equality is checked on the copy), so sampling is safe: the length, the
  // first 8 and the last 16 characters, where identifiers differ.
  let h = 0x811c9dc5 ^ n;
  const head = Math.min(n, 8);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  for (let i = Math.max(n - 16, head); i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) >>> 1;
}

/** Number of defined properties of a copied object, kept out of sight of Object.keys. */
const COUNT = Symbol('definedProperties');
type Copy = Record<string, unknown> & { [COUNT]: number };

/** `a` is a copy made by copyOf; `b` is a value that hashed (so it is JSON-like and small). */
function equal(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return a === b;
  if (typeof b !== 'object' || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Copy;
  const rb = b as Record<string, unknown>;
  // The same depth-first order as hashOf, so the key lists it took are replayed instead of taken again.
  const keys = seenKeys[replayed++]!;
  let defined = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = rb[k];
    if (v === undefined) continue;
    defined++;
    const mine = ra[k];
    if (mine === undefined || !equal(mine, v)) return false;
  }
  return defined === ra[COUNT];
}

/** A private deep copy (objects and arrays only; primitives are immutable), without undefined properties. */
function copyOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const out = Object.create(null) as Copy;
  let count = 0;
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out[k] = copyOf(v);
    count++;
  }
  out[COUNT] = count;
  return out;
}
