import { createHash, type Hash } from 'node:crypto';
import { canonicalEncode } from './canonical.js';
import { StringDigests, stringRep } from './digest-strings.js';
import { NotCanonicalisableError } from './errors.js';
import { sha256 } from './hash.js';
import {
  emptyLeafSlots,
  firstSlotMismatch,
  type LeafSlots,
  leafSlotMatches,
  leafSlotsPrefix,
  plainProto,
  pushSlot,
  setSlot,
} from './leaf-slots.js';
import { LeanDigest } from './lean.js';
import { CanonicalWalk, type Cuts, DIGEST_INLINE_LIMIT, LONG_STRING, MAX_DEPTH, rejection } from './walk.js';

export { DIGEST_INLINE_LIMIT };

/**
 * A Merkle form of the canonical encoding, for large values that are re-keyed again and again (an agent's chat
 * request grows by a message or two per turn; everything before is the same objects).
 *
 * Definition (independent of any memo, so every process derives the same digest for the same value): the
 * canonical grammar of walk.ts, walked by the same walker, with three cuts:
 * - a string longer than LONG_STRING characters is `h` + base64url SHA-256 of its UTF-8 bytes (digest-strings.ts);
 * - a plain object or array is its *body* (its grammar with each child written as its rep), or `H` + base64url
 *   SHA-256 of the body when the body is longer than DIGEST_INLINE_LIMIT characters;
 * - any other value's encoding (a Map, a class instance, bytes...; its children written as their reps) longer
 *   than DIGEST_INLINE_LIMIT is `H` + SHA-256 of it.
 * So a value with no long string and a short encoding has `rep(v) === canonicalEncode(v)`. `h` and `H` never start
 * a canonical encoding and digests have a fixed length, so the rep of a value is a function of its canonical
 * encoding and distinct encodings get distinct reps unless SHA-256 collides. The key of a value (`canonicalDigestHex`)
 * is the SHA-256 of its top-level body: of its canonical encoding whenever nothing below the top was cut.
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
 * something asks for its digest alone (rememberElements, a prompt layout). Maps, Sets, Dates, typed arrays, class
 * instances and objects with `toJSON` are not memoized (their contents change without a visible property change):
 * they are walked again on every call.
 *
 * Arrays that grow by appending (the conversation) are extended, not re-hashed: an array memo keeps its SHA-256
 * state before the closing `]`, and a new array whose leading elements are those of a memoized array (the same
 * objects, re-checked) continues from a copy of that state. An array seen for the first time is hashed in one
 * call (most are never extended: a new request's tools, a request keyed once); its body is kept instead, and the
 * state made from it the first time the array is extended.
 */

/** Objects and arrays whose body is shorter than this are not memoized (see DigestWalk.plain)… */
const MEMO_MIN = 256;

/** How far back from the end of a new array we look for the end of an array seen before (new turns' messages). */
const EXTEND_LOOKBACK = 32;
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
  /** Levels of objects from this one down (1 for a leaf): a memo is used only where it fits MAX_DEPTH. */
  readonly height: number;
  /** Shared between objects of the same shape (see DigestMemo.sharedKeys). */
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
  readonly height: number;
  /** Shared between a memo and the memos that extend it; this memo owns the first `len` entries. */
  readonly vals: unknown[];
  /** Reps of the object elements (undefined for primitives, which are re-checked by ===). */
  readonly reps: (string | undefined)[];
  /** Element memos (see ObjectMemo.subs), shared like `vals`. */
  readonly subs: (Memo | undefined)[];
  /** Leaf element snapshots, read in order (see leaf-slots.ts), shared like `vals`. */
  readonly slots: LeafSlots;
  readonly len: number;
  readonly frozen: boolean;
  /** Every object among the first `len` elements is deep-frozen: checking them is checking their identity. */
  readonly elementsFrozen: boolean;
  /** Whether the body was hashed (longer than DIGEST_INLINE_LIMIT): then it can be extended. */
  readonly hashed: boolean;
  /** SHA-256 state after the body (`[` + reps joined by `,`, no `]`), once made (see stateOf). */
  state: Hash | undefined;
  /** The body of a hashed array whose state was not made yet. */
  body: string | undefined;
  readonly rep: string;
}

type Memo = ObjectMemo | ArrayMemo;

/** The reps and subs of a leaf object memo: never read (its values are primitives) and never written. */
const NO_REPS: (string | undefined)[] = [];
const NO_SUBS: (Memo | undefined)[] = [];

/** The memos of one process: by identity, so they never keep an object alive. */
class DigestMemo {
  readonly objects = new WeakMap<object, ObjectMemo>();
  readonly arrays = new WeakMap<readonly unknown[], ArrayMemo>();
  /** The memo of an array seen before, by its last element: how a new, longer array finds the prefix it extends. */
  readonly byLastElement = new WeakMap<object, ArrayMemo>();
  readonly strings = new StringDigests();
  /**
   * One key list per object shape (every message of a conversation has the same few keys): a re-check then reads
   * a key list that is already in the CPU cache, and the memo costs less memory. A small most-recent-first list.
   */
  readonly #keyLists: (readonly string[])[] = [];

