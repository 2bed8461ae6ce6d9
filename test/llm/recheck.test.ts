import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, PromptCacheLayout, type PromptSegment, segmentsFromMessages } from '../../src/index.js';

/**
 * The mechanisms that keep long mutable conversations cheap to key and lay out: leaf messages kept as slots of
 * their array's snapshot (no memo of their own until a layout asks), direct references to child memos, layouts
 * sharing append-only storage, and contents re-checked against snapshots. Every result is compared with one
 * computed from deep copies (nothing memoized to lean on).
 */

type Msg = Record<string, unknown>;

const long = (tag: string, n = 1500) => `${tag} ${'x'.repeat(n)}`;
const conversation = (turns: number): Msg[] => {
  const history: Msg[] = [];
  for (let i = 0; i < turns; i++) {
    history.push(
      { role: 'user', content: long(`q${i}`, 400) },
      { role: 'assistant', content: long(`a${i}`) },
    );
  }
  return history;
};
const scratchKey = (request: unknown) => cacheKey(structuredClone(request));
const scratchLayout = (segments: readonly PromptSegment[]) =>
  PromptCacheLayout.fromSegments(segments.map((s) => ({ ...s, content: copy(s.content) })));
const layoutOf = (request: { system?: string; messages: Msg[] }) =>
  PromptCacheLayout.fromSegments(segmentsFromMessages(request, { cacheHistory: true }));
const expectSameLayout = (layout: PromptCacheLayout, scratch: PromptCacheLayout) => {
  expect(layout.segmentIds).toEqual(scratch.segmentIds);
  expect(layout.prefixIds).toEqual(scratch.prefixIds);
  expect(layout.prefixDigests).toEqual(scratch.prefixDigests);
  expect(layout.misplacedIds).toEqual(scratch.misplacedIds);
  expect(layout.fingerprint).toBe(scratch.fingerprint);
};

/** In-place edits of a plain message that must change its key and its layout digest. */
const edits: [string, (m: Msg) => void][] = [
  ['content replaced', (m) => (m.content = long('edited'))],
  ['field added', (m) => (m.cache_control = { type: 'ephemeral' })],
  ['field removed', (m) => delete m.content],
  ['role changed', (m) => (m.role = 'system')],
  ['prototype changed', (m) => Object.setPrototypeOf(m, { inherited: true })],
  ['made non-enumerable', (m) => Object.defineProperty(m, 'content', { enumerable: false })],
  ['value made a getter', (m) => Object.defineProperty(m, 'content', { get: () => long('got') })],
];

/** A deep copy that keeps prototypes (structuredClone would turn a class-like object back into a plain one). */
const copy = (v: unknown): unknown => {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(copy);
  const out = Object.create(Object.getPrototypeOf(v)) as Msg;
  for (const k of Object.keys(v)) out[k] = copy((v as Msg)[k]);
  return out;
};

