/**
 * Values for the key encoder's property and fuzz tests, with what they mean under the canonical rules (docs/keys.md)
 * worked out independently of the encoder.
 *
 * A `Model` says what a value is (a string, an object with these entries, a Map with these entries, a value that
 * has no canonical form...). `build(model, random)` turns a model into a JavaScript value, choosing at random
 * among the representations the rules say are the same value: key insertion order, a null prototype, undefined
 * properties, boxed primitives, `-0`, a Buffer for a Uint8Array, a view into a larger buffer, a `toJSON` wrapper,
 * frozen objects, the same object shared at two places, Map and Set insertion order. Two builds of one model are
 * twins: they must get one key. `identity` is the meaning as a string: two values must get one key exactly when
 * their identities are equal, and a value whose identity is null must be refused with NotCanonicalisableError.
 */
import fc from 'fast-check';

export type Model =
  | { readonly t: 'undefined' }
  | { readonly t: 'null' }
  | { readonly t: 'boolean'; readonly v: boolean }
  | { readonly t: 'number'; readonly v: number }
  | { readonly t: 'bigint'; readonly v: bigint }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'array'; readonly v: readonly Model[] }
  | { readonly t: 'object'; readonly v: readonly (readonly [string, Model])[] }
  | { readonly t: 'date'; readonly v: number }
  | { readonly t: 'map'; readonly v: readonly (readonly [Model, Model])[] }
  | { readonly t: 'set'; readonly v: readonly Model[] }
  | { readonly t: 'bytes'; readonly type: BytesType; readonly v: readonly number[] }
  | { readonly t: 'arraybuffer'; readonly v: readonly number[] }
  | { readonly t: 'regexp'; readonly source: string; readonly flags: string }
  | { readonly t: 'url'; readonly v: string }
  | {
      readonly t: 'class';
      readonly name: 'Point' | 'Money';
      readonly v: readonly (readonly [string, Model])[];
    }
  /** Nested `levels` objects or arrays deep around `leaf`: refused past the depth limit. */
  | { readonly t: 'deep'; readonly levels: number; readonly leaf: Model }
  | { readonly t: 'bad'; readonly kind: BadKind };

type BytesType = 'Uint8Array' | 'Int16Array' | 'Float64Array';
export type BadKind =
  | 'function'
  | 'symbol'
  | 'promise'
  | 'cycle'
  | 'error'
  | 'private-class'
  | 'throwing-getter'
  | 'throwing-toJSON'
  | 'weakmap'
  | 'blob'
  | 'boxed-symbol';

/** The depth limit of the encoder (objects nested deeper are refused); see src/key/walk.ts. */
export const MAX_DEPTH = 1000;

// ---- models --------------------------------------------------------------------------------------------------

/** Small domains, so that independently drawn values are often equal (collisions would show). */
const smallString = fc.oneof(
  fc.constantFrom(
    '',
    'a',
    'b',
    '1',
    'true',
    'null',
    'N',
    '"',
    '\\',
    'h',
    'H',
    '{',
    '[]',
    'é',
    '\u2028',
    '\ud800',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);
/** Around and past the Merkle form's long-string cut (512), from a small domain too. */
const longString = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(500, 512, 513, 700, 1100),
      fc.constantFrom('x', 'y', 'é', '\ud83d\ude00'),
      smallString,
    )
    .map(([n, c, tail]) => c.repeat(n) + tail),
  fc.string({ minLength: 500, maxLength: 1500 }),
  fc
    .string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), minLength: 510 })
    .filter((s) => s.length <= 1200),
);
const number = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1, 1e21, 2 ** 53),
  fc.double(),
);
const key = fc.oneof(
  fc.constantFrom(
    'a',
    'b',
    'role',
    'content',
    '',
    '0',
    '1',
    '__proto__',
    'constructor',
    'toJSON',
    'a b',
    'é',
  ),
  fc.string({ maxLength: 5 }),
);
const bytes = (multiple: number) =>
  fc
    .array(fc.integer({ min: 0, max: 255 }), { maxLength: 24 })
    .map((b) => b.slice(0, b.length - (b.length % multiple)));

