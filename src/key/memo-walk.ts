import { sortKeys } from './walk.js';

/**
 * The walk of the key memo (memo.ts) over a call's arguments: one pass that hashes them and records them on a
 * tape, allocating nothing beyond the property lists it reads.
 *
 * The tape is the arguments' value, flat, in the order of their canonical encoding: primitives (the leaves) as they
 * are, an array as ARRAY and its length followed by its elements, a plain object as OBJECT, then each defined
 * property's name and value in sorted name order, then END. Beside it, a hash of the structure alone (everything
 * but the leaves) names the arguments' shape (memo-shape.ts). Two values with equal tapes (element by element,
 * `===`) are equal under the canonical rules: same structure, same property names, same primitives (`0 === -0`,
 * which encode alike; NaN never gets here).
 */

const MAX_NODES = 64;
const MAX_STRING = 256;
const MAX_DEPTH = 16;
/** Not a hash: the value is not for the memo (too big, or not JSON-like). */
export const BAIL = -1;
const objectProto = Object.prototype;

/** Tape markers: objects no argument value can be `===` to. */
export const ARRAY = Object.freeze({ tape: 'array' });
export const OBJECT = Object.freeze({ tape: 'object' });
export const END = Object.freeze({ tape: 'end' });

/**
 * The state of one walk, shared by every memo: a walk never yields (it is synchronous), and `busy` keeps a call
 * made from inside one (a getter in the arguments calling another cached tool) from using it at the same time.
 */
export const walk = {
  busy: false,
  budget: MAX_NODES,
  tape: [] as unknown[],
  length: 0,
  /** A hash of the tape's structure alone (markers, property names, array lengths; not the leaves). */
  shape: 0,
};

/** Hashes `value` (a non-negative 31-bit number, or BAIL) and leaves its tape and property lists in `walk`. */
export function walkValue(value: unknown): number {
  walk.budget = MAX_NODES;
  walk.length = 0;
  walk.shape = 0x2f1b3c4d;
  return hashOf(value, 0);
}

/** Whether `tape` is the tape of the value just walked (element by element, `===`). */
export function sameTape(tape: readonly unknown[]): boolean {
  const n = walk.length;
  if (tape.length !== n) return false;
  const current = walk.tape;
  for (let i = 0; i < n; i++) if (tape[i] !== current[i]) return false;
  return true;
}

/** A copy of the tape of the value just walked. */
export function takeTape(): unknown[] {
  return walk.tape.slice(0, walk.length);
}

/** Records a leaf (a primitive): in the structure, only the fact that a leaf is there. */
function leaf(item: unknown): void {
  walk.tape[walk.length++] = item;
  walk.shape = Math.imul(walk.shape ^ 0x4c, 0x01000193);
}

/** Records a part of the structure, mixed into the structure hash. */
function structure(item: unknown, mix: number): void {
  walk.tape[walk.length++] = item;
  walk.shape = Math.imul(walk.shape ^ mix, 0x01000193);
}

function hashOf(value: unknown, depth: number): number {
  return typeof value === 'object' && value !== null ? hashNode(value, depth) : hashLeaf(value);
}

/** A primitive: small enough to be inlined where the walk meets one (most of what it meets). */
function hashLeaf(value: unknown): number {
  if (--walk.budget < 0) return BAIL;
  switch (typeof value) {
    case 'string':
      leaf(value);
      return hashString(value);
    case 'number':
      if (!Number.isFinite(value)) return BAIL;
      leaf(value);
      return (Math.imul(value | 0, 0x9e3779b1) ^ Math.imul((value * 1e6) | 0, 0x85ebca6b) ^ 0x3c6ef372) >>> 1;
    case 'boolean':
      leaf(value);
      return value ? 0x1234567 : 0x7654321;
    case 'undefined':
      leaf(value);
      return 0x2545f491;
    default:
      if (value !== null) return BAIL; // bigint, symbol, function
      leaf(value);
      return 0x3a8f05c5;
  }
}

function hashNode(value: object, depth: number): number {
  if (--walk.budget < 0 || depth > MAX_DEPTH) return BAIL;
  if (Array.isArray(value)) {
    const n = value.length;
    structure(ARRAY, 0x41);
    structure(n, n);
    let h = 0x27d4eb2f ^ n;
    for (let i = 0; i < n; i++) {
      const v: unknown = value[i];
      const x = typeof v === 'object' && v !== null ? hashNode(v, depth + 1) : hashLeaf(v);
      if (x === BAIL) return BAIL;
      h = Math.imul(h ^ x, 0x01000193) + i;
    }
    return h >>> 1;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== objectProto && proto !== null) return BAIL;
  // Encoded through its toJSON (own or, if someone added one, Object.prototype's): not for the memo.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return BAIL;
  structure(OBJECT, 0x4f);
  // In canonical order: the tape is then the order of the encoding, whatever order the properties were written in.
  const keys = Object.keys(value);
  if (keys.length > 1) sortKeys(keys);
  let h = 0x165667b1;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue; // the same as a missing property
    const n = k.length;
    // A property name enters the hashes by its length and end characters: names rarely tell two calls of one
    // tool apart (values do), and the comparison checks them anyway.
    const kh = n === 0 ? 0x65 : (n << 16) ^ (k.charCodeAt(0) << 8) ^ k.charCodeAt(n - 1);
    structure(k, kh);
    const x = typeof v === 'object' && v !== null ? hashNode(v, depth + 1) : hashLeaf(v);
    if (x === BAIL) return BAIL;
    h = Math.imul(h ^ kh, 0x2c1b3c6d) ^ x;
  }
  structure(END, 0x45);
  return h >>> 1;
}

function hashString(s: string): number {
  const n = s.length;
  if (n > MAX_STRING) return BAIL;
  // Only the slot depends on this hash (the comparison checks every character), so sampling is safe: the length,
  // the first 8 and the last 16 characters, where identifiers differ.
  let h = 0x811c9dc5 ^ n;
  const head = Math.min(n, 8);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  for (let i = Math.max(n - 16, head); i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) >>> 1;
}
