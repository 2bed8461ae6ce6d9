import { NotCanonicalisableError } from './errors.js';
import { sha256 } from './hash.js';

/**
 * The one walker of the canonical grammar. Every key agent-cache makes goes through it: the flat encoding
 * (`canonicalEncode`, tool arguments and resource tags) and the Merkle form of large LLM requests (`digest.ts`),
 * which is the same walk with three of its node kinds written differently (long strings, plain objects, arrays).
 *
 * The grammar is small and self-delimiting, so the mapping is injective over the supported values:
 *   null `N`, undefined `U`, true `T`, false `F`, number `n<String(n)>` (NaN and ±Infinity included, -0 is 0),
 *   bigint `b<digits>`, string: its JSON form, array `[a,b]`, plain object `{"k":v,...}` with keys sorted and
 *   `undefined` properties dropped, Date `D<time>`, Map `M{k:v,...}` and Set `S[...]` sorted by encoded member,
 *   typed arrays and Buffers `X"<type>""<base64>"`, ArrayBuffer `A"<base64>"`, RegExp `R"<source>""<flags>"`,
 *   URL `L"<href>"`, objects with `toJSON()` and boxed primitives as the value they stand for, other class
 *   instances `C"<name>"{...}` (their own enumerable properties).
 *
 * Refused (NotCanonicalisableError naming the path): functions, symbols, promises, weak collections, instances of
 * built-in classes whose state is not in their properties (Error, Blob, URLSearchParams...) and class instances
 * with no own enumerable property at all (their state is private: two different ones would get one key), cycles,
 * structures nested deeper than MAX_DEPTH objects, and values whose getters or `toJSON` throw.
 *
 * The walk keeps no path: a failure is thrown where it happens and each container it passes on the way out adds
 * its step (`.messages`, `[3]`), so the error names the path without a second pass. Cycles are not looked for
 * either: a cycle is a structure deeper than MAX_DEPTH, and the chain of objects the failure collected on its way
 * out tells a cycle (an object met again) from a merely deep structure.
 */
export const MAX_DEPTH = 1000;

/**
 * The Merkle form (digest.ts) hashes every string longer than this on its own: `h` + SHA-256 of its UTF-8 bytes.
 */
export const LONG_STRING = 512;

/**
 * The Merkle form replaces the encoding of every object, array or special value longer than this by `H` + SHA-256
 * of it.
 */
export const DIGEST_INLINE_LIMIT = 1024;

/** How the Merkle form writes the node kinds it cuts into separately hashed pieces (implemented by digest.ts). */
export interface Cuts {
  /** A plain object without `toJSON`, entered at `depth`. */
  plain(o: Record<string, unknown>, depth: number): string;
  array(a: readonly unknown[], depth: number): string;
  /** A string longer than LONG_STRING, found as a child of a node at `depth` (0: the value itself). */
  longString(s: string, depth: number): string;
}

const objectProto = Object.prototype;
const functionToString = Function.prototype.toString;

const MAX_MEMBERS = 1024;

export class CanonicalWalk {
  readonly #cuts: Cuts | undefined;
  /** Infinity for the flat form: nothing is cut. */
  readonly #longString: number;
  readonly #inlineLimit: number;
  /**
   * The deepest object level reached since last reset: the Merkle form reads it to know the height of what it
   * memoizes (a memoized subtree must still fit MAX_DEPTH where it is met next, or the two forms would disagree).
   */
  deepest = 0;
  readonly #members = new Map<string, string>();
  /** Per prototype of class instances: how they are encoded (see #classOf). */
  readonly #classes = new WeakMap<object, ClassVerdict>();

  constructor(cuts?: Cuts) {
    this.#cuts = cuts;
    this.#longString = cuts === undefined ? Number.POSITIVE_INFINITY : LONG_STRING;
    this.#inlineLimit = cuts === undefined ? Number.POSITIVE_INFINITY : DIGEST_INLINE_LIMIT;
  }

  /** The encoding of `value` (flat, or its Merkle rep); throws NotCanonicalisableError naming the path. */
  encode(value: unknown): string {
    try {
      return this.value(value, 0);
    } catch (error) {
      throw rejection(error);
    }
  }

  /**
   * The encoding of `value`, a child of a node at `depth` (0 for the value walked). The table of node kinds:
   * every form goes through here for every value, so they cannot disagree on what a value is.
   */
  value(v: unknown, depth: number): string {
    switch (typeof v) {
      case 'string':
        return v.length > this.#longString ? this.#cuts!.longString(v, depth) : quote(v);
      case 'number':
        return `n${v}`;
      case 'boolean':
        return v ? 'T' : 'F';
      case 'undefined':
        return 'U';
      case 'bigint':
        return `b${v}`;
      case 'object':
        return v === null ? 'N' : this.#object(v, depth + 1);
      default:
        // function, symbol
        throw new Failure(`a ${typeof v}`, v);
    }
  }