describe('re-checking memoized messages', () => {
  for (const [name, edit] of edits) {
    it(`cacheKey and the layout notice an in-place edit (${name})`, () => {
      const history = conversation(6);
      const request = (extra: string) => ({
        system: 'rules',
        messages: [...history, { role: 'user', content: extra }],
      });
      // Two turns so that every message is past its first sighting (slots, memos and layout storage in use).
      cacheKey(request('t1'));
      layoutOf(request('t1'));
      cacheKey(request('t2'));
      const before = layoutOf(request('t2'));
      edit(history[3]!);
      const r = request('t3');
      expect(cacheKey(r)).toBe(cacheKey(copy(r)));
      const segments = segmentsFromMessages(r, { cacheHistory: true });
      const layout = PromptCacheLayout.fromSegments(segments);
      if (name !== 'role changed') expectSameLayout(layout, scratchLayout(segments));
      expect(layout.isPrefixStableAgainst(before)).toBe(false);
    });
  }

  it('a plain message given a null prototype keeps its key (same canonical form)', () => {
    const history = conversation(4);
    const r = () => ({ messages: [...history, { role: 'user', content: 'q' }] });
    cacheKey(r());
    const key = cacheKey(r());
    const before = layoutOf(r());
    Object.setPrototypeOf(history[3]!, null);
    expect(cacheKey(r())).toBe(key);
    expect(layoutOf(r()).isPrefixStableAgainst(before)).toBe(true);
  });

  it('the layout notices an edit made between cacheKey and segmentsFromMessages (same turn)', () => {
    const history = conversation(5);
    for (let turn = 0; turn < 3; turn++) {
      const r = { system: 'rules', messages: [...history, { role: 'user', content: `t${turn}` }] };
      cacheKey(r);
      layoutOf(r);
    }
    const r = { system: 'rules', messages: [...history, { role: 'user', content: 'now' }] };
    const key = cacheKey(r);
    history[4]!.content = long('edited after keying');
    const segments = segmentsFromMessages(r, { cacheHistory: true });
    expectSameLayout(PromptCacheLayout.fromSegments(segments), scratchLayout(segments));
    // …and the next key sees it too.
    expect(cacheKey(r)).not.toBe(key);
    expect(cacheKey(r)).toBe(scratchKey(r));
  });

  it('the layout notices an edit made between segmentsFromMessages and fromSegments', () => {
    const history = conversation(5);
    for (let turn = 0; turn < 3; turn++) {
      const r = { messages: [...history, { role: 'user', content: `t${turn}` }] };
      cacheKey(r);
      layoutOf(r);
    }
    const r = { messages: [...history, { role: 'user', content: 'now' }] };
    cacheKey(r);
    const segments = segmentsFromMessages(r, { cacheHistory: true });
    history[1]!.content = long('edited after segmenting');
    expectSameLayout(PromptCacheLayout.fromSegments(segments), scratchLayout(segments));
  });

  it('a new message edited between cacheKey and its first layout gets its new digest', () => {
    const history = conversation(3);
    const r1 = { messages: [...history, { role: 'user', content: 'first' }] };
    cacheKey(r1);
    layoutOf(r1);
    const reply: Msg = { role: 'assistant', content: long('reply') };
    history.push(reply);
    const r2 = { messages: [...history, { role: 'user', content: 'second' }] };
    cacheKey(r2); // `reply` is met for the first time here
    reply.content = long('reply, edited before the layout');
    const segments = segmentsFromMessages(r2, { cacheHistory: true });
    expectSameLayout(PromptCacheLayout.fromSegments(segments), scratchLayout(segments));
    expect(cacheKey(r2)).toBe(scratchKey(r2));
  });

  it('an edit that is undone gives the original key again', () => {
    const history = conversation(4);
    const r = { messages: [...history, { role: 'user', content: 'q' }] };
    const key = cacheKey(r);
    const original = history[2]!.content;
    history[2]!.content = long('temporary');
    expect(cacheKey(r)).not.toBe(key);
    history[2]!.content = original;
    expect(cacheKey(r)).toBe(key);
  });

  it('messages with more than four fields, nested blocks or an own `constructor` field are re-checked too', () => {
    const history: Msg[] = [
      { role: 'user', content: long('q'), name: 'n', id: 'i1', meta: 1 },
      { role: 'assistant', content: [{ type: 'text', text: long('a') }] },
      { role: 'user', content: long('q2'), constructor: 'own field' },
    ];
    const r = () => ({ messages: [...history, { role: 'user', content: 'next' }] });
    for (let turn = 0; turn < 2; turn++) {
      expect(cacheKey(r())).toBe(scratchKey(r()));
      layoutOf(r());
    }
    history[0]!.meta = 2;
    expect(cacheKey(r())).toBe(scratchKey(r()));
    ((history[1]!.content as Msg[])[0] as Msg).text = long('a2');
    expect(cacheKey(r())).toBe(scratchKey(r()));
    (history[2] as unknown as { constructor: unknown }).constructor = 'changed';
    expect(cacheKey(r())).toBe(scratchKey(r()));
    const segments = segmentsFromMessages(r(), { cacheHistory: true });
    expectSameLayout(PromptCacheLayout.fromSegments(segments), scratchLayout(segments));
  });

  it('key order does not matter for objects with many keys (the insertion sort and the plain sort agree)', () => {
    const keys = Array.from({ length: 24 }, (_, i) => `k${(i * 7) % 24}`);
    const a: Msg = {};
    const b: Msg = {};
    for (const k of keys) a[k] = long(k, 30);
    for (const k of [...keys].reverse()) b[k] = long(k, 30);
    const small = { x: { c: 1, a: 2, b: 3 } };
    expect(cacheKey({ messages: [a, a, a] })).toBe(cacheKey({ messages: [b, b, b] }));
    expect(cacheKey(small)).toBe(cacheKey({ x: { a: 2, b: 3, c: 1 } }));
  });
});

