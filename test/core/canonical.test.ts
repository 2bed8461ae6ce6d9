import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEncode, NotCanonicalisableError } from '../../src/index.js';
import { compactKey, MAX_RAW_KEY_LENGTH } from '../../src/key/compact.js';
import { KeyMemo } from '../../src/key/memo.js';

const enc = canonicalEncode;

describe('canonical keys', () => {
  it('ignores object key order but not array order', () => {
    expect(enc({ a: 1, b: { c: 2, d: 3 } })).toBe(enc({ b: { d: 3, c: 2 }, a: 1 }));
    expect(enc([1, 2])).not.toBe(enc([2, 1]));
  });

  it('distinguishes types: 1, "1", true, [1], {0:1}, null and undefined all differ', () => {
    const values = [1, '1', true, [1], { 0: 1 }, null, undefined, 'true', 'null', [], {}, '', 0, false];
    const keys = values.map(enc);
    expect(new Set(keys).size).toBe(values.length);
  });

  it('NaN equals NaN; -0 equals 0', () => {
    expect(enc(Number.NaN)).toBe(enc(Number.NaN));
    expect(enc(-0)).toBe(enc(0));
    expect(enc(Number.POSITIVE_INFINITY)).not.toBe(enc(Number.NEGATIVE_INFINITY));
  });

  it('treats an undefined property as missing, but keeps undefined array slots', () => {
    expect(enc({ a: 1, b: undefined })).toBe(enc({ a: 1 }));
    expect(enc([1, undefined])).not.toBe(enc([1]));
  });

  it('supports Date, bigint, Map, Set, typed arrays, Buffer, URL, RegExp and toJSON', () => {
    expect(enc(new Date(5))).toBe(enc(new Date(5)));
    expect(enc(new Date(5))).not.toBe(enc(new Date(6)));
    expect(enc(new Date(5))).not.toBe(enc(5));
    expect(enc(10n)).not.toBe(enc(10));
    expect(
      enc(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(
      enc(
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    );
    expect(enc(new Map([['a', 1]]))).not.toBe(enc({ a: 1 }));
    expect(enc(new Set([1, 2]))).toBe(enc(new Set([2, 1])));
    expect(enc(new Set([1, 2]))).not.toBe(enc([1, 2]));
    expect(enc(new Uint8Array([1, 2]))).toBe(enc(Buffer.from([1, 2])));
    expect(enc(new Uint8Array([1, 2]))).not.toBe(enc(new Uint8Array([2, 1])));
    expect(enc(new Uint8Array([1, 2]))).not.toBe(enc(new Int8Array([1, 2])));
    expect(enc(new Float64Array([1.5]))).toBe(enc(new Float64Array([1.5])));
    expect(enc(new URL('https://a.example/x?q=1'))).toBe(enc(new URL('https://a.example/x?q=1')));
    expect(enc(new URL('https://a.example/x'))).not.toBe(enc('https://a.example/x'));
    expect(enc(/ab+c/gi)).toBe(enc(/ab+c/gi));
    expect(enc(/ab+c/g)).not.toBe(enc(/ab+c/i));
    const money = { amount: 5, toJSON: () => '5.00 EUR' };
    expect(enc({ price: money })).toBe(enc({ price: { amount: 6, toJSON: () => '5.00 EUR' } }));
  });

  it('distinguishes instances of different classes with the same fields', () => {
    class A {
      x = 1;
    }
    class B {
      x = 1;
    }
    expect(enc(new A())).toBe(enc(new A()));
    expect(enc(new A())).not.toBe(enc(new B()));
  });

  it('rejects functions, symbols, promises and cycles with a TypeError naming the path', () => {
    const cyclic: Record<string, unknown> = { a: [1] };
    (cyclic.a as unknown[]).push(cyclic);
    const cases: [unknown, string][] = [
      [{ cb: () => 1 }, '$.cb'],
      [[1, Symbol('s')], '$[1]'],
      [{ messages: [{ content: Promise.resolve() }] }, '$.messages[0].content'],
      [cyclic, '$.a[1]'],
      [{ 'odd key': () => 1 }, '$["odd key"]'],
    ];
    for (const [value, path] of cases) {
      let error: unknown;
      try {
        enc(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toBeInstanceOf(NotCanonicalisableError);
      expect((error as NotCanonicalisableError).path).toBe(path);
      expect((error as Error).message).toContain(path);
    }
  });

  it('accepts shared (non-circular) references', () => {
    const shared = { id: 1 };
    expect(() => enc({ a: shared, b: shared, c: [shared, shared] })).not.toThrow();
  });

  it('hashes long material with SHA-256 and keeps short material as is', () => {
    const short = enc(['u1']);
    expect(compactKey(short)).toBe(short);
    const long = enc(['x'.repeat(MAX_RAW_KEY_LENGTH * 4)]);
    const key = compactKey(long);
    expect(key).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('xxxx');
    expect(compactKey(enc(['x'.repeat(MAX_RAW_KEY_LENGTH * 4 + 1)]))).not.toBe(key);
  });

  it('is deterministic across processes', () => {
    const sample = {
      z: [1, 'two', null, true, 3.25, -0, Number.NaN],
      a: { when: new Date(1_700_000_000_000), big: 12345678901234567890n },
      m: new Map<unknown, unknown>([[{ k: 1 }, new Set(['b', 'a'])]]),
      bytes: new Uint8Array([0, 255, 7]),
      u: new URL('https://example.com/a?b=c'),
    };
    const here = enc(sample);
    const script = fileURLToPath(new URL('../helpers/encode-sample.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout.trim()).toBe(here);
  });

  describe('properties (fast-check)', () => {
    const json = fc.jsonValue({ maxDepth: 4 });

    /** Rebuilds every object of a JSON value with its keys in a random order. */
    function shuffleKeys(value: unknown, random: () => number): unknown {
      if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random));
      if (value === null || typeof value !== 'object') return value;
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      }
      return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)]));
    }

    it('permuting object keys keeps the key', () => {
      fc.assert(
        fc.property(json, fc.integer(), (value, seed) => {
          let s = seed;
          const random = () => {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            return s / 0x80000000;
          };
          expect(enc(shuffleKeys(value, random))).toBe(enc(value));
        }),
        { numRuns: 300 },
      );
    });

    it('structurally different values give different keys', () => {
      fc.assert(
        fc.property(fc.anything(), fc.anything(), (a, b) => {
          fc.pre(!structurallyEqual(a, b));
          let ka: string;
          let kb: string;
          try {
            ka = enc(a);
            kb = enc(b);
          } catch {
            return; // fast-check may generate values with no canonical form (never the case for jsonValue)
          }
          expect(ka).not.toBe(kb);
        }),
        { numRuns: 500 },
      );
      fc.assert(
        fc.property(json, json, (a, b) => {
          fc.pre(!structurallyEqual(a, b));
          expect(enc(a)).not.toBe(enc(b));
        }),
        { numRuns: 500 },
      );
    });

    it('the hot-path memo returns exactly the key canonicalEncode gives, and notices mutation', () => {
      // Tiny tables, to exercise collisions and eviction in both (the recent keys and the large table).
      const memo = new KeyMemo({ slots: 8, maxSlots: 8, recent: 2 });
      fc.assert(
        fc.property(fc.array(json, { minLength: 1, maxLength: 20 }), (values) => {
          for (const v of [...values, ...values]) {
            expect(memo.key([v], 'P', 'g')).toBe(`Pg${compactKey(enc([v]))}`);
            expect(memo.key([v], 'P', 's"a"', 0x5eed)).toBe(`Ps"a"${compactKey(enc([v]))}`);
            expect(memo.key([v], 'P', 's"b"', 0x1234567)).toBe(`Ps"b"${compactKey(enc([v]))}`);
          }
        }),
        { numRuns: 200 },
      );
      const arg = { user: 'u1', filters: { tags: ['a'] } };
      const before = memo.key([arg], 'P', 'g');
      arg.filters.tags.push('b');
      const after = memo.key([arg], 'P', 'g');
      expect(after).not.toBe(before);
      expect(after).toBe(`Pg${compactKey(enc([arg]))}`);
      expect(memo.key([arg], 'P', 's"x"')).toBe(`Ps"x"${compactKey(enc([arg]))}`);
    });
  });
});

/** Equality under the canonical rules (docs/keys.md), written independently of the encoder. */
function structurallyEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b) || (a === 0 && b === 0);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => structurallyEqual(v, bb[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const protoA = Object.getPrototypeOf(ra);
  const protoB = Object.getPrototypeOf(rb);
  const plain = (p: unknown) => p === Object.prototype || p === null;
  if (!plain(protoA) || !plain(protoB)) return false; // fast-check only builds plain objects here; be strict
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(rb, k) && structurallyEqual(ra[k], rb[k]));
}