  #object(v: object, depth: number): string {
    if (depth > MAX_DEPTH) throw new Failure(TOO_DEEP, v);
    if (depth > this.deepest) this.deepest = depth;
    if (Array.isArray(v)) return this.#cuts === undefined ? this.array(v, depth) : this.#cuts.array(v, depth);
    const proto = Object.getPrototypeOf(v);
    if (proto === objectProto || proto === null) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return this.#toJSON(v, toJSON, depth);
      return this.#cuts === undefined
        ? this.plain(v as Record<string, unknown>, depth)
        : this.#cuts.plain(v as Record<string, unknown>, depth);
    }
    return this.#special(v, proto as object, depth);
  }

  /** `[a,b]`: the flat form of an array, entered at `depth`. */
  array(a: readonly unknown[], depth: number): string {
    const n = a.length;
    if (n === 0) return '[]';
    let i = 0;
    try {
      let out = `[${this.value(a[0], depth)}`;
      for (i = 1; i < n; i++) out += `,${this.value(a[i], depth)}`;
      return `${out}]`;
    } catch (error) {
      throw along(error, `[${i}]`, a);
    }
  }

  /** `{"k":v,...}`: keys sorted, undefined properties dropped. The flat form of a plain object. */
  plain(o: Record<string, unknown>, depth: number): string {
    const keys = Object.keys(o);
    const n = keys.length;
    if (n > 1) sortKeys(keys);
    let out = '{';
    let i = 0;
    try {
      for (; i < n; i++) {
        const k = keys[i]!;
        const v = o[k];
        if (v === undefined) continue;
        const rep = this.value(v, depth);
        out += out.length === 1 ? `${this.member(k)}${rep}` : `,${this.member(k)}${rep}`;
      }
    } catch (error) {
      throw along(error, keyStep(keys[i]!), o);
    }
    return `${out}}`;
  }

  /** `"k":`, remembered for the names met most (objects of a few shapes repeat them), bounded. */
  member(k: string): string {
    let member = this.#members.get(k);
    if (member === undefined) {
      member = `${quote(k)}:`;
      if (this.#members.size >= MAX_MEMBERS) this.#members.clear();
      this.#members.set(k, member);
    }
    return member;
  }

  /** A value cut out of its parent in the Merkle form when long; the flat form keeps everything inline. */
  #close(encoded: string): string {
    return encoded.length > this.#inlineLimit ? `H${sha256(encoded, 'base64url')}` : encoded;
  }

  #toJSON(v: object, toJSON: Function, depth: number): string {
    try {
      return this.value(toJSON.call(v, ''), depth);
    } catch (error) {
      throw along(error, '.toJSON()', v);
    }
  }

  #special(v: object, proto: object, depth: number): string {
    if (v instanceof Date) return `D${v.getTime()}`;
    if (v instanceof Map) return this.#map(v, depth);
    if (v instanceof Set) return this.#set(v, depth);
    if (ArrayBuffer.isView(v)) {
      const type = v instanceof Buffer ? 'Uint8Array' : v.constructor.name;
      const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      return this.#close(`X${JSON.stringify(type)}"${bytes}"`);
    }
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
      return this.#close(`A"${Buffer.from(v).toString('base64')}"`);
    }
    if (v instanceof RegExp) return this.#close(`R${JSON.stringify(v.source)}${JSON.stringify(v.flags)}`);
    if (v instanceof URL) return this.#close(`L${JSON.stringify(v.href)}`);
    const opaque = opaqueReason(v);
    if (opaque !== undefined) throw new Failure(opaque, v);
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.#toJSON(v, toJSON, depth);
    if (v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof BigInt) {
      return this.value(v.valueOf(), depth);
    }
    if (v instanceof Symbol) throw new Failure('a symbol', v);
    const verdict = this.#classOf(proto);
    if (verdict.refused !== undefined) throw new Failure(verdict.refused, v);
    const body = this.plain(v as Record<string, unknown>, depth);
    if (body === '{}') throw new Failure(`an instance of ${verdict.name} with no own enumerable property`, v);
    return this.#close(`${verdict.tag}${body}`);
  }

  /** `M{k:v,...}`, entries sorted by their encoding (a Map's order is insertion order, not part of its value). */
  #map(m: Map<unknown, unknown>, depth: number): string {
    const parts: string[] = [];
    let i = 0;
    let inKey = true;
    try {
      for (const [k, v] of m) {
        inKey = true;
        const key = this.value(k, depth);
        inKey = false;
        parts.push(`${key}:${this.value(v, depth)}`);
        i++;
      }
    } catch (error) {
      throw along(error, inKey ? `.<key ${i}>` : `.get(${i})`, m);
    }
    return this.#close(`M{${parts.sort().join(',')}}`);
  }

  #set(s: Set<unknown>, depth: number): string {
    const parts: string[] = [];
    let i = 0;
    try {
      for (const v of s) {
        parts.push(this.value(v, depth));
        i++;
      }
    } catch (error) {
      throw along(error, `.<member ${i}>`, s);
    }
    return this.#close(`S[${parts.sort().join(',')}]`);
  }

  /**
   * How instances with prototype `proto` are encoded: `C"<name>"` and their own enumerable properties, the name
   * being that of the nearest constructor up the prototype chain (not `v.constructor`, which an own property
   * could shadow). Refused when a built-in class is up the chain: its state lives in internal slots, which no
   * property shows. `Object` itself is fine (a plain object made in another realm).
   */
  #classOf(proto: object): ClassVerdict {
    const known = this.#classes.get(proto);
    if (known !== undefined) return known;
    let name: string | undefined;
    let refused: string | undefined;
    for (let p: object | null = proto; p !== null && p !== objectProto; p = Object.getPrototypeOf(p)) {
      const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value;
      if (typeof ctor !== 'function') continue;
      const ctorName = typeof ctor.name === 'string' ? ctor.name : '';
      name ??= ctorName;
      if (ctorName !== 'Object' && functionToString.call(ctor).endsWith('{ [native code] }')) {
        refused = `an instance of the built-in ${ctorName || 'class'} (its state is not in its properties)`;
        break;
      }
    }
    const verdict: ClassVerdict = { name: name ?? '', tag: `C${JSON.stringify(name ?? '')}`, refused };
    this.#classes.set(proto, verdict);
    return verdict;
  }
}

