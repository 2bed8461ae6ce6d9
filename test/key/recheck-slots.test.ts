import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The re-check of memoized messages (leaf slots, src/key/leaf-slots.ts) has a generated loop per key list and a
 * generic one for runtimes that forbid generating code; both must notice every in-place edit that changes the
 * canonical encoding, and only those.
 */

type Msg = Record<string, unknown>;
type Lib = typeof import('../../src/index.js');

const long = (tag: string) => `${tag} ${'x'.repeat(1500)}`;

/** A fresh copy of the library, optionally in a runtime where `new Function` throws. */
async function load(withoutCodegen: boolean): Promise<Lib> {
  vi.resetModules();
  if (!withoutCodegen) return import('../../src/index.js');
  const original = globalThis.Function;
  const forbidden = function noCodeGeneration() {
    throw new EvalError('code generation from strings disallowed');
  } as unknown as FunctionConstructor;
  globalThis.Function = forbidden;
  try {
    return await import('../../src/index.js');
  } finally {
    // The generated loops are made on first use: keep the runtime forbidding it until the test is done.
    restore = () => {
      globalThis.Function = original;
    };
  }
}
let restore = () => {};
afterEach(() => {
  restore();
  restore = () => {};
});

/** [what, a message made fresh for each test, the edit] */
const edits: [string, () => Msg, (m: Msg) => void][] = [
  ['a value replaced', () => ({ role: 'user', content: long('q') }), (m) => (m.content = long('edited'))],
  ['a field added', () => ({ role: 'user', content: long('q') }), (m) => (m.name = 'bob')],
  ['a field removed', () => ({ role: 'user', content: long('q') }), (m) => delete m.content],
  [
    'an undefined field swapped for another (same count, the missing name still reads undefined)',
    () => ({ role: 'user', content: long('q'), name: undefined }),
    (m) => {
      delete m.name;
      m.other = 1;
    },
  ],
  [
    'made non-enumerable',
    () => ({ role: 'user', content: long('q') }),
    (m) => Object.defineProperty(m, 'content', { enumerable: false }),
  ],
  [
    'given a prototype',
    () => ({ role: 'user', content: long('q') }),
    (m) => Object.setPrototypeOf(m, { inherited: 1 }),
  ],
  [
    'an own __proto__ key changed',
    () =>
      Object.defineProperty({ role: 'user', content: long('q') }, '__proto__', {
        value: 1,
        enumerable: true,
        writable: true,
      }),
    (m) => Object.defineProperty(m, '__proto__', { value: 2 }),
  ],
];

describe.each([false, true])('re-checking slots (code generation forbidden: %s)', (withoutCodegen) => {
  it.each(edits)('notices an in-place edit: %s', async (_name, make, edit) => {
    const { cacheKey } = await load(withoutCodegen);
    const message = make();
    const history = conversationAround(message);
    const request = () => ({ messages: [...history] });
    cacheKey(request());
    const before = cacheKey(request()); // a new array of the same messages: each re-checked against its slot
    edit(message);
    const after = cacheKey(request());
    expect(after).not.toBe(before);
    expect(after).toBe(cacheKey(structuredCopy(request())));
  });

  it('keeps the key through edits that change nothing canonical (key order, an undefined field)', async () => {
    const { cacheKey, PromptCacheLayout, segmentsFromMessages } = await load(withoutCodegen);
    const message: Msg = { role: 'user', content: long('q') };
    const history = conversationAround(message);
    const request = () => ({ messages: [...history] });
    cacheKey(request());
    const key = cacheKey(request());
    const layout = PromptCacheLayout.fromSegments(segmentsFromMessages(request(), { cacheHistory: true }));
    delete message.role;
    message.role = 'user'; // same fields, another order
    expect(cacheKey(request())).toBe(key);
    const again = PromptCacheLayout.fromSegments(segmentsFromMessages(request(), { cacheHistory: true }));
    expect(again.isPrefixStableAgainst(layout)).toBe(true);
  });
});

/**
 * `message` among inline messages: enough of them that the conversation's body is hashed, so that a new array
 * holding the same messages extends the memo of the last one (re-checking every message) instead of starting over.
 */
function conversationAround(message: Msg): Msg[] {
  const filler = (i: number): Msg => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `${i} ${'f'.repeat(400)}`,
  });
  return [filler(0), message, filler(1), filler(2), filler(3)];
}

/** A deep copy keeping prototypes and own non-enumerable or odd keys out of the picture (what the key sees). */
function structuredCopy(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(structuredCopy);
  const out = Object.create(Object.getPrototypeOf(v)) as Msg;
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, { value: structuredCopy((v as Msg)[k]), enumerable: true, writable: true });
  }
  return out;
}
