import { AgentCacheTypeError } from '../errors.js';
import { canonicalEncode } from './canonical.js';
import { compactKey, MAX_RAW_KEY_LENGTH } from './compact.js';
import { Shape } from './memo-shape.js';
import { BAIL, sameTape, takeTape, walk, walkValue } from './memo-walk.js';

export interface KeyMemoOptions {
  /** Initial slots of the table. Default 1024. */
  readonly slots?: number;
  /** The most slots it grows to (raised by `allow`). Default 65 536. */
  readonly maxSlots?: number;
  /** Slots of the table of recent keys. Default 1024. */
  readonly recent?: number;
}

/** Something the caller keeps beside a remembered key (the read path keeps the backend entry it found under it). */
export interface Attachment {
  readonly key: string;
}

/**
 * A value-keyed memo in front of `canonicalEncode` for the hot path of tool calls.
 *
 * Building a canonical key means sorting property names and concatenating many small strings, and the result must
 * then be hashed by the backend's map lookup; for a small object argument that costs more than the rest of a cache
 * hit together. Agents call the same tools with the same arguments over and over, so we remember the keys we
 * built, and find them again by the *value* of the arguments — never by object identity, so mutating an argument
 * can never return a stale key:
 *
 *  - one walk over the arguments (memo-walk.ts) hashes them, which picks where to look, and records them on a
 *    tape, without allocating;
 *  - the most recent keys (a small table) keep their arguments' tape beside them, and are returned when the tapes
 *    are equal element by element: the fastest check, for what a tool is called with over and over;
 *  - every key is also in a table that grows with the working set, two buckets of two slots per hash. A slot holds a key this memo built and the shape of the arguments it was built from (memo-shape.ts: the
 *    structure, without the primitives), and it is returned only when the arguments have that shape and their
 *    primitives are, one by one, those in the key's text. The key is its own record of what was encoded, so a
 *    slot costs two references (the key is a string the backend holds anyway, the shape is shared by every key of
 *    that structure) and no copy of the arguments: the table grows with the working set, up to what the backend
 *    holds, and a hit stays a hit at a million keys.
 *
 * A slot may hold, instead of the bare key, an attachment that carries it: the caller attaches what it found under
 * the key (`attach`) and gets it back on the next call with equal arguments (`attached`), which spares it a lookup
 * by key. At a million keys a lookup is a few cache misses; each one saved counts.
 *
 * Keys whose canonical material is hashed (longer than MAX_RAW_KEY_LENGTH) cannot be compared with their text;
 * their material is kept beside them, in a small table of their own (no attachments).
 *
 * Only JSON-like values are memoised (plain objects, arrays, strings, finite numbers, booleans, null, undefined)
 * and only small ones; anything else goes straight to `canonicalEncode`. The memo never changes a key: it returns
 * exactly what `canonicalEncode` returns for an equal value, and a key is only remembered once its text has been
 * checked, fragment by fragment and leaf by leaf, to be what its shape says.
 */
export class KeyMemo<A extends Attachment = Attachment> {
  /** The prefix of every key remembered (a tool's namespace and name); a new one starts the memo over. */
  #prefix = '';
  /** Buckets of two slots, each slot a hash, a key or attachment, and a shape: 6 elements per bucket. */
  #slots: (number | string | A | Shape | undefined)[];
  readonly #initialSlots: number;
  #maxSlots: number;
  /** Whether `maxSlots` was given to the constructor (then `allow` only raises it). */
  readonly #explicitMax: boolean;
  /** The last bound `allow` was given (it is called on every miss). */
  #allowed = 0;
  #filled = 0;
  /** Items evicted to make room since the table last grew (a sign that it is too small). */
  #evicted = 0;
  /** Where the item of the last `key()` call sits in #slots (-1: none, or in the table of long keys). */
  #last = -1;
  readonly #long: (LongKey | undefined)[] = new Array(LONG_SLOTS);
  /** The shapes seen, by the hash of their structure (one per hash; at most MAX_SHAPES). */
  readonly #shapes = new Map<number, Shape>();
  /** The recent keys: two candidate slots per hash, the older one replaced. */
  readonly #recent: (Recent<A> | undefined)[];
  /** The hash of each recent slot (-1: empty): a slot whose hash differs is passed over without reading it. */
  readonly #recentHashes: Int32Array;
  /** Keys ever put in the table of long keys since the last restart (none: it is not looked at). */
  #longs = 0;
  /** The recent key the last `key()` call returned, if it came from there. */
  #lastRecent: Recent<A> | undefined;
  /** Hits in the large table, counted to promote one in PROMOTE of them to the recent table. */
  #hits = 0;
  /** Insertions into the recent table, to tell the older of two slots. */
  #age = 0;