interface ClassVerdict {
  readonly name: string;
  /** `C"<name>"`, the start of every instance's encoding. */
  readonly tag: string;
  /** Why instances are refused, if they are. */
  readonly refused: string | undefined;
}

/**
 * Sorts property names by UTF-16 code units (the same order as Array.prototype.sort's default). Objects passed
 * to tools have few keys, where an insertion sort beats the generic sort by a wide margin.
 */
export function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

/**
 * The JSON form of a string (lone surrogates escaped, so that hashing as UTF-8 cannot merge distinct strings).
 * A short string with no quote, backslash, control character or surrogate is its JSON form between quotes, which
 * this loop finds without allocating; a longer one is scanned faster by JSON.stringify itself than by a regular
 * expression.
 */
export function quote(s: string): string {
  if (s.length > 64) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** Objects with no value to compare (promises, weak collections, blobs): why, or undefined for the others. */
function opaqueReason(value: object): string | undefined {
  if (value instanceof Promise || typeof (value as { then?: unknown }).then === 'function')
    return 'a promise';
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return `a ${value.constructor.name} (it has no value to compare)`;
  }
  if (value instanceof Blob) return 'a Blob (its contents cannot be read synchronously)';
  return undefined;
}

const TOO_DEEP = `a structure nested deeper than ${MAX_DEPTH} levels`;

/**
 * A failure on its way out of the walk: the reason, and the steps and objects of the containers it passed
 * (innermost first). Not an Error: nothing needs its stack, and a deep walk would pay for capturing it.
 */
class Failure {
  readonly steps: string[] = [];
  /** The failing value, then each container passed, innermost first. */
  readonly chain: unknown[];

  constructor(
    readonly reason: string,
    at: unknown,
    readonly cause?: unknown,
  ) {
    this.chain = [at];
  }
}

/** Adds a container's step to a failure passing through it; an error thrown by user code becomes one. */
function along(error: unknown, step: string, container: unknown): unknown {
  let failure: Failure;
  if (error instanceof Failure) failure = error;
  else if (error instanceof RangeError)
    return error; // the stack or a string length ran out: see rejection()
  else failure = new Failure(`a value that threw when read (${describe(error)})`, undefined, error);
  failure.steps.push(step);
  failure.chain.push(container);
  return failure;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The NotCanonicalisableError for whatever a walk threw. */
export function rejection(error: unknown): NotCanonicalisableError {
  if (error instanceof NotCanonicalisableError) return error;
  if (error instanceof RangeError) {
    return new NotCanonicalisableError('$', `a value too deep or too large to encode (${error.message})`, {
      cause: error,
    });
  }
  if (!(error instanceof Failure)) {
    return new NotCanonicalisableError('$', `a value that threw when read (${describe(error)})`, {
      cause: error,
    });
  }
  const steps = error.steps.reverse();
  if (error.reason === TOO_DEEP) {
    // A cycle is the first object met again along the chain, from the root.
    const chain = error.chain.reverse();
    const seen = new Set<unknown>();
    for (let i = 0; i < chain.length; i++) {
      const v = chain[i];
      if (seen.has(v))
        return new NotCanonicalisableError(`$${steps.slice(0, i).join('')}`, 'a circular reference');
      if (typeof v === 'object' && v !== null) seen.add(v);
    }
  }
  return new NotCanonicalisableError(
    `$${steps.join('')}`,
    error.reason,
    error.cause === undefined ? undefined : { cause: error.cause },
  );
}

function keyStep(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}