  sharedKeys(keys: readonly string[]): readonly string[] {
    const lists = this.#keyLists;
    const n = keys.length;
    search: for (let j = 0; j < lists.length; j++) {
      const list = lists[j]!;
      if (list.length !== n) continue;
      for (let i = 0; i < n; i++) if (list[i] !== keys[i]) continue search;
      if (j > 0) {
        lists[j] = lists[0]!;
        lists[0] = list;
      }
      return list;
    }
    if (lists.length >= MAX_KEY_LISTS) lists.pop();
    lists.unshift(keys);
    return keys;
  }

  of(v: object): Memo | undefined {
    return Array.isArray(v) ? this.arrays.get(v) : this.objects.get(v);
  }
}

const MAX_KEY_LISTS = 16;

/**
 * One walk of the Merkle form: the canonical walker with this object's cuts, and the state of the walk in
 * progress (reset at every entry, so a walk that threw half-way leaves nothing behind). Reused from call to call;
 * a walk started while another is running (a `toJSON` or getter that keys something) gets its own.
 */
class DigestWalk implements Cuts {
  readonly #memo: DigestMemo;
  readonly #walk: CanonicalWalk;
  busy = false;
  /** The memo behind the rep that plain() or array() just returned, and the object it is the memo of. */
  #made: Memo | undefined;
  #madeFor: object | undefined;
  /** The root's memo after rep() (see lastDigestHandle). */
  rootHandle: Memo | undefined;
  /** The handle lastDigestHandle() gives: of the last canonicalDigest call, whichever walk served it. */
  lastHandle: Memo | undefined;
  /**
   * The array element being walked: a mutable leaf element met for the first time is not memoized on its own
   * (no memo object, no WeakMap entry: first-seen requests are keyed faster and leave less for the garbage
   * collector); its snapshot goes into the array's slots instead, through `#slotKeys` / `#slotVals`.
   */
  #element: object | undefined;
  #slotFor: object | undefined;
  #slotKeys: readonly string[] | undefined;
  #slotVals: readonly unknown[] | undefined;
  /** Walking below a memoized parent (re-checking it): small objects are remembered too, being long-lived. */
  #again = false;
  /** Whether the walked value itself is memoized (canonicalDigest), or only what is below it (a request). */
  #memoRoot = false;
  /** Budget of #small(). */
  #nodes = 0;
  #chars = 0;
  /** Memos found still valid and memos made by the walk in progress (see Usefulness). */
  hits = 0;
  made = 0;

  /** The same Merkle form without memos (see Usefulness), which still uses the memos of arrays near the root. */
  readonly lean: LeanDigest;

  constructor(memo: DigestMemo) {
    this.#memo = memo;
    this.#walk = new CanonicalWalk(this);
    this.lean = new LeanDigest(memo.strings, (a, depth) => this.#knownArray(a, depth));
  }

  /** The rep of array `a` at `depth` from its memo, if it has one that still holds (nothing is made). */
  #knownArray(a: readonly unknown[], depth: number): string | undefined {
    this.#made = undefined;
    this.#madeFor = undefined;
    this.#element = undefined;
    this.#slotFor = undefined;
    this.#memoRoot = false;
    this.#again = false;
    this.#walk.deepest = depth;
    try {
      const own = this.#memo.arrays.get(a);
      if (this.#ownStillMatches(a, own, depth)) return own.rep;
      // An array that extends one remembered before (the messages of a conversation's previous turn, which reached
      // the memo through a probe or an earlier extension) is extended and remembered as the memo would: a
      // conversation stays remembered while the requests around it are keyed lean.
      const base = this.#baseOf(a, own, depth);
      return base === undefined ? undefined : this.#remembered(a, depth, base);
    } finally {
      this.#madeFor = undefined;
      this.#slotFor = undefined;
      this.#slotVals = undefined;
    }
  }

  /** `rep(value)`; throws the NotCanonicalisableError canonicalEncode throws for it. */
  rep(value: unknown, memoRoot: boolean, again: boolean): string {
    this.#made = undefined;
    this.#madeFor = undefined;
    this.#element = undefined;
    this.#slotFor = undefined;
    this.#slotKeys = undefined;
    this.#slotVals = undefined;
    this.#memoRoot = memoRoot;
    this.#again = again;
    this.#walk.deepest = 0;
    this.hits = 0;
    this.made = 0;
    try {
      const rep = this.#walk.value(value, 0);
      this.rootHandle = this.#take(value);
      return rep;
    } catch (error) {
      this.rootHandle = undefined;
      throw flatRejection(value, error);
    } finally {
      this.#madeFor = undefined;
      this.#slotFor = undefined;
      this.#slotVals = undefined;
    }
  }

  /** The memo made or used for `v` by the rep just worked out, if `v` has one. */
  #take(v: unknown): Memo | undefined {
    return this.#madeFor === v ? this.#made : undefined;
  }