const leaf: fc.Arbitrary<Model> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Model>({ t: 'null' }) },
  { weight: 1, arbitrary: fc.constant<Model>({ t: 'undefined' }) },
  { weight: 2, arbitrary: fc.boolean().map((v): Model => ({ t: 'boolean', v })) },
  { weight: 4, arbitrary: number.map((v): Model => ({ t: 'number', v })) },
  { weight: 1, arbitrary: fc.bigInt({ min: -5n, max: 2n ** 70n }).map((v): Model => ({ t: 'bigint', v })) },
  { weight: 6, arbitrary: smallString.map((v): Model => ({ t: 'string', v })) },
  { weight: 2, arbitrary: longString.map((v): Model => ({ t: 'string', v })) },
  { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }).map((v): Model => ({ t: 'date', v: v * 1000 })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<BytesType>('Uint8Array', 'Int16Array', 'Float64Array')
      .chain((type) =>
        bytes(type === 'Uint8Array' ? 1 : type === 'Int16Array' ? 2 : 8).map(
          (v): Model => ({ t: 'bytes', type, v }),
        ),
      ),
  },
  { weight: 1, arbitrary: bytes(1).map((v): Model => ({ t: 'arraybuffer', v })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', 'a+', '[x]', '\\d', 'x'.repeat(1100)), fc.constantFrom('', 'g', 'gi', 'u'))
      .map(([source, flags]): Model => ({ t: 'regexp', source, flags })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('https://a.example/', 'https://a.example/x?q=1', `https://b.example/${'p'.repeat(1100)}`)
      .map((v): Model => ({ t: 'url', v })),
  },
);

const bad: fc.Arbitrary<Model> = fc
  .constantFrom<BadKind>(
    'function',
    'symbol',
    'promise',
    'cycle',
    'error',
    'private-class',
    'throwing-getter',
    'throwing-toJSON',
    'weakmap',
    'blob',
    'boxed-symbol',
  )
  .map((kind): Model => ({ t: 'bad', kind }));

/** Entries with distinct keys; a function under `toJSON` would be a toJSON method, so it is a symbol there. */
const uniqueEntries = (value: fc.Arbitrary<Model>, maxLength: number) =>
  fc
    .uniqueArray(fc.tuple(key, value), { maxLength, selector: ([k]) => k })
    .map((entries) =>
      entries.map(([k, m]) =>
        k === 'toJSON' && m.t === 'bad' && m.kind === 'function'
          ? ([k, { t: 'bad', kind: 'symbol' }] as [string, Model])
          : ([k, m] as [string, Model]),
      ),
    );

export interface ModelOptions {
  /** Weight of values with no canonical form (0: none). Default 1. */
  readonly bad?: number;
  /** Weight (against 100) of structures nested around the depth limit, at the top (0: none). Default 0. */
  readonly deep?: number;
}

/** Models of every kind, with large ones (long strings, long arrays) that take the Merkle form's cuts. */
export function models(options: ModelOptions = {}): fc.Arbitrary<Model> {
  const badWeight = options.bad ?? 1;
  const deepWeight = options.deep ?? 0;
  const { model } = fc.letrec<{ model: Model }>((tie) => {
    const child = tie('model');
    const definedChild = child.filter((m) => m.t !== 'undefined');
    const choices: fc.WeightedArbitrary<Model>[] = [
      { weight: 8, arbitrary: leaf },
      { weight: 3, arbitrary: fc.array(child, { maxLength: 5 }).map((v): Model => ({ t: 'array', v })) },
      {
        weight: 1,
        // Long arrays of leaves: bodies past the inline limit (1024), hashed and extended.
        arbitrary: fc.array(leaf, { minLength: 40, maxLength: 120 }).map((v): Model => ({ t: 'array', v })),
      },
      { weight: 4, arbitrary: uniqueEntries(definedChild, 5).map((v): Model => ({ t: 'object', v })) },
      {
        weight: 1,
        arbitrary: uniqueEntries(child, 4)
          .map((v) => v.map(([k, m]) => [k, m.t === 'undefined' ? ({ t: 'null' } as Model) : m] as const))
          .map(
            (v): Model => ({ t: 'map', v: v.map(([k, m]) => [{ t: 'string', v: k } as Model, m] as const) }),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .uniqueArray(fc.tuple(child, child), { maxLength: 3, selector: ([k]) => identityOf(k) ?? '' })
          .map((v): Model => ({ t: 'map', v })),
      },
      {
        weight: 1,
        arbitrary: fc
          .uniqueArray(child, { maxLength: 4, selector: (m) => identityOf(m) ?? '' })
          .map((v): Model => ({ t: 'set', v })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom<'Point' | 'Money'>('Point', 'Money'), uniqueEntries(definedChild, 3))
          .filter(([, v]) => v.length > 0)
          .map(([name, v]): Model => ({ t: 'class', name, v })),
      },
    ];
    if (badWeight > 0) choices.push({ weight: badWeight, arbitrary: bad });
    return { model: fc.oneof({ depthSize: 'small', maxDepth: 4 }, ...choices) };
  });
  if (deepWeight <= 0) return model;
  // At the top only: each one is a thousand objects to build and walk.
  const deep = fc
    .tuple(fc.integer({ min: MAX_DEPTH - 6, max: MAX_DEPTH + 3 }), leaf)
    .map(([levels, inner]): Model => ({ t: 'deep', levels, leaf: inner }));
  return fc.oneof({ weight: 100, arbitrary: model }, { weight: deepWeight, arbitrary: deep });
}

// ---- identity ------------------------------------------------------------------------------------------------

/**
 * The meaning of a model as a string, or null when it has no canonical form (depth aside: see build). Built from
 * the children's meanings (each self-delimiting: JSON strings and bracketed lists), remembered per model object,
 * so asking for the meaning of every node of a model costs its size once.
 */
export function identityOf(model: Model): string | null {
  const known = identities.get(model);
  if (known !== undefined) return known;
  const id = meaning(model);
  identities.set(model, id);
  return id;
}

const identities = new WeakMap<Model, string | null>();
const q = (s: string) => JSON.stringify(s);

function meaning(m: Model): string | null {
  switch (m.t) {
    case 'undefined':
      return 'u';
    case 'null':
      return 'z';
    case 'boolean':
      return m.v ? 't' : 'f';
    case 'number':
      return `n${q(Object.is(m.v, -0) ? '0' : String(m.v))}`;
    case 'bigint':
      return `i${q(m.v.toString())}`;
    case 'string':
      return `s${q(m.v)}`;
    case 'date':
      return `d${q(String(m.v))}`;
    case 'bytes':
      return `x${q(m.type)}${q(m.v.join(' '))}`;
    case 'arraybuffer':
      return `b${q(m.v.join(' '))}`;
    case 'regexp':
      return `r${q(m.source)}${q(m.flags)}`;
    case 'url':
      return `l${q(new URL(m.v).href)}`;
    case 'bad':
      return null;
    case 'deep': {
      const inner = identityOf(m.leaf);
      return inner === null ? null : `${'a['.repeat(m.levels)}${inner}${']'.repeat(m.levels)}`;
    }
    case 'array':
      return list('a', m.v.map(identityOf), false);
    case 'set':
      return list('t', m.v.map(identityOf), true);
    case 'map':
      return list(
        'm',
        m.v.map(([k, v]) => {
          const ik = identityOf(k);
          const iv = identityOf(v);
          return ik === null || iv === null ? null : `[${ik},${iv}]`;
        }),
        true,
      );
    case 'object':
    case 'class': {
      const entries = [...m.v].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const body = list(
        'o',
        entries.map(([k, v]) => {
          const iv = identityOf(v);
          return iv === null ? null : `${q(k)}:${iv}`;
        }),
        false,
      );
      return body === null ? null : m.t === 'object' ? body : `c${q(m.name)}${body}`;
    }
  }
}

function list(tag: string, items: (string | null)[], unordered: boolean): string | null {
  if (items.includes(null)) return null;
  const parts = items as string[];
  return `${tag}[${(unordered ? [...parts].sort() : parts).join(',')}]`;
}

// ---- building values -----------------------------------------------------------------------------------------

class Point {}
class Money {}
class Secret {
  readonly #cents: number;
  constructor(cents: number) {
    this.#cents = cents;
  }
  get cents(): number {
    return this.#cents;
  }
}
class Wrapped {
  readonly #value: unknown;
  constructor(value: unknown) {
    this.#value = value;
  }
  toJSON(): unknown {
    return this.#value;
  }
}

export interface Built {
  readonly value: unknown;
  /** The meaning of the value built, or null when it must be refused (a bad part, or deeper than the limit). */
  readonly identity: string | null;
}

/** A random number in [0, 1). */
export type Random = () => number;

/** A seeded random source (xorshift), so that a build can be repeated. */
export function seeded(seed: number): Random {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** A value for `model`, each representation choice made with `random`. */
export function build(model: Model, random: Random): Built {
  const builder = new Builder(random);
  const value = builder.value(model, 0);
  const identity = builder.tooDeep ? null : identityOf(model);
  return { value, identity };
}

class Builder {
  tooDeep = false;
  /** Objects already built, by identity: sometimes reused, so one object sits at two places (a DAG). */
  readonly #built = new Map<string, unknown>();

  constructor(readonly random: Random) {}

  #chance(p: number): boolean {
    return this.random() < p;
  }

  #shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Records an object at `depth` (the parent's depth + 1 for every object, as the encoder counts). */
  #level(depth: number): number {
    const own = depth + 1;
    if (own > MAX_DEPTH) this.tooDeep = true;
    return own;
  }

  value(m: Model, depth: number): unknown {
    // A toJSON wrapper around any value is that value (and one level more).
    if (m.t !== 'bad' && m.t !== 'deep' && this.#chance(0.04)) {
      const own = this.#level(depth);
      const inner = this.value(m, own);
      return this.#chance(0.5) ? { toJSON: () => inner } : new Wrapped(inner);
    }
    const id = m.t === 'array' || m.t === 'object' ? identityOf(m) : null;
    if (id !== null && this.#built.has(id) && this.#chance(0.3)) {
      // Shared only where its depth is the same as where it was built, so the depth count stays exact.
      const known = this.#built.get(id) as { depth: number; value: unknown };
      if (known.depth === depth) return known.value;
    }
    const value = this.#fresh(m, depth);
    if (id !== null) this.#built.set(id, { depth, value });
    return value;
  }

  #fresh(m: Model, depth: number): unknown {
    switch (m.t) {
      case 'undefined':
        return undefined;
      case 'null':
        return null;
      case 'boolean':
        return this.#chance(0.05) ? this.#boxed(new Boolean(m.v), depth) : m.v;
      case 'number': {
        const v = m.v === 0 && this.#chance(0.5) ? -0 : m.v;
        return this.#chance(0.05) ? this.#boxed(new Number(v), depth) : v;
      }
      case 'bigint':
        return this.#chance(0.05) ? this.#boxed(Object(m.v), depth) : m.v;
      case 'string':
        return this.#chance(0.05) ? this.#boxed(new String(m.v), depth) : m.v;
      case 'date':
        this.#level(depth);
        return new Date(m.v);
      case 'bytes': {
        this.#level(depth);
        const raw = Uint8Array.from(m.v);
        if (m.type === 'Uint8Array') {
          if (this.#chance(0.3)) return Buffer.from(raw);
          if (this.#chance(0.3)) {
            const larger = new Uint8Array(raw.length + 3);
            larger.set(raw, 2);
            return larger.subarray(2, 2 + raw.length);
          }
          return raw;
        }
        const Type = m.type === 'Int16Array' ? Int16Array : Float64Array;
        return new Type(raw.buffer, 0, raw.length / Type.BYTES_PER_ELEMENT);
      }
      case 'arraybuffer':
        this.#level(depth);
        return Uint8Array.from(m.v).buffer;
      case 'regexp':
        this.#level(depth);
        return new RegExp(m.source, m.flags);
      case 'url':
        this.#level(depth);
        return new URL(m.v);
      case 'array': {
        const own = this.#level(depth);
        const a = m.v.map((item) => this.value(item, own));
        return this.#chance(0.2) ? Object.freeze(a) : a;
      }
      case 'object':
        return this.#object(m.v, depth);
      case 'class': {
        const own = this.#level(depth);
        const o = new (m.name === 'Point' ? Point : Money)() as Record<string, unknown>;
        for (const [k, v] of this.#shuffle(m.v)) define(o, k, this.value(v, own));
        return o;
      }
      case 'map': {
        const own = this.#level(depth);
        return new Map(this.#shuffle(m.v).map(([k, v]) => [this.value(k, own), this.value(v, own)]));
      }
      case 'set': {
        const own = this.#level(depth);
        return new Set(this.#shuffle(m.v).map((v) => this.value(v, own)));
      }
      case 'deep': {
        let at = depth;
        for (let i = 0; i < m.levels; i++) at = this.#level(at);
        // Plain arrays around the leaf, built from the inside out (what the identity says).
        let v = this.value(m.leaf, at);
        for (let i = 0; i < m.levels; i++) v = [v];
        return v;
      }
      case 'bad':
        return this.#bad(m.kind, depth);
    }
  }

  #boxed<T>(boxed: T, depth: number): T {
    this.#level(depth);
    return boxed;
  }

  #object(entries: readonly (readonly [string, Model])[], depth: number): unknown {
    const own = this.#level(depth);
    const o: Record<string, unknown> = this.#chance(0.15) ? Object.create(null) : {};
    const order = this.#shuffle(entries);
    for (const [k, v] of order) {
      if (this.#chance(0.1)) define(o, `${k}~u`, undefined); // an undefined property is a missing one
      define(o, k, this.value(v, own));
    }
    if (this.#chance(0.1)) {
      // Frozen, and sometimes its children too (deep-frozen: trusted by identity in the Merkle form's memo).
      Object.freeze(o);
    }
    return o;
  }

  #bad(kind: BadKind, depth: number): unknown {
    switch (kind) {
      case 'function':
        return () => 1;
      case 'symbol':
        return Symbol('s');
      case 'promise':
        this.#level(depth);
        return Promise.resolve(1);
      case 'cycle': {
        this.#level(depth);
        const o: Record<string, unknown> = { a: 1 };
        o.self = this.#chance(0.5) ? o : [o];
        return o;
      }
      case 'error':
        this.#level(depth);
        return new Error('boom');
      case 'private-class':
        this.#level(depth);
        return new Secret(5);
      case 'throwing-getter':
        this.#level(depth);
        return Object.defineProperty({}, 'x', {
          enumerable: true,
          get() {
            throw new Error('getter failed');
          },
        });
      case 'throwing-toJSON':
        this.#level(depth);
        return {
          toJSON() {
            throw new Error('toJSON failed');
          },
        };
      case 'weakmap':
        this.#level(depth);
        return new WeakMap();
      case 'blob':
        this.#level(depth);
        return new Blob(['x']);
      case 'boxed-symbol':
        this.#level(depth);
        return Object(Symbol('s'));
    }
  }
}

/** defineProperty, not assignment: an own `__proto__` key must stay a key. */
function define(o: Record<string, unknown>, k: string, value: unknown): void {
  Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
}