describe('layouts sharing storage', () => {
  it('earlier layouts keep their own ids and digests after later turns and branches extend them', () => {
    const history = conversation(4);
    const layouts: { layout: PromptCacheLayout; scratch: PromptCacheLayout }[] = [];
    const record = (messages: Msg[]) => {
      const segments = segmentsFromMessages({ system: 'rules', messages }, { cacheHistory: true });
      layouts.push({ layout: PromptCacheLayout.fromSegments(segments), scratch: scratchLayout(segments) });
    };
    for (let turn = 0; turn < 6; turn++) {
      // three alternative next turns (retries) from the same history, then the real one
      for (let b = 0; b < 3; b++) record([...history, { role: 'user', content: `branch ${turn}.${b}` }]);
      const user = { role: 'user', content: long(`u${turn}`, 300) };
      record([...history, user]);
      history.push(user, { role: 'assistant', content: long(`a${turn}`) });
    }
    // Read only now, after every extension: nothing may have leaked from a later layout into an earlier one.
    for (const { layout, scratch } of layouts) expectSameLayout(layout, scratch);
    const last = layouts[layouts.length - 1]!.layout;
    expect(last.isPrefixStableAgainst(layouts[3]!.layout)).toBe(true);
    expect(last.isPrefixStableAgainst(layouts[0]!.layout)).toBe(true);
  });

  it('a branch from further back (a shorter history) copies instead of overwriting a later layout', () => {
    const history = conversation(6);
    const long1 = layoutOf({ messages: [...history, { role: 'user', content: 'x' }] });
    const shortMessages = history.slice(0, 6);
    const short1 = layoutOf({ messages: [...shortMessages, { role: 'user', content: 'y' }] });
    const long2 = layoutOf({ messages: [...history, { role: 'user', content: 'z' }] });
    expect(long1.prefixIds).toHaveLength(12);
    expect(short1.prefixIds).toHaveLength(6);
    expect(long2.prefixIds).toEqual(long1.prefixIds);
    expect(long2.prefixDigests).toEqual(long1.prefixDigests);
    expect(short1.prefixDigests).toEqual(long1.prefixDigests.slice(0, 6));
  });

  it('a frozen segment whose content is a getter is not trusted by identity', () => {
    let n = 0;
    const system = Object.freeze({
      id: 'system',
      cacheable: true,
      get content() {
        return `rules v${n}`;
      },
    }) as PromptSegment;
    const user = Object.freeze({ id: 'user', cacheable: false, content: 'q' });
    const first = PromptCacheLayout.fromSegments([system, user]);
    n++;
    const second = PromptCacheLayout.fromSegments([system, user]);
    expect(second.isPrefixStableAgainst(first)).toBe(false);
    expect(second.prefixDigests).toEqual(
      PromptCacheLayout.fromSegments([{ id: 'system', cacheable: true, content: 'rules v1' }]).prefixDigests,
    );
  });
});

describe('property: random in-place edits over a growing conversation (fast-check)', () => {
  type Op =
    | { kind: 'turn'; user: string; reply: string }
    | { kind: 'edit'; at: number; content: string }
    | { kind: 'add'; at: number; value: string }
    | { kind: 'drop'; at: number }
    | { kind: 'retry'; user: string };
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 500, maxLength: 1500 }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('turn' as const), user: text, reply: text }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), content: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.nat(), value: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), user: text }) },
  );

  it('every key and layout equals the one of a deep copy, whatever was edited in place before', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.boolean(), (ops, frozenTurns) => {
        const history: Msg[] = [{ role: 'system', content: 'rules '.repeat(100) }];
        const step = (user: string) => {
          const messages = [...history, { role: 'user', content: user }];
          const request = { system: 'sys', messages };
          expect(cacheKey(request)).toBe(scratchKey(request));
          const segments = segmentsFromMessages(request, { cacheHistory: true });
          expectSameLayout(PromptCacheLayout.fromSegments(segments), scratchLayout(segments));
        };
        for (const o of ops) {
          const target = history[o.kind === 'turn' || o.kind === 'retry' ? 0 : o.at % history.length]!;
          const mutable = !Object.isFrozen(target);
          if (o.kind === 'turn') {
            step(o.user);
            const user = { role: 'user', content: o.user };
            const reply = { role: 'assistant', content: o.reply };
            history.push(frozenTurns ? Object.freeze(user) : user, reply);
          } else if (o.kind === 'retry') step(o.user);
          else if (mutable && o.kind === 'edit') target.content = o.content;
          else if (mutable && o.kind === 'add') target.name = o.value;
          else if (mutable && o.kind === 'drop') delete target.content;
        }
        step('last');
      }),
      { numRuns: 150 },
    );
  });
});