  #gave(v: object, memo: Memo | undefined): void {
    this.#made = memo;
    this.#madeFor = v;
  }

  /** A memo met at `depth` is used only if its subtree still fits MAX_DEPTH there (as a walk would find). */
  #fits(memo: Memo, depth: number): boolean {
    return depth + memo.height - 1 <= MAX_DEPTH;
  }

  /** Records that the walk reached level `level` (the walker's own count skips what a memo stood for). */
  #reach(level: number): void {
    if (level > this.#walk.deepest) this.#walk.deepest = level;
  }

  longString(s: string, depth: number): string {
    // Direct fields of the request (a system prompt) sit in a new object every turn, and a string given to
    // canonicalDigest on its own (a segment's content) has no object to remember it by: cache their digests.
    return depth <= (this.#memoRoot ? 0 : 1) ? this.#memo.strings.rep(s) : stringRep(s);
  }

  plain(o: Record<string, unknown>, depth: number): string {
    const asSlot = this.#element === o;
    this.#element = undefined;
    const again = this.#again;
    const memo = this.#memo.objects.get(o);
    if (
      memo !== undefined &&
      this.#fits(memo, depth) &&
      (memo.frozen || this.#objectStillMatches(o, memo, depth))
    ) {
      this.#reach(depth + memo.height - 1);
      this.#gave(o, memo);
      this.hits++;
      return memo.rep;
    }
    if (memo === undefined && !again && !(this.#memoRoot && depth === 1)) {
      // An object met for the first time whose encoding is short and cuts nothing (a tool definition, its schema)
      // is not memoized anyway (see below): the flat encoder's tight loop gives its rep (the canonical encoding)
      // faster. Not for an array's leaf element of some size, which the array keeps a snapshot of (see #element).
      const height = this.#smallHeight(o, DIGEST_INLINE_LIMIT);
      if (
        height > 0 &&
        depth + height - 1 <= MAX_DEPTH &&
        !(asSlot && height === 1 && this.#chars < DIGEST_INLINE_LIMIT - MEMO_MIN)
      ) {
        const encoded = canonicalEncode(o);
        if (encoded.length <= DIGEST_INLINE_LIMIT) {
          this.#reach(depth + height - 1);
          this.#gave(o, undefined);
          return encoded;
        }
      }
    }
    const walk = this.#walk;
    const outer = walk.deepest;
    walk.deepest = depth;
    const keys = Object.keys(o);
    const n = keys.length;
    // The children are walked in sorted key order, building the body as they go; the snapshot keeps them in
    // enumeration order (what a re-check's for…in meets).
    const order = inOrder(keys) ? undefined : sortedOrder(keys);
    const vals: unknown[] = new Array(n);
    // Made on the first object child: a leaf (a chat message with text content) shares the empty lists.
    let reps = NO_REPS;
    let subs = NO_SUBS;
    // Whether re-encoding would hash a long string again: then the object is worth remembering, however small.
    let heavy = false;
    let body = '{';
    for (let x = 0; x < n; x++) {
      const i = order === undefined ? x : order[x]!;
      const k = keys[i]!;
      const v = o[k];
      vals[i] = v;
      if (v === undefined) continue;
      if (typeof v === 'string' && v.length > LONG_STRING) heavy = true;
      const r = walk.value(v, depth);
      // Primitives are re-checked by ===; only object children need their rep kept (no copy of long strings).
      if (typeof v === 'object' && v !== null) {
        if (reps === NO_REPS) {
          reps = new Array<string | undefined>(n).fill(undefined);
          subs = new Array<Memo | undefined>(n).fill(undefined);
        }
        reps[i] = r;
        subs[i] = this.#take(v);
      }
      body += body.length === 1 ? `${walk.member(k)}${r}` : `,${walk.member(k)}${r}`;
    }
    body += '}';
    const height = walk.deepest - depth + 1;
    if (outer > walk.deepest) walk.deepest = outer;
    const leaf = reps === NO_REPS;
    const result = body.length > DIGEST_INLINE_LIMIT ? `H${sha256(body, 'base64url')}` : body;
    // Not memoized: the root of a request (nearly always a new object), and small objects met for the first time
    // (every WeakMap entry is work for the garbage collector). A small object met `again` — while re-checking a
    // memoized parent, so it belongs to something long-lived (a tool's schema) — is remembered.
    if ((depth > 1 || this.#memoRoot) && (heavy || again || body.length >= MEMO_MIN)) {
      const frozen = this.#deepFrozen(o, keys, vals);
      if (asSlot && !again && !frozen && leaf && n <= 4) {
        this.#gave(o, undefined);
        this.#slotFor = o;
        this.#slotKeys = this.#memo.sharedKeys(keys);
        this.#slotVals = vals;
        return result;
      }
      if (!again && !heavy && result === body && !(depth === 1 && this.#memoRoot)) {
        // Met for the first time and cheap to encode again (nothing hashed): remembered only if it comes back
        // (then it is met `again`, under its memoized parent). A new request's tools cost no WeakMap entry.
        this.#gave(o, undefined);
        return result;
      }
      const m: ObjectMemo = {
        array: false,
        frozen,
        leaf,
        height,
        keys: this.#memo.sharedKeys(keys),
        v0: vals[0],
        v1: vals[1],
        v2: vals[2],
        v3: vals[3],
        vals,
        reps,
        subs,
        rep: result,
      };
      this.#memo.objects.set(o, m);
      this.made++;
      this.#gave(o, m);
    } else {
      this.#gave(o, undefined);
    }
    return result;
  }

  /** Whether `value` is small enough to be encoded flat (see #smallHeight). */
  isSmall(value: unknown): boolean {
    try {
      return this.#smallHeight(value, DIGEST_INLINE_LIMIT) >= 0;
    } catch {
      return false; // a getter that throws: the walk says so, with the path
    }
  }

  /**
   * The height of `root` when it is small enough to be encoded flat, else -1: only plain objects (no `toJSON`),
   * arrays and primitives, no string over LONG_STRING (nothing cut), at most 64 nodes and `maxChars` characters
   * of strings. Gives up at the first sign of a large value, so a large request pays almost nothing for asking.
   */
  #smallHeight(root: unknown, maxChars: number): number {
    this.#nodes = 64;
    this.#chars = maxChars;
    return this.#small(root);
  }

  #small(v: unknown): number {
    if (--this.#nodes < 0) return -1;
    if (typeof v === 'string') {
      this.#chars -= v.length;
      return v.length > LONG_STRING || this.#chars < 0 ? -1 : 0;
    }
    if (typeof v !== 'object' || v === null) return 0;
    let height = 0;
    if (Array.isArray(v)) {
      if (v.length > 64) return -1;
      for (let i = 0; i < v.length; i++) {
        const h = this.#small(v[i]);
        if (h < 0) return -1;
        if (h > height) height = h;
      }
      return height + 1;
    }
    const proto = Object.getPrototypeOf(v);
    if ((proto !== objectProto && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function')
      return -1;
    for (const k in v) {
      const h = this.#small((v as Record<string, unknown>)[k]);
      if (h < 0) return -1;
      if (h > height) height = h;
    }
    return height + 1;
  }

  /**
   * Same own enumerable keys in the same order, same values; object values re-checked through their own memo.
   * `for…in` is the cheapest way to see every key (it also lists inherited enumerable keys, which exist only on a
   * polluted Object.prototype: they make the check fail, so the object is re-encoded — slower, never wrong).
   */
  #objectStillMatches(o: Record<string, unknown>, memo: ObjectMemo, depth: number): boolean {
    if (memo.leaf) return leafStillMatches(o, memo);
    const { keys, vals, reps, subs } = memo;
    const count = keys.length;
    let n = 0;
    for (const k in o) {
      if (n >= count || k !== keys[n]) return false;
      const v = o[k];
      if (v !== vals[n]) return false;
      if (typeof v === 'object' && v !== null && !this.#childStillMatches(v, subs, reps, n, depth))
        return false;
      n++;
    }
    return n === count;
  }

  /**
   * Whether object child `v` (slot `i` of a memo's snapshot, with `v === vals[i]` already checked) of a node at
   * `depth` still has the rep `reps[i]`: against the child memo kept in `subs[i]` when there is one, else (or
   * when it no longer matches) by working out its rep again, which finds or makes its current memo; that memo is
   * then kept in `subs[i]` (valid for every memo sharing the slot: they all hold the same object with the same
   * rep there).
   */
  #childStillMatches(
    v: object,
    subs: (Memo | undefined)[],
    reps: readonly (string | undefined)[],
    i: number,
    depth: number,
  ): boolean {
    const sub = subs[i];
    if (sub !== undefined && (sub.frozen || this.#memoStillMatches(v, sub, depth + 1))) return true;
    const again = this.#again;
    this.#again = true;
    const rep = this.#walk.value(v, depth);
    this.#again = again;
    if (rep !== reps[i]) return false;
    subs[i] = this.#take(v);
    return true;
  }

  /** `v` (the object a memo was made for, at `depth`) still has the memo's rep. */
  #memoStillMatches(v: object, memo: Memo, depth: number): boolean {
    if (depth > MAX_DEPTH) return false; // then walked, which tells why
    if (memo.array) {
      return (v as unknown[]).length === memo.len && this.#prefixMatches(v as unknown[], memo, depth);
    }
    if (memo.leaf) return leafStillMatches(v as Record<string, unknown>, memo);
    return plainProto(v) && this.#objectStillMatches(v as Record<string, unknown>, memo, depth);
  }

  stillValid(value: unknown, memo: Memo): boolean {
    if (memo.frozen) return true;
    if (typeof value !== 'object' || value === null) return false;
    if (!memo.array && memo.leaf) return leafStillMatches(value as Record<string, unknown>, memo);
    this.#memoRoot = true;
    this.#again = false;
    this.#element = undefined;
    try {
      return this.#memoStillMatches(value, memo, 1);
    } catch {
      return false; // a cycle made since, say: the caller digests it again, which names it
    } finally {
      this.#madeFor = undefined;
    }
  }

  array(a: readonly unknown[], depth: number): string {
    this.#element = undefined;
    const own = this.#memo.arrays.get(a);
    if (this.#ownStillMatches(a, own, depth)) {
      this.#reach(depth + own.height - 1);
      this.#gave(a, own);
      this.hits++;
      return own.rep;
    }
    const base = this.#baseOf(a, own, depth);
    if (base !== undefined) this.hits++;
    return this.#remembered(a, depth, base);
  }

  /** `own`, the memo of array `a` at `depth`, still gives its rep. */
  #ownStillMatches(a: readonly unknown[], own: ArrayMemo | undefined, depth: number): own is ArrayMemo {
    return (
      own !== undefined &&
      this.#fits(own, depth) &&
      (own.frozen || (own.len === a.length && this.#prefixMatches(a, own, depth)))
    );
  }

  /** A memo of the first elements of `a` (its own, before it grew in place, or an earlier array's), re-checked. */
  #baseOf(a: readonly unknown[], own: ArrayMemo | undefined, depth: number): ArrayMemo | undefined {
    return own !== undefined &&
      own.len < a.length &&
      this.#fits(own, depth) &&
      this.#prefixMatches(a, own, depth)
      ? own
      : this.#findPrefix(a, depth);
  }

  /** The rep of array `a` at `depth`, walked (from `base` on, when it can be extended) and remembered. */
  #remembered(a: readonly unknown[], depth: number, base: ArrayMemo | undefined): string {
    const memos = this.#memo;
    const memo = this.#walkArray(a, depth, base?.hashed === true ? base : undefined);
    if (!this.#again && !memo.hashed && memo.rep.length < MEMO_MIN && !hasLongString(a)) {
      this.#gave(a, undefined);
      return memo.rep;
    }
    this.#gave(a, memo);
    memos.arrays.set(a, memo);
    this.made++;
    const last = a[a.length - 1];
    if (typeof last === 'object' && last !== null && memo.hashed) memos.byLastElement.set(last, memo);
    return memo.rep;
  }

  /** The elements `memo` covers are still there, the same values, and object elements unchanged inside. */
  #prefixMatches(a: readonly unknown[], memo: ArrayMemo, depth: number): boolean {
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
        if (!this.#childStillMatches(v, subs, reps, i, depth)) return false;
        setLeafSlot(slots, i, subs[i]);
      }
      i++;
    }
    return true;
  }

  /** A hashed array seen before whose elements begin this one (the previous turn's messages). */
  #findPrefix(a: readonly unknown[], depth: number): ArrayMemo | undefined {
    const stop = Math.max(0, a.length - 1 - EXTEND_LOOKBACK);
    // From the last element: a framework that copies the messages array on every call gives the same elements.
    for (let j = a.length - 1; j >= stop; j--) {
      const v = a[j];
      if (typeof v !== 'object' || v === null) continue;
      const memo = this.#memo.byLastElement.get(v);
      if (
        memo !== undefined &&
        memo.len === j + 1 &&
        this.#fits(memo, depth) &&
        this.#prefixMatches(a, memo, depth)
      )
        return memo;
    }
    return undefined;
  }

  /** The rep of element `v` of an array at `depth`, and its memo or slot appended to the snapshot lists. */
  #pushElement(
    v: unknown,
    depth: number,
    vals: unknown[],
    reps: (string | undefined)[],
    subs: (Memo | undefined)[],
    slots: LeafSlots,
  ): string {
    const isObject = typeof v === 'object' && v !== null;
    this.#element = isObject ? v : undefined;
    const r = this.#walk.value(v, depth);
    vals.push(v);
    if (!isObject) {
      reps.push(undefined);
      subs.push(undefined);
      pushSlot(slots, undefined, undefined, undefined, undefined, undefined);
      return r;
    }
    const memo = this.#take(v);
    reps.push(r);
    subs.push(memo);
    const keys = this.#slotKeys;
    const snapshot = this.#slotVals;
    if (keys !== undefined && snapshot !== undefined && this.#slotFor === v) {
      pushSlot(slots, keys, snapshot[0], snapshot[1], snapshot[2], snapshot[3]);
    } else {
      pushLeafSlot(slots, memo);
    }
    this.#slotFor = undefined;
    this.#slotKeys = undefined;
    this.#slotVals = undefined;
    return r;
  }

  /**
   * The memo of array `a` at `depth`: its elements walked from the start, or, when `base` is a hashed memo of its
   * first elements, only the remaining ones, continuing from a copy of base's hash state.
   */
  #walkArray(a: readonly unknown[], depth: number, base: ArrayMemo | undefined): ArrayMemo {
    const walk = this.#walk;
    const outer = walk.deepest;
    walk.deepest = base === undefined ? depth : depth + base.height - 1;
    const from = base === undefined ? 0 : base.len;
    // Share base's snapshot arrays when nobody extended it yet; copy the owned part when the history branched.
    const shared = base !== undefined && base.vals.length === base.len;
    const vals: unknown[] = base === undefined ? [] : shared ? base.vals : base.vals.slice(0, from);
    const reps: (string | undefined)[] =
      base === undefined ? [] : shared ? base.reps : base.reps.slice(0, from);
    const subs: (Memo | undefined)[] =
      base === undefined ? [] : shared ? base.subs : base.subs.slice(0, from);
    const slots =
      base === undefined ? emptyLeafSlots() : shared ? base.slots : leafSlotsPrefix(base.slots, from);
    const state = base === undefined ? undefined : stateOf(base).copy();
    const encoded: string[] = [];
    let length = 2;
    for (let i = from; i < a.length; i++) {
      const r = this.#pushElement(a[i], depth, vals, reps, subs, slots);
      if (state !== undefined) state.update(i === 0 ? r : `,${r}`);
      else encoded.push(r);
      length += r.length + 1;
    }
    const height = walk.deepest - depth + 1;
    if (outer > walk.deepest) walk.deepest = outer;
    const body = state === undefined ? `[${encoded.join(',')}` : undefined;
    const hashed = state !== undefined || length - (a.length > 0 ? 1 : 0) > DIGEST_INLINE_LIMIT;
    const elementsFrozen =
      base === undefined
        ? this.#objectsDeepFrozen(vals, 0)
        : base.elementsFrozen && this.#objectsDeepFrozen(vals, from);
    // An extended array is conservatively never frozen: a frozen array built from a memoized one is re-checked.
    const frozen =
      base === undefined && elementsFrozen && Object.isFrozen(a) && this.#deepFrozen(a, undefined, vals);
    const rep =
      state !== undefined
        ? hashedArrayRep(state)
        : hashed
          ? `H${sha256(`${body}]`, 'base64url')}`
          : `${body}]`;
    return {
      array: true,
      height,
      vals,
      reps,
      subs,
      slots,
      len: a.length,
      frozen,
      elementsFrozen,
      hashed,
      state,
      body: hashed && state === undefined ? body : undefined,
      rep,
    };
  }

  /**
   * Frozen with data properties only (a getter could answer differently each time), and every object value deep-
   * frozen too. Checked once, when the memo is made; only frozen objects pay for the descriptor walk.
   */
  #deepFrozen(o: object, keys: readonly string[] | undefined, vals: readonly unknown[]): boolean {
    if (!Object.isFrozen(o)) return false;
    const names = keys ?? Object.keys(o);
    for (let i = 0; i < names.length; i++) {
      if (Object.getOwnPropertyDescriptor(o, names[i]!)?.get !== undefined) return false;
    }
    return this.#objectsDeepFrozen(vals, 0);
  }

  /** Every object in `vals` from `from` on is deep-frozen (primitives never change). */
  #objectsDeepFrozen(vals: readonly unknown[], from: number): boolean {
    for (let i = from; i < vals.length; i++) {
      const v = vals[i];
      if (typeof v !== 'object' || v === null) continue;
      const memo = this.#memo.of(v);
      if (memo !== undefined ? !memo.frozen : !this.#smallDeepFrozen(v)) return false;
    }
    return true;
  }

  /** A child too small to be memoized (see MEMO_MIN): checked directly, once, when its parent is memoized. */
  #smallDeepFrozen(v: object): boolean {
    if (!Object.isFrozen(v)) return false;
    if (!Array.isArray(v)) {
      const proto = Object.getPrototypeOf(v);
      if (proto !== objectProto && proto !== null) return false;
    }
    const keys = Object.keys(v);
    return this.#deepFrozen(
      v,
      keys,
      keys.map((k) => (v as Record<string, unknown>)[k]),
    );
  }

  /** See rememberElements. */
  rememberElements(a: readonly unknown[], from: number): void {
    const memo = this.#memo.arrays.get(a);
    if (memo === undefined) return;
    const { vals, reps, subs, slots } = memo;
    const end = Math.min(memo.len, a.length);
    for (let i = from; i < end; i++) {
      const v = a[i];
      const keys = slots.keys[i];
      if (keys === undefined || v !== vals[i] || typeof v !== 'object' || v === null) continue;
      if (subs[i] !== undefined || this.#memo.objects.has(v) || !leafSlotMatches(v, keys, slots.vals, i))
        continue;
      const at = i << 2;
      const snapshot: unknown[] = new Array(keys.length);
      for (let n = 0; n < keys.length; n++) snapshot[n] = slots.vals[at + n];
      const m: ObjectMemo = {
        array: false,
        frozen: false,
        leaf: true,
        height: 1,
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
      this.#memo.objects.set(v, m);
      subs[i] = m;
    }
  }

  isImmutable(value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return true;
    return this.#memo.of(value)?.frozen === true;
  }

  /** The memo of a deep-frozen object seen before, if any (layouts ask for every message's digest every turn). */
  frozenMemo(value: object): ObjectMemo | undefined {
    const memo = this.#memo.objects.get(value);
    return memo?.frozen ? memo : undefined;
  }
}

/**
 * objectStillMatches for a memo with primitive values only: one loop, no allocation. `for…in` is served from
 * V8's enum cache (the object's hidden class), keys are internalized strings compared by pointer.
 */
function leafStillMatches(o: Record<string, unknown>, memo: ObjectMemo): boolean {
  if (!plainProto(o)) return false;
  const keys = memo.keys;
  const count = keys.length;
  let n = 0;
  if (count > 4) {
    const vals = memo.vals;
    for (const k in o) {
      if (n >= count || k !== keys[n] || o[k] !== vals[n]) return false;
      n++;
    }
    return n === count;
  }
  for (const k in o) {
    if (n >= count || k !== keys[n]) return false;
    const v = o[k];
    if (v !== (n === 0 ? memo.v0 : n === 1 ? memo.v1 : n === 2 ? memo.v2 : memo.v3)) return false;
    n++;
  }
  return n === count;
}

function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** The positions of two keys out of order (the common case of a chat message: `role`, `content`). */
const SWAPPED: readonly number[] = [1, 0];

/** Positions of `keys` in sorted order: an insertion sort (objects have few keys; no comparator closure). */
function sortedOrder(keys: readonly string[]): readonly number[] {
  const n = keys.length;
  if (n === 2) return SWAPPED;
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

/** …unless they hold a long string, which re-encoding would hash again. */
function hasLongString(a: readonly unknown[]): boolean {
  for (const v of a) if (typeof v === 'string' && v.length > LONG_STRING) return true;
  return false;
}

/** The running hash state of a hashed array's body, made from the body the first time it is asked for. */
function stateOf(memo: ArrayMemo): Hash {
  if (memo.state === undefined) {
    memo.state = createHash('sha256').update(memo.body!);
    memo.body = undefined;
  }
  return memo.state;
}

/** The rep of a hashed array: its running hash state closed with `]`. */
function hashedArrayRep(state: Hash): string {
  return `H${state.copy().update(']').digest('base64url')}`;
}

/**
 * The Merkle walk keeps no path: the flat walk of the same value names it (both walk one grammar, so the flat
 * walk rejects what the Merkle walk rejected, with the same path). If it does not (a getter that answered
 * differently the second time, or a stack that ran out in the deeper Merkle recursion only), the reason stands
 * alone.
 */
function flatRejection(value: unknown, error: unknown): NotCanonicalisableError {
  try {
    canonicalEncode(value);
  } catch (flatError) {
    return flatError as NotCanonicalisableError;
  }
  const own = rejection(error);
  return new NotCanonicalisableError('$', own.reason, { cause: error });
}

const memo = new DigestMemo();
const shared = new DigestWalk(memo);

/** Credit of the memo when the process starts, and its bounds (see Usefulness). */
const CREDIT_START = 256;
const CREDIT_MAX = 1024;
/** What a memo found again is worth, in memos made (it saved a walk of its whole subtree). */
const HIT_CREDIT = 8;
/** While memos go unused, one request in this many is still keyed through the memo, to notice reuse starting. */
const PROBE_EVERY = 16;

/**
 * Whether the requests keyed lately came back with objects seen before. Memos are made for what a request holds
 * so that the next turn, re-sending the same objects, re-checks them instead of re-encoding; but a caller that
 * builds every request from new objects (the AI SDK converts the prompt and the tools afresh for every step) never
 * finds one again, and pays for each: a snapshot, and a WeakMap entry, which costs the garbage collector more than
 * the walk itself. Each memo made costs a credit and each one found still valid earns HIT_CREDIT; with no credit
 * left, requests are keyed by the lean walk (lean.ts: same key, nothing remembered), all but one in PROBE_EVERY,
 * which goes through the memo and restores the credit when what it found of an earlier probe's memos outweighs
 * what it made.
 * Only speed depends on this: every path gives the same key.
 */
class Usefulness {
  #credit = CREDIT_START;
  #skipped = 0;

  memoize(): boolean {
    if (this.#credit > 0) return true;
    if (++this.#skipped < PROBE_EVERY) return false;
    this.#skipped = 0;
    return true;
  }

  /** After a request keyed through the memo: `hits` memos found still valid, `made` memos made. */
  record(hits: number, made: number): void {
    const gain = HIT_CREDIT * hits - made;
    if (this.#credit <= 0) {
      // A probe: it pays for itself, so the requests are coming back again.
      if (gain > 0) this.#credit = CREDIT_START;
      return;
    }
    this.#credit = Math.min(CREDIT_MAX, this.#credit + gain);
  }
}

const usefulness = new Usefulness();

/** Runs `f` on the shared walk, or on a walk of its own when the shared one is busy (a nested call). */
function withWalk<T>(f: (walk: DigestWalk) => T): T {
  const walk = shared.busy ? new DigestWalk(memo) : shared;
  walk.busy = true;
  try {
    return f(walk);
  } finally {
    walk.busy = false;
  }
}

/**
 * `rep(value)` as defined above, remembering `value` itself too (a message given as a prompt segment's content).
 * Throws NotCanonicalisableError (with the offending path) like canonicalEncode. `remember`: memoize `value` even
 * when it is small (it is seen for the second time, so it is long-lived).
 */
export function canonicalDigest(value: unknown, remember = false): string {
  if (typeof value === 'object' && value !== null) {
    // A deep-frozen object seen before: one WeakMap lookup (layouts ask for every message's digest every turn).
    const frozen = shared.frozenMemo(value);
    if (frozen !== undefined) {
      shared.lastHandle = frozen;
      return frozen.rep;
    }
  }
  shared.lastHandle = undefined;
  return withWalk((walk) => {
    const rep = walk.rep(value, true, remember);
    shared.lastHandle = walk.rootHandle;
    return rep;
  });
}

/**
 * A handle on the snapshot behind the digest `canonicalDigest` just returned (undefined when there is none: a
 * primitive, a small object seen once, a Map…). `digestStillValid(value, handle)` then re-checks `value` against
 * it without a lookup, allocation or hashing: true means `canonicalDigest(value)` would return the same digest.
 */
export type DigestHandle = object;

export function lastDigestHandle(): DigestHandle | undefined {
  return shared.lastHandle;
}

export function digestStillValid(value: unknown, handle: DigestHandle): boolean {
  return withWalk((walk) => walk.stillValid(value, handle as Memo));
}

/** SHA-256 (64 lowercase hex) that identifies `value`: of its canonical encoding when small, else of its body. */
export function canonicalDigestHex(value: unknown): string {
  return withWalk((walk) => {
    let r: string;
    if (usefulness.memoize()) {
      // Small values (one short message, tool arguments): the flat encoder's tight loop, same result by
      // definition (the lean walk below is that loop too, wherever nothing is cut).
      if (walk.isSmall(value)) {
        const encoded = canonicalEncode(value);
        if (encoded.length <= DIGEST_INLINE_LIMIT) return sha256(encoded, 'hex');
      }
      r = walk.rep(value, false, false);
      usefulness.record(walk.hits, walk.made);
    } else {
      r = leanRep(walk, value);
    }
    return r.charCodeAt(0) === 72 /* H */
      ? Buffer.from(r.slice(1), 'base64url').toString('hex')
      : sha256(r, 'hex');
  });
}

function leanRep(walk: DigestWalk, value: unknown): string {
  try {
    return walk.lean.rep(value);
  } catch (error) {
    throw flatRejection(value, error);
  }
}

/** The rep that the lean walk gives `value` (as canonicalDigest's, but nothing new is remembered); for tests. */
export function leanDigest(value: unknown): string {
  return withWalk((walk) => leanRep(walk, value));
}

/**
 * Memoizes, from their parent's slots, the leaf elements `a[from…]` that keying `a` kept only as slots: their rep
 * is already known, so a later `canonicalDigest` of one of them (a prompt layout asking for each new message's
 * digest) finds it instead of encoding and hashing the message again. Each element is re-checked against its slot
 * first. Does nothing for an array that was not keyed.
 */
export function rememberElements(a: readonly unknown[], from: number): void {
  shared.rememberElements(a, from);
}

/** Whether `value` never changes: a primitive, or an object known (memoized) to be deep-frozen. */
export function isImmutable(value: unknown): boolean {
  return shared.isImmutable(value);
}

/** Appends the slot of an object whose memo is `handle` (see lastDigestHandle); an empty slot when not a leaf. */
export function pushLeafSlot(slots: LeafSlots, handle: DigestHandle | null | undefined): void {
  const memo = handle as Memo | null | undefined;
  if (memo != null && !memo.array && memo.leaf && !memo.frozen && memo.keys.length <= 4) {
    pushSlot(slots, memo.keys, memo.v0, memo.v1, memo.v2, memo.v3);
  } else {
    pushSlot(slots, undefined, undefined, undefined, undefined, undefined);
  }
}

/** Sets slot `i` (below the shared length) to an equivalent, newer snapshot of the same object. */
export function setLeafSlot(slots: LeafSlots, i: number, handle: DigestHandle | null | undefined): void {
  const memo = handle as Memo | null | undefined;
  if (memo != null && !memo.array && memo.leaf && !memo.frozen && memo.keys.length <= 4) {
    setSlot(slots, i, memo.keys, memo.v0, memo.v1, memo.v2, memo.v3);
  }
}

export {
  emptyLeafSlots,
  firstSlotMismatch,
  type LeafSlots,
  leafSlotMatches,
  leafSlotsPrefix,
  truncateLeafSlots,
} from './leaf-slots.js';
