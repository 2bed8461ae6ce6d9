import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalEncode } from '../../src/index.js';
import { refusal } from '../helpers/refusal.js';

const enc = canonicalEncode;

/** A request large enough for cacheKey's Merkle form, holding `value`. */
const large = (value: unknown) => ({
  system: 's'.repeat(2000),
  messages: [{ role: 'user', content: value }],
});

describe('the canonical grammar: what has a key and what is refused', () => {
  it('refuses objects whose state is not in their properties, in both forms, naming the path', () => {
    class Secret {
      readonly #cents: number;
      constructor(cents: number) {
        this.#cents = cents;
      }
      get cents() {
        return this.#cents;
      }
    }
    const cases: [unknown, RegExp][] = [
      [new Error('boom'), /built-in Error/],
      [new TypeError('boom'), /built-in TypeError/],
      [new URLSearchParams('a=1'), /URLSearchParams with no own enumerable property/],
      [new Blob(['x']), /Blob/],
      [new Secret(5), /Secret with no own enumerable property/],
      [Object(Symbol('s')), /a symbol/],
      [new WeakMap(), /WeakMap/],
    ];
    for (const [value, reason] of cases) {
      const flat = refusal(() => enc({ args: [value] }));
      expect(flat.path).toBe('$.args[0]');
      expect(flat.reason).toMatch(reason);
      const merkle = refusal(() => cacheKey(large([value])));
      expect(merkle.path).toBe('$.messages[0].content[0]');
      expect(merkle.reason).toBe(flat.reason);
    }
    // Two different secrets would otherwise get one key; with visible fields, class instances are keyed.
    class Visible {
      constructor(readonly cents: number) {}
    }
    expect(enc(new Visible(1))).not.toBe(enc(new Visible(2)));
  });

  it('names a class by its constructor, not by an own `constructor` field', () => {
    class Point {
      constructor(readonly constructorField: unknown) {
        Object.defineProperty(this, 'constructor', { value: 1, enumerable: true });
      }
    }
    class Money {
      constructor(readonly constructorField: unknown) {
        Object.defineProperty(this, 'constructor', { value: 1, enumerable: true });
      }
    }
    expect(enc(new Point(1))).not.toBe(enc(new Money(1)));
    expect(enc(new Point(1))).toMatch(/^C"Point"/);
  });

  it('keys boxed primitives as the primitive, bigint included, and shared memory by its bytes', () => {
    expect(enc(Object(5n))).toBe(enc(5n));
    expect(enc(new String('x'.repeat(600)))).toBe(enc('x'.repeat(600)));
    expect(cacheKey(large(new String('x'.repeat(600))))).toBe(cacheKey(large('x'.repeat(600))));
    const a = new SharedArrayBuffer(2);
    const b = new SharedArrayBuffer(2);
    new Uint8Array(b)[0] = 1;
    expect(enc(a)).not.toBe(enc(b));
  });

  it('turns an error thrown by a getter or toJSON into a refusal naming the path, with the cause', () => {
    const failure = new Error('no access');
    const getter = Object.defineProperty({}, 'secret', {
      enumerable: true,
      get() {
        throw failure;
      },
    });
    const flat = refusal(() => enc({ user: getter }));
    expect(flat.path).toBe('$.user.secret');
    expect(flat.reason).toMatch(/threw when read \(Error: no access\)/);
    expect(flat.cause).toBe(failure);
    const merkle = refusal(() => cacheKey(large({ user: getter })));
    expect(merkle.path).toBe('$.messages[0].content.user.secret');
    const json = refusal(() =>
      enc([
        {
          toJSON() {
            throw failure;
          },
        },
      ]),
    );
    expect(json.path).toBe('$[0].toJSON()');
  });

  it('tells a cycle from a structure that is merely deep, through toJSON too', () => {
    const self = {
      toJSON() {
        return self;
      },
    };
    expect(refusal(() => enc({ x: self }))).toMatchObject({
      path: '$.x.toJSON()',
      reason: 'a circular reference',
    });
    const loop: Record<string, unknown> = {};
    loop.next = { back: [loop] };
    expect(refusal(() => cacheKey(large(loop)))).toMatchObject({
      path: '$.messages[0].content.next.back[0]',
      reason: 'a circular reference',
    });
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(() => enc(deep)).not.toThrow(); // 1000 levels: the limit
    expect(refusal(() => enc([deep]))).toMatchObject({
      reason: 'a structure nested deeper than 1000 levels',
    });
    expect(refusal(() => cacheKey([deep])).reason).toBe('a structure nested deeper than 1000 levels');
    expect(refusal(() => enc([deep])).message.length).toBeLessThan(300); // the long path is shortened
  });

  it('a toJSON or getter that keys something itself does not disturb the walk it is called from', () => {
    const inner = { role: 'user', content: 'i'.repeat(900) };
    const nested = {
      toJSON() {
        return { inner: cacheKey(large(inner)), flat: enc(inner) };
      },
    };
    const request = large([nested, { other: 'o'.repeat(900) }]);
    const key = cacheKey(request);
    expect(key).toBe(
      cacheKey(
        structuredClone({
          ...request,
          messages: [{ role: 'user', content: [nested.toJSON(), { other: 'o'.repeat(900) }] }],
        }),
      ),
    );
    expect(cacheKey(request)).toBe(key);
  });
});
