import { describe, expect, it } from 'vitest';
import { cacheKey, PromptCacheLayout, type PromptSegment, segmentsFromMessages } from '../../src/index.js';

type Msg = { role: string; content: unknown; name?: string };

const turnMessages = (i: number, freeze: boolean): [Msg, Msg] => {
  const user = { role: 'user', content: `question ${i} ${'q'.repeat(600)}` };
  const assistant = { role: 'assistant', content: `answer ${i} ${'a'.repeat(1500)}` };
  return freeze ? [Object.freeze(user), Object.freeze(assistant)] : [user, assistant];
};

/** The layout of the same segments built with no memo to lean on (new objects throughout). */
const scratchLayout = (segments: PromptSegment[]) =>
  PromptCacheLayout.fromSegments(segments.map((s) => ({ ...s, content: structuredClone(s.content) })));

describe('incremental keys and layouts over a growing conversation', () => {
  for (const freeze of [false, true]) {
    it(`match from-scratch results at every turn (${freeze ? 'frozen' : 'mutable'} messages)`, () => {
      const system = `You are helpful. ${'s'.repeat(3000)}`;
      const tools = [{ name: 'search', description: 'd'.repeat(800) }];
      const history: Msg[] = [];
      for (let turn = 0; turn < 25; turn++) {
        const [user, assistant] = turnMessages(turn, freeze);
        const request = { model: 'm', system, tools, messages: [...history, user] };
        expect(cacheKey(request)).toBe(cacheKey(structuredClone(request)));
        const segments = segmentsFromMessages(request, { cacheHistory: true });
        const layout = PromptCacheLayout.fromSegments(segments);
        const scratch = scratchLayout(segments);
        expect(layout.prefixIds).toEqual(scratch.prefixIds);
        expect(layout.prefixDigests).toEqual(scratch.prefixDigests);
        expect(layout.segmentIds).toEqual(scratch.segmentIds);
        expect(layout.fingerprint).toBe(scratch.fingerprint);
        history.push(user, assistant);
      }
    });
  }

  it('layouts alone (no cacheKey call) also match from-scratch layouts as the conversation grows', () => {
    const history: Msg[] = [];
    for (let turn = 0; turn < 20; turn++) {
      const [user, assistant] = turnMessages(turn, turn % 2 === 0);
      const segments = segmentsFromMessages(
        { system: 'rules', messages: [...history, user] },
        { cacheHistory: true },
      );
      const layout = PromptCacheLayout.fromSegments(segments);
      expect(layout.prefixDigests).toEqual(scratchLayout(segments).prefixDigests);
      if (turn === 10) (history[3] as Msg).content = 'edited';
      history.push(user, assistant);
    }
  });

  it('trusts deep-frozen objects only: a frozen object with a getter, or a mutable child, is re-checked', () => {
    let n = 0;
    const withGetter = Object.freeze({
      role: 'user',
      get content() {
        return `call ${n} ${'x'.repeat(2000)}`;
      },
    });
    const k1 = cacheKey({ messages: [withGetter] });
    n++;
    expect(cacheKey({ messages: [withGetter] })).not.toBe(k1);
    const inner = { text: 'y'.repeat(2000) };
    const shallow = Object.freeze({ role: 'user', content: inner });
    const k2 = cacheKey({ messages: [shallow] });
    inner.text = 'z'.repeat(2000);
    expect(cacheKey({ messages: [shallow] })).not.toBe(k2);
  });

  it('a layout extending an earlier one still sees an in-place edit of an old message', () => {
    const history: Msg[] = [];
    for (let i = 0; i < 5; i++) history.push(...turnMessages(i, false));
    const first = PromptCacheLayout.fromSegments(
      segmentsFromMessages(
        { messages: [...history, { role: 'user', content: 'q' }] },
        { cacheHistory: true },
      ),
    );
    history[2]!.content = 'edited in place';
    const second = PromptCacheLayout.fromSegments(
      segmentsFromMessages(
        { messages: [...history, { role: 'user', content: 'q2' }] },
        { cacheHistory: true },
      ),
    );
    expect(second.isPrefixStableAgainst(first)).toBe(false);
    expect(second.prefixIds).toEqual(first.prefixIds);
  });

  it('segmentsFromMessages reuses frozen segments but re-reads roles edited in place', () => {
    const messages: Msg[] = [
      { role: 'system', content: 'rules' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
    ];
    const a = segmentsFromMessages({ messages });
    const b = segmentsFromMessages({ messages: [...messages] });
    expect(b[0]).toBe(a[0]);
    expect(Object.isFrozen(a[0])).toBe(true);
    messages[0]!.role = 'user';
    const c = segmentsFromMessages({ messages: [...messages] });
    expect(c[0]).toMatchObject({ id: 'message:0', cacheable: false, role: 'history' });
  });

  it('fromSegments still rejects a duplicate id introduced in an extension', () => {
    const segs = segmentsFromMessages({ system: 'rules', messages: [{ role: 'user', content: 'q' }] });
    PromptCacheLayout.fromSegments(segs);
    expect(() => PromptCacheLayout.fromSegments([...segs, { id: 'system', cacheable: false }])).toThrow(
      /duplicate segment id "system"/,
    );
    // and the failed call did not corrupt the next one
    expect(PromptCacheLayout.fromSegments([...segs, { id: 'extra', cacheable: false }]).segmentIds).toEqual([
      'system',
      'message:0',
      'extra',
    ]);
  });
});
