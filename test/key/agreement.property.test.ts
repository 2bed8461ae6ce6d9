import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalEncode, NotCanonicalisableError } from '../../src/index.js';
import { canonicalDigest, leanDigest } from '../../src/key/digest.js';
import { build, type Model, models, seeded } from '../helpers/key-values.js';

/**
 * The flat encoding (`canonicalEncode`) and its Merkle form (`cacheKey` of a large request) are two forms of one
 * grammar: they must accept and refuse the same values (refusing with the same path and reason), and tell values
 * apart in the same way: canonicalEncode(a) === canonicalEncode(b) exactly when cacheKey(a) === cacheKey(b).
 */

type Outcome = { readonly key: string } | { readonly path: string; readonly reason: string };

function outcome(f: (v: unknown) => string, value: unknown): Outcome {
  try {
    return { key: f(value) };
  } catch (error) {
    expect(error).toBeInstanceOf(NotCanonicalisableError);
    const { path, reason } = error as NotCanonicalisableError;
    return { path, reason };
  }
}

/** A request large enough that cacheKey takes the Merkle form all the way down to `value`. */
const inLargeRequest = (value: unknown) => ({
  model: 'm',
  system: `rules ${'s'.repeat(600)}`,
  messages: [
    { role: 'user', content: `question ${'q'.repeat(700)}` },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'a'.repeat(900) },
        { type: 'data', value },
      ],
    },
  ],
});

/**
 * The Merkle form worked out without making memos (what cacheKey uses while memos go unused) gives the memoized
 * walk's rep and refuses what it refuses: on a value seen for the first time, and again once it is memoized (the
 * lean walk then takes the rep of an array near the root from its memo, re-checked).
 */
function expectLeanAgrees(value: unknown): void {
  const lean = () => {
    try {
      return leanDigest(value);
    } catch (error) {
      expect(error).toBeInstanceOf(NotCanonicalisableError);
      return undefined;
    }
  };
  const first = lean();
  let memoized: string | undefined;
  try {
    memoized = canonicalDigest(value);
  } catch {
    memoized = undefined;
  }
  expect(first).toBe(memoized);
  expect(lean()).toBe(memoized);
}

/** Both forms of one value, cold and again (memoized), at the root and inside a large request. */
function forms(value: unknown) {
  expectLeanAgrees(value);
  expectLeanAgrees(inLargeRequest(value));
  // As a tool list's element, which the lean walk also finds again by its contents (recent-lists.ts).
  expectLeanAgrees({ model: 'm', tools: [value, 'x'.repeat(1100)] });
  expectLeanAgrees({ sdk: 'ai', call: { tools: [{ name: 't', value }] } });
  const flat = outcome(canonicalEncode, value);
  const merkle = outcome(cacheKey, value);
  expect(outcome(cacheKey, value)).toEqual(merkle);
  const request = inLargeRequest(value);
  const flatInRequest = outcome(canonicalEncode, request);
  const merkleInRequest = outcome(cacheKey, request);
  expect(outcome(cacheKey, request)).toEqual(merkleInRequest);
  // The same verdict, and the same path and reason when refused.
  expect('key' in merkle).toBe('key' in flat);
  if (!('key' in flat)) expect(merkle).toEqual(flat);
  expect('key' in merkleInRequest).toBe('key' in flatInRequest);
  if (!('key' in flatInRequest)) expect(merkleInRequest).toEqual(flatInRequest);
  return { flat, merkle, flatInRequest, merkleInRequest };
}

const keyOf = (o: Outcome) => ('key' in o ? o.key : undefined);

function expectSameDistinctions(a: ReturnType<typeof forms>, b: ReturnType<typeof forms>): void {
  for (const [flat, merkle] of [
    ['flat', 'merkle'],
    ['flatInRequest', 'merkleInRequest'],
  ] as const) {
    const fa = keyOf(a[flat]);
    const fb = keyOf(b[flat]);
    if (fa === undefined || fb === undefined) continue;
    expect(keyOf(a[merkle]) === keyOf(b[merkle])).toBe(fa === fb);
  }
}

describe('the flat encoding and the Merkle form agree (fast-check)', () => {
  it('on every value, toJSON included: same verdict, same path, same distinctions', () => {
    fc.assert(
      fc.property(models(), models(), fc.integer(), (ma: Model, mb: Model, seed: number) => {
        const random = seeded(seed);
        const a = build(ma, random);
        const twin = build(ma, random); // the same model built another way: the same value
        const b = build(mb, random);
        const fa = forms(a.value);
        const ft = forms(twin.value);
        const fb = forms(b.value);
        expectSameDistinctions(fa, ft);
        expectSameDistinctions(fa, fb);
        expectSameDistinctions(ft, fb);
      }),
      { numRuns: 250 },
    );
  });

  it('on values around the depth limit', () => {
    fc.assert(
      fc.property(models({ deep: 100, bad: 0 }), fc.integer(), (m: Model, seed: number) => {
        forms(build(m, seeded(seed)).value);
      }),
      { numRuns: 60 },
    );
  });

  it('on objects with toJSON, which large requests used to refuse', () => {
    const money = (cents: number) => ({ cents, toJSON: () => `${(cents / 100).toFixed(2)} EUR` });
    class Price {
      constructor(readonly cents: number) {}
      toJSON() {
        return { amount: this.cents, note: 'n'.repeat(700) };
      }
    }
    const values = [
      money(500),
      { price: money(500), long: 'x'.repeat(2000) },
      { price: new Price(5), items: Array.from({ length: 100 }, (_, i) => ({ i })) },
      { toJSON: () => ({ role: 'user', content: 'c'.repeat(800) }) },
    ];
    for (const v of values) {
      const { flat, merkle, flatInRequest, merkleInRequest } = forms(v);
      expect('key' in flat && 'key' in merkle && 'key' in flatInRequest && 'key' in merkleInRequest).toBe(
        true,
      );
    }
    // What toJSON returns is the value: equal to writing that value directly, in both forms.
    const direct = { price: '5.00 EUR', long: 'x'.repeat(2000) };
    expect(canonicalEncode(values[1])).toBe(canonicalEncode(direct));
    expect(cacheKey(inLargeRequest(values[1]))).toBe(cacheKey(inLargeRequest(direct)));
    expect(cacheKey(inLargeRequest(new Price(5)))).toBe(
      cacheKey(inLargeRequest({ note: 'n'.repeat(700), amount: 5 })),
    );
  });
});
