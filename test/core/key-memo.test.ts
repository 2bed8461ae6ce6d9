import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEncode, NotCanonicalisableError } from '../../src/index.js';
import { compactKey } from '../../src/key/compact.js';
import { KeyMemo, matchesEncoding } from '../../src/key/memo.js';

const enc = canonicalEncode;
const keyOf = (value: unknown, scope = 'g') => `P${scope}${compactKey(enc(value))}`;

/** Strings that look like the grammar's own punctuation, escapes and surrogates: where a lax comparison would slip. */
const tricky = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '"',
    '\\',
    'a","b',
    'x\\',
    '\\"',
    '\n',
    '\u0000',
    '\ud800',
    '\udc00',
    '\ud83d\ude00',
    'n1',
    ':',
    ',',
  ),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    tricky,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('node'), { maxKeys: 4 }),
    fc.record({ a: tie('node'), b: fc.option(tie('node'), { nil: undefined }) }),
  ),
})).node;

describe('the key memo', () => {
  it('accepts a text as the encoding of a value exactly when the encoder agrees (fast-check)', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(matchesEncoding(a, enc(a))).toBe(true);
        expect(matchesEncoding(a, enc(b))).toBe(enc(a) === enc(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts a near miss: one character changed, added or removed', () => {
    fc.assert(
      fc.property(value, fc.nat(), fc.integer({ min: 0, max: 2 }), (a, at, how) => {
        const text = enc(a);
        const i = at % (text.length + 1);
        const near =
          how === 0
            ? `${text.slice(0, i)}x${text.slice(i)}`
            : how === 1
              ? text.slice(0, i) + text.slice(i + 1)
              : `${text.slice(0, i)}"${text.slice(i + 1)}`;
        fc.pre(near !== text);
        expect(matchesEncoding(a, near)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('returns the encoder’s key for every value, through both tables, collisions and eviction, in every scope (fast-check)', () => {
    const memo = new KeyMemo({ slots: 4, maxSlots: 16, recent: 2 });
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 30 }), (values) => {
        for (const v of [...values, ...values, ...values]) {
          expect(memo.key([v], 'P', 'g')).toBe(keyOf([v]));
          expect(memo.key([v], 'P', 's"a"', 0x5eed)).toBe(keyOf([v], 's"a"'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds keys again by value, whatever the objects or their property order', () => {
    const memo = new KeyMemo();
    const first = memo.key([{ user: 'u1', page: 2, filters: { tags: ['a'] } }], 'P', 'g');
    const parsed = JSON.parse('[{"filters":{"tags":["a"]},"page":2,"user":"u1"}]') as unknown;
    expect(memo.key(parsed, 'P', 'g')).toBe(first);
    expect(memo.key(parsed, 'P', 'g')).toBe(first); // the same string object: its hash is cached
  });

  it('notices mutation of an argument between calls, at any depth', () => {
    const memo = new KeyMemo();
    const arg = { user: 'u1', filters: { tags: ['a'] as string[] } };
    const before = memo.key([arg], 'P', 'g');
    arg.filters.tags.push('b');
    expect(memo.key([arg], 'P', 'g')).not.toBe(before);
    expect(memo.key([arg], 'P', 'g')).toBe(keyOf([arg]));
    arg.filters.tags.pop();
    expect(memo.key([arg], 'P', 'g')).toBe(before);
  });

  it('grows with the distinct arguments it sees, up to its bound, and stays exact', () => {
    const memo = new KeyMemo({ slots: 16 });
    memo.allow(50_000);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20_000; i++)
        expect(memo.key([{ id: `T-${i}`, n: i }], 'P', 'g')).toBe(keyOf([{ id: `T-${i}`, n: i }]));
    }
    expect(memo.slots).toBeGreaterThanOrEqual(16_384);
    expect(memo.slots).toBeLessThanOrEqual(65_536);
    const bounded = new KeyMemo({ slots: 16, maxSlots: 64 });
    for (let i = 0; i < 5_000; i++) bounded.key([i], 'P', 'g');
    expect(bounded.slots).toBe(64);
  });

  it('stays within what its backend holds: the first bound replaces the default, later ones only raise it', () => {
    const memo = new KeyMemo();
    memo.allow(1_000);
    for (let i = 0; i < 20_000; i++) memo.key([{ id: `T-${i}` }], 'P', 'g');
    expect(memo.slots).toBeLessThanOrEqual(2_048); // the default would have let it grow to 65,536
    memo.allow(10_000);
    for (let i = 0; i < 40_000; i++) memo.key([{ id: `U-${i}` }], 'P', 'g');
    expect(memo.slots).toBeGreaterThan(2_048);
    expect(memo.slots).toBeLessThanOrEqual(16_384);
    memo.allow(100);
    expect(memo.key([{ id: 'U-39999' }], 'P', 'g')).toBe(keyOf([{ id: 'U-39999' }]));
    expect(memo.slots).toBeGreaterThan(2_048); // a smaller bound later (another backend) does not shrink it
  });

  it('keeps an attachment beside its key, and hands it back only for equal arguments in the same scope', () => {
    const memo = new KeyMemo<{ key: string; value: number }>();
    const key = memo.key([{ id: 1 }], 'P', 'g');
    memo.attach({ key, value: 42 }, key); // a key seen once is not kept beside anything yet
    expect(memo.key([{ id: 1 }], 'P', 'g')).toBe(key);
    expect(memo.attached()).toBeUndefined();
    memo.attach({ key, value: 42 }, key);
    expect(memo.key([{ id: 1 }], 'P', 'g')).toBe(key);
    expect(memo.attached()).toEqual({ key, value: 42 });
    memo.key([{ id: 2 }], 'P', 'g');
    expect(memo.attached()).toBeUndefined();
    memo.key([{ id: 1 }], 'P', 's"other"', 7);
    expect(memo.attached()).toBeUndefined();
    // An attachment for another key is refused.
    memo.key([{ id: 1 }], 'P', 'g');
    memo.attach({ key: 'someone else', value: 0 }, 'someone else');
    memo.key([{ id: 1 }], 'P', 'g');
    expect(memo.attached()?.value).toBe(42);
  });

  it('starts over when the prefix changes (a new namespace)', () => {
    const memo = new KeyMemo();
    expect(memo.key(['a'], 'P', 'g')).toBe(keyOf(['a']));
    expect(memo.key(['a'], 'Q', 'g')).toBe(`Qg${compactKey(enc(['a']))}`);
    expect(memo.key(['a'], 'P', 'g')).toBe(keyOf(['a']));
  });

  it('keys long arguments (hashed keys) exactly, and again from memory', () => {
    const memo = new KeyMemo();
    const long = { text: 'word '.repeat(40), n: 1 };
    const key = memo.key([long], 'P', 'g');
    expect(key).toBe(keyOf([long]));
    expect(key).toMatch(/^Pg#/);
    expect(memo.key([{ n: 1, text: 'word '.repeat(40) }], 'P', 'g')).toBe(key);
    long.n = 2;
    expect(memo.key([long], 'P', 'g')).toBe(keyOf([long]));
  });

  it('encodes what its record holds when a getter answers differently each time', () => {
    const memo = new KeyMemo();
    let reads = 0;
    const arg = {
      get flaky() {
        return ++reads;
      },
    };
    for (let i = 0; i < 5; i++) {
      const key = memo.key([arg], 'P', 'g');
      // Whatever read was recorded, the key is the encoding of some value the getter returned.
      expect(key).toMatch(/^Pg\[\{"flaky":n\d+\}\]$/);
    }
  });

  it('lets a getter in the arguments call another cached key (nested use of the memo)', () => {
    const memo = new KeyMemo();
    const inner = new KeyMemo();
    const arg = {
      get nested() {
        return inner.key([{ deep: true }], 'I', 'g');
      },
    };
    expect(memo.key([arg], 'P', 'g')).toBe(keyOf([{ nested: `Ig${compactKey(enc([{ deep: true }]))}` }]));
    const recursive = {
      get self() {
        return memo.key(['x'], 'P', 'g');
      },
    };
    expect(memo.key([recursive], 'P', 'g')).toBe(keyOf([{ self: keyOf(['x']) }]));
  });

  it('lets the encoder report values it cannot encode, getters that throw included', () => {
    const memo = new KeyMemo();
    expect(() => memo.key([{ f: () => 1 }], 'P', 'g')).toThrow(NotCanonicalisableError);
    const throwing = {
      get bad(): never {
        throw new Error('boom');
      },
    };
    expect(() => memo.key([throwing], 'P', 'g')).toThrow(NotCanonicalisableError);
    expect(() => memo.key([throwing], 'P', 'g')).toThrow(/bad/);
  });

  it('hands values it does not memoise to the encoder (classes, Dates, Maps, toJSON, NaN, big values)', () => {
    const memo = new KeyMemo();
    class Point {
      constructor(readonly x: number) {}
    }
    const values = [
      new Point(1),
      new Date(5),
      new Map([[1, 2]]),
      { toJSON: () => 'j' },
      Number.NaN,
      1n,
      { s: 'x'.repeat(300) },
      Array.from({ length: 100 }, (_, i) => i),
    ];
    for (const v of values) for (let i = 0; i < 2; i++) expect(memo.key([v], 'P', 'g')).toBe(keyOf([v]));
  });
});