  constructor(options: KeyMemoOptions = {}) {
    this.#initialSlots = powerOfTwo(Math.max(2, options.slots ?? 1024));
    this.#slots = new Array(3 * this.#initialSlots);
    this.#maxSlots = Math.max(this.#initialSlots, powerOfTwo(options.maxSlots ?? DEFAULT_MAX_SLOTS));
    this.#explicitMax = options.maxSlots !== undefined;
    this.#recent = new Array(powerOfTwo(Math.max(2, options.recent ?? RECENT)));
    this.#recentHashes = new Int32Array(this.#recent.length).fill(-1);
  }

  /** Number of slots now (it grows with the number of distinct keys, up to its bound). */
  get slots(): number {
    return this.#slots.length / 3;
  }

  /**
   * Lets the table grow to hold about `entries` keys: the most entries the backend behind this memo can hold (a
   * bigger memo would only keep keys of evicted entries alive, and with them what is attached to them). The first
   * bound given replaces the default `maxSlots` (not one passed to the constructor); later ones (another backend
   * the same tool stores into) can only raise it.
   */
  allow(entries: number): void {
    if (entries === this.#allowed) return;
    // A slot per entry and some room: with two buckets to choose from, a table 85% full still finds room.
    const slots = Math.min(MAX_SLOTS, powerOfTwo(Math.max(2, Math.ceil(entries * 1.15))));
    if (this.#allowed === 0 && !this.#explicitMax) this.#maxSlots = Math.max(slots, this.slots);
    else if (slots > this.#maxSlots) this.#maxSlots = slots;
    this.#allowed = entries;
  }

  /**
   * The cache key `prefix + scope + compactKey(canonicalEncode(value))`, the same string object as last time when
   * the value encodes to a key seen before under the same prefix and scope (so the backend's map finds its hash
   * already computed). `scopeSeed` (any 31-bit number fixed per scope) spreads scopes over the table. Throws like
   * `canonicalEncode` for values with no canonical form.
   */
  key(value: unknown, prefix: string, scope: string, scopeSeed = 0): string {
    this.#last = -1;
    this.#lastRecent = undefined;
    if (prefix !== this.#prefix) this.#restart(prefix);
    // A getter in the arguments may call another cached tool while we walk or encode: that inner call must not
    // disturb the walk state of this one, so it goes straight to the encoder.
    if (walk.busy) return flatKey(prefix, scope, canonicalEncode(value));
    walk.busy = true;
    try {
      let hash: number;
      try {
        hash = walkValue(value);
      } catch {
        hash = BAIL; // a getter threw: the encoder reports it, with its path
      }
      if (hash === BAIL) return flatKey(prefix, scope, canonicalEncode(value));
      // Sessions calling a tool with the same arguments land in different slots, not on each other's.
      hash = (hash ^ scopeSeed) & 0x7fffffff;
      // A recent key is verified by its whole tape, structure included: no shape needed.
      const recent = this.#findRecent(hash, scope);
      if (recent !== undefined) return recent;
      const shape = this.#shapeOfWalk();
      if (shape === undefined) return flatKey(prefix, scope, canonicalEncode(value));
      const found = this.#find(hash, shape, scope);
      if (found !== undefined) return found;
      // Once the encoder has been seen to write what the shape's fragments say, a value of that shape is encoded
      // from its walk (no second walk, no sorting or quoting of names again).
      const material = shape.checked ? shape.encode() : canonicalEncode(value);
      if (!shape.checked) shape.check(material);
      const key = flatKey(prefix, scope, material);
      this.#remember(hash, shape, key, material, scope);
      return key;
    } finally {
      walk.busy = false;
    }
  }

  /** What was attached to the key the last `key()` call returned, if anything. */
  attached(): A | undefined {
    const recent = this.#lastRecent;
    if (recent !== undefined) return typeof recent.item === 'object' ? recent.item : undefined;
    if (this.#last < 0) return undefined;
    const item = this.#slots[this.#last];
    return typeof item === 'object' ? (item as A) : undefined;
  }

  /** Keeps `item` beside the key the last `key()` call returned (`item.key`, the same string), or drops it. */
  attach(item: A | undefined, key: string): void {
    const kept = item !== undefined && item.key === key ? item : key;
    const recent = this.#lastRecent;
    if (recent !== undefined) {
      if (recent.key === key) recent.item = kept;
    } else if (this.#last >= 0 && keyOf(this.#slots[this.#last]) === key) {
      this.#slots[this.#last] = kept;
    }
  }

  #restart(prefix: string): void {
    this.#prefix = prefix;
    this.#recent.fill(undefined);
    this.#recentHashes.fill(-1);
    this.#longs = 0;
    this.#slots = new Array(3 * this.#initialSlots);
    this.#long.fill(undefined);
    this.#filled = 0;
    this.#evicted = 0;
  }

  /** The shape of the value just walked: a known one, a new one, or none (a rare hash collision, or too many). */
  #shapeOfWalk(): Shape | undefined {
    const known = this.#shapes.get(walk.shape);
    if (known !== undefined) return known.fits() ? known : undefined;
    if (this.#shapes.size >= MAX_SHAPES) return undefined;
    const shape = new Shape();
    this.#shapes.set(walk.shape, shape);
    return shape;
  }

  /** A recent key whose arguments had the tape of the value just walked, under `scope`. */
  #findRecent(hash: number, scope: string): string | undefined {
    const recent = this.#recent;
    const hashes = this.#recentHashes;
    const i = hash & (recent.length - 1);
    if (hashes[i] === hash) {
      const a = recent[i]!;
      if (a.scope === scope && sameTape(a.tape)) {
        this.#lastRecent = a;
        return a.key;
      }
    }
    const j = this.#otherRecent(hash);
    if (hashes[j] === hash) {
      const b = recent[j]!;
      if (b.scope === scope && sameTape(b.tape)) {
        this.#lastRecent = b;
        return b.key;
      }
    }
    return undefined;
  }

  /** Into the free one of its two recent slots, else over the older one. */
  #putRecent(hash: number, scope: string, key: string, item: string | A): void {
    const recent = this.#recent;
    const a = hash & (recent.length - 1);
    const b = this.#otherRecent(hash);
    const inA = recent[a];
    const inB = recent[b];
    const at = inA === undefined || (inB !== undefined && inA.age < inB.age) ? a : b;
    const entry: Recent<A> = { hash, scope, tape: takeTape(), key, item, age: ++this.#age };
    recent[at] = entry;
    this.#recentHashes[at] = hash;
    this.#lastRecent = entry;
  }

  #otherRecent(hash: number): number {
    return (Math.imul(hash, 0x9e3779b1) >>> 16) & (this.#recent.length - 1);
  }

  /** A remembered key whose text is exactly what the value just walked encodes to under `scope`. */
  #find(hash: number, shape: Shape, scope: string): string | undefined {
    const a = this.#bucket(hash);
    const found = this.#findIn(a, hash, shape, scope);
    if (found !== undefined) return found;
    // An item goes to its second bucket only when its first is full, and a slot is never emptied (until the table
    // is rebuilt): a first bucket with room means the key is in neither.
    if (this.#slots[a + 4] !== undefined) {
      const b = this.#otherBucket(hash);
      if (b !== a) {
        const other = this.#findIn(b, hash, shape, scope);
        if (other !== undefined) return other;
      }
    }
    if (this.#longs === 0) return undefined;
    const long = this.#long[hash & (LONG_SLOTS - 1)];
    if (long !== undefined && long.hash === hash && long.shape === shape && long.scope === scope) {
      if (shape.matches(long.material, 0, false)) return long.key;
    }
    return undefined;
  }

  #findIn(at: number, hash: number, shape: Shape, scope: string): string | undefined {
    const slots = this.#slots;
    const from = this.#prefix.length;
    for (let way = at; way < at + 6; way += 3) {
      const stored = slots[way];
      // A key not looked up yet is stored under ~hash: compared in full the first time (see #remember).
      const checked = stored === hash;
      if ((!checked && stored !== ~hash) || slots[way + 2] !== shape) continue;
      const item = slots[way + 1];
      const key = keyOf(item);
      if (key === undefined || !startsWithAt(key, scope, from)) continue;
      if (!shape.matches(key, from + scope.length, !checked)) continue;
      if (way !== at) {
        // The more recently used of a bucket goes first, so that an insertion evicts the other one.
        slots[way + 1] = slots[at + 1];
        slots[way + 2] = slots[at + 2];
        slots[way] = slots[at];
        slots[at + 1] = item;
        slots[at + 2] = shape;
      }
      slots[at] = hash;
      this.#last = at + 1;
      // The first time a key is found again, and now and then after, it goes to the recent table (a copy of its
      // tape): what is called again and again ends up there.
      if (!checked || (++this.#hits & (PROMOTE - 1)) === 0) {
        this.#putRecent(hash, scope, key, item as string | A);
        this.#last = -1;
      }
      return key;
    }
    return undefined;
  }

  /**
   * A key just built. Calls that never repeat are the common case of a miss, so remembering one costs little: the
   * key goes in under ~hash, unchecked, and the full comparison of its text with its shape waits for the first
   * call that finds it (and may then step over the fragments forever after).
   */
  #remember(hash: number, shape: Shape, key: string, material: string, scope: string): void {
    if (material.length > MAX_RAW_KEY_LENGTH) {
      if (shape.matches(material, 0, true)) {
        this.#long[hash & (LONG_SLOTS - 1)] = { hash, scope, shape, material, key };
        this.#longs++;
      }
      return;
    }
    this.#place(this.#slots, ~hash, key, shape);
    if (
      this.slots < this.#maxSlots &&
      (this.#filled > (this.slots >> 3) * 7 || this.#evicted > this.slots >> 3)
    )
      this.#grow();
  }

  /**
   * Puts an item in the first slot of one of its two buckets: the one with a free slot, else its first bucket,
   * whose older item is evicted. `stored` is the hash, or ~hash for a key not checked yet. Returns where the item
   * went.
   */
  #place(
    slots: (number | string | A | Shape | undefined)[],
    stored: number,
    item: unknown,
    shape: unknown,
  ): number {
    const hash = stored < 0 ? ~stored : stored;
    let at = this.#bucket(hash);
    if (slots[at + 4] !== undefined) {
      const b = this.#otherBucket(hash);
      if (slots[b + 4] === undefined) at = b;
      else this.#evicted++;
    }
    if (slots[at + 4] === undefined) this.#filled++;
    slots[at + 3] = slots[at];
    slots[at + 4] = slots[at + 1];
    slots[at + 5] = slots[at + 2];
    slots[at] = stored;
    slots[at + 1] = item as string | A;
    slots[at + 2] = shape as Shape;
    return at + 1;
  }

  /** Where the first bucket of `hash` starts in #slots. */
  #bucket(hash: number): number {
    return (hash & (this.#slots.length / 6 - 1)) * 6;
  }

  /** Where its second bucket starts: from other bits of the hash. */
  #otherBucket(hash: number): number {
    return ((Math.imul(hash, 0x9e3779b1) >>> 7) & (this.#slots.length / 6 - 1)) * 6;
  }

  /** Doubles the table, moving every item to one of its buckets in the new one (when both are full, it is dropped). */
  #grow(): void {
    const old = this.#slots;
    this.#slots = new Array(old.length * 2);
    this.#filled = 0;
    this.#last = -1;
    // The second slot of each old bucket first, so the first ones (the more recent) end up first again.
    for (const way of [3, 0]) {
      for (let i = way; i < old.length; i += 6) {
        if (old[i + 1] !== undefined) this.#place(this.#slots, old[i] as number, old[i + 1], old[i + 2]);
      }
    }
    this.#evicted = 0;
  }
}

/** A recent key: its hash, scope and tape (what verifies it), and what the caller attached (or the key). */
interface Recent<A> {
  readonly hash: number;
  readonly scope: string;
  readonly tape: readonly unknown[];
  readonly key: string;
  item: string | A;
  /** When it was put in (the older of two candidate slots is replaced). */
  readonly age: number;
}

/** A key whose material is hashed: the material is kept to compare the arguments with. */
interface LongKey {
  readonly hash: number;
  readonly scope: string;
  readonly shape: Shape;
  readonly material: string;
  readonly key: string;
}

/** Whether `text` is the canonical encoding of `value`, compared the way the memo compares them (for tests). */
export function matchesEncoding(value: unknown, text: string): boolean {
  if (walk.busy) throw new AgentCacheTypeError('matchesEncoding: not from inside a walk');
  walk.busy = true;
  try {
    return walkValue(value) !== BAIL && new Shape().matches(text, 0, true);
  } finally {
    walk.busy = false;
  }
}

function keyOf(item: unknown): string | undefined {
  return typeof item === 'string' ? item : (item as Attachment | undefined)?.key;
}

/** `text` has `part` at position `p`. */
function startsWithAt(text: string, part: string, p: number): boolean {
  const n = part.length;
  for (let i = 0; i < n; i++) if (text.charCodeAt(p + i) !== part.charCodeAt(i)) return false;
  return true;
}

function powerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * `prefix + scope + compactKey(material)` as one flat string. The encoder's output is a rope (a tree of the
 * pieces it concatenated) of several times the size of its characters, and a key lives as long as its entry:
 * joined, it takes just its characters, and every later lookup hashes and compares a flat string.
 */
function flatKey(prefix: string, scope: string, material: string): string {
  return [prefix, scope, compactKey(material)].join('');
}

const LONG_SLOTS = 1024;
const RECENT = 1024;
/** One hit in this many in the large table is promoted to the recent one (a power of two). */
const PROMOTE = 8;
/** Distinct argument structures remembered per memo (arrays of each length are one each). */
const MAX_SHAPES = 256;
const DEFAULT_MAX_SLOTS = 1 << 16;
/** 4M slots (96 MiB of table) at most, whatever the backend holds. */
const MAX_SLOTS = 1 << 22;
