import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalEncode, NotCanonicalisableError } from '../../src/index.js';
import { canonicalDigest } from '../../src/key/index.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A deep copy that builds every object afresh (no memo can be shared with the original). */
const fresh = <T>(value: T): T => structuredClone(value);

/** The same value with every plain object's keys in reverse insertion order. */
function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  // defineProperty, not assignment: an own `__proto__` key (fast-check generates them) must stay a key.
  for (const k of Object.keys(value).reverse()) {
    Object.defineProperty(out, k, {
      value: reorder((value as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function conversation(turns: number, size = 400) {
  const messages: { role: string; content: string }[] = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `question ${i} ${'lorem ipsum '.repeat(size / 12)}` });
    messages.push({ role: 'assistant', content: `answer ${i} ${'dolor sit amet '.repeat(size / 5)}` });
  }
  return messages;
}

describe('cacheKey', () => {
  it('is 64 lowercase hex: SHA-256 of the canonical encoding for a small request', () => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const key = cacheKey(request);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).toBe(sha256(canonicalEncode(request)));
  });

  it('ignores object key order and keeps types', () => {
    expect(cacheKey({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(cacheKey({ b: { d: [1, 2], c: 2 }, a: 1 }));
    const variants = [1, '1', true, [1], { 0: 1 }, null, undefined, 1n, new Date(1)];
    const keys = new Set(variants.map((v) => cacheKey({ x: v })));
    expect(keys.size).toBe(variants.length);
    expect(cacheKey({ a: [1, 2] })).not.toBe(cacheKey({ a: [2, 1] }));
  });

  it('keys binary content by its bytes', () => {
    const a = { image: new Uint8Array([1, 2, 3]) };
    expect(cacheKey(a)).toBe(cacheKey({ image: new Uint8Array([1, 2, 3]) }));
    expect(cacheKey(a)).not.toBe(cacheKey({ image: new Uint8Array([1, 2, 4]) }));
  });

  it('excludes top-level fields and dotted paths, without touching the request', () => {
    const request = {
      model: 'm',
      user: 'u1',
      metadata: { trace: 't' },
      options: { openai: { user: 'x', seed: 1 } },
    };
    const key = cacheKey(request, { exclude: ['user', 'metadata', 'options.openai.user'] });
    expect(key).toBe(cacheKey({ model: 'm', options: { openai: { seed: 1 } } }));
    expect(request.options.openai.user).toBe('x');
    expect(cacheKey(request, { exclude: ['missing', 'model.deeper', 'options.nope.x'] })).toBe(
      cacheKey(request),
    );
  });

  it('throws a TypeError naming the path of a function or a cycle', () => {
    const fn = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: () => 1 },
      ],
    };
    expect(() => cacheKey(fn)).toThrow(NotCanonicalisableError);
    expect(() => cacheKey(fn)).toThrow(/\$\.messages\[1\]\.content/);
    const cyclic: Record<string, unknown> = { messages: [] };
    (cyclic.messages as unknown[]).push({ parent: cyclic });
    expect(() => cacheKey(cyclic)).toThrow(TypeError);
    expect(() => cacheKey(cyclic)).toThrow(/circular.*\$\.messages\[0\]\.parent/);
  });

  it('gives large requests the same key whether their objects were seen before or not', () => {
    const messages = conversation(30);
    const request = { model: 'm', system: 'S'.repeat(5000), messages };
    const scratch = cacheKey(fresh(request));
    expect(cacheKey(request)).toBe(scratch); // builds the memo
    expect(cacheKey(request)).toBe(scratch); // from the memo
    expect(cacheKey({ messages: [...messages], system: request.system, model: 'm' })).toBe(scratch);
    expect(cacheKey(reorder(fresh(request)))).toBe(scratch);
  });

  it('extends a growing conversation and still matches a from-scratch key at every turn', () => {
    const history = conversation(1);
    for (let turn = 0; turn < 40; turn++) {
      const messages = [...history, { role: 'user', content: `turn ${turn} ${'x'.repeat(turn * 50)}` }];
      const request = { model: 'm', messages };
      expect(cacheKey(request)).toBe(cacheKey(fresh(request)));
      history.push(messages.at(-1)!, { role: 'assistant', content: `reply ${turn} ${'y'.repeat(1500)}` });
    }
  });

  it('changes when a memoized message is mutated in place (content, added or removed field, push, nested)', () => {
    const messages: Record<string, unknown>[] = conversation(20);
    const request = { model: 'm', messages };
    const seen = new Set([cacheKey(request)]);
    const expectNewKey = () => {
      const key = cacheKey(request);
      expect(key).toBe(cacheKey(fresh(request)));
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    };
    messages[3]!.content = 'edited';
    expectNewKey();
    messages[5]!.name = 'bob';
    expectNewKey();
    delete messages[5]!.name;
    messages[5]!.role = 'system';
    expectNewKey();
    messages.push({ role: 'user', content: 'more' });
    expectNewKey();
    messages[0]!.content = [{ type: 'text', text: 'a'.repeat(2000) }];
    expectNewKey();
    (messages[0]!.content as { text: string }[])[0]!.text = 'b'.repeat(2000);
    expectNewKey();
    messages.splice(2, 1);
    expectNewKey();
    messages[1] = { ...messages[1]! };
    expect(cacheKey(request)).toBe(cacheKey(fresh(request))); // a copy with equal contents: same key
  });

  it('re-encodes special objects inside memoized messages (their contents change invisibly)', () => {
    const bytes = new Uint8Array(3000);
    const messages = [
      { role: 'user', content: [{ type: 'image', data: bytes }] },
      { role: 'user', content: 'q' },
    ];
    const before = cacheKey({ messages });
    bytes[10] = 7;
    expect(cacheKey({ messages })).not.toBe(before);
    const map = new Map([['a', 'x'.repeat(2000)]]);
    const withMap = { messages: [{ role: 'user', content: 'c', extra: map }] };
    const k1 = cacheKey(withMap);
    map.set('b', 'y');
    expect(cacheKey(withMap)).not.toBe(k1);
  });

  it('property: key order never matters (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(cacheKey(reorder(value))).toBe(cacheKey(value));
      }),
      { numRuns: 300 },
    );
  });

  it('property: structurally different requests have different keys (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalEncode(a) !== canonicalEncode(b));
        expect(cacheKey(a)).not.toBe(cacheKey(b));
      }),
      { numRuns: 300 },
    );
  });

  it('property: the memoized key equals a from-scratch key for large generated requests (fast-check)', () => {
    const message = fc.record({
      role: fc.constantFrom('user', 'assistant'),
      content: fc.string({ minLength: 0, maxLength: 3000 }),
    });
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 12 }),
        fc.array(message, { maxLength: 4 }),
        (history, added) => {
          const first = { messages: history };
          expect(cacheKey(first)).toBe(cacheKey(fresh(first)));
          const second = { messages: [...history, ...added] };
          expect(cacheKey(second)).toBe(cacheKey(fresh(second)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('property: the small-value shortcut gives the key the digest path gives (fast-check)', () => {
    const viaDigest = (value: unknown) => {
      const r = canonicalDigest(value);
      return r.startsWith('H') ? Buffer.from(r.slice(1), 'base64url').toString('hex') : sha256(r);
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 700 }), (value, text) => {
        expect(cacheKey(value)).toBe(viaDigest(value));
        const request = { messages: [{ role: 'user', content: text }], extra: value };
        expect(cacheKey(request)).toBe(viaDigest(request));
      }),
      { numRuns: 300 },
    );
  });
});
