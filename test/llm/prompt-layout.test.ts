import { describe, expect, it } from 'vitest';
import {
  CacheLayoutEvent,
  PromptCacheLayout,
  type PromptSegment,
  segmentsFromMessages,
} from '../../src/index.js';

const seg = (id: string, cacheable: boolean, content: unknown = id): PromptSegment => ({
  id,
  cacheable,
  content,
});

describe('PromptCacheLayout.fromSegments', () => {
  it('takes the cacheable segments before the first non-cacheable one as the prefix', () => {
    const layout = PromptCacheLayout.fromSegments([
      seg('tools', true),
      seg('system', true),
      seg('user', false),
      seg('late', true),
    ]);
    expect(layout.prefixIds).toEqual(['tools', 'system']);
    expect(layout.misplacedIds).toEqual(['late']);
    expect(layout.segmentIds).toEqual(['tools', 'system', 'user', 'late']);
    expect(layout.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fingerprints ids and contents, in order, and nothing after the prefix', () => {
    const base = PromptCacheLayout.fromSegments([
      seg('a', true, 'x'),
      seg('b', true, { k: 1 }),
      seg('u', false, 'q1'),
    ]);
    const same = PromptCacheLayout.fromSegments([
      seg('a', true, 'x'),
      seg('b', true, { k: 1 }),
      seg('u', false, 'q2'),
    ]);
    const content = PromptCacheLayout.fromSegments([seg('a', true, 'x'), seg('b', true, { k: 2 })]);
    const renamed = PromptCacheLayout.fromSegments([seg('a', true, 'x'), seg('c', true, { k: 1 })]);
    const swapped = PromptCacheLayout.fromSegments([seg('b', true, { k: 1 }), seg('a', true, 'x')]);
    expect(same.fingerprint).toBe(base.fingerprint);
    for (const other of [content, renamed, swapped]) expect(other.fingerprint).not.toBe(base.fingerprint);
  });

  it('rejects duplicate and missing ids with a TypeError', () => {
    expect(() => PromptCacheLayout.fromSegments([seg('a', true), seg('a', false)])).toThrow(TypeError);
    expect(() => PromptCacheLayout.fromSegments([seg('a', true), seg('a', false)])).toThrow(/duplicate.*"a"/);
    expect(() => PromptCacheLayout.fromSegments([{ cacheable: true } as PromptSegment])).toThrow(TypeError);
    expect(() => PromptCacheLayout.fromSegments([seg('', true)])).toThrow(/segment 0 has no id/);
  });

  it('is stable against an equal or extended prefix, not against a changed one', () => {
    const before = PromptCacheLayout.fromSegments([seg('a', true), seg('b', true), seg('u', false)]);
    const grown = PromptCacheLayout.fromSegments([
      seg('a', true),
      seg('b', true),
      seg('c', true),
      seg('u', false),
    ]);
    const edited = PromptCacheLayout.fromSegments([seg('a', true), seg('b', true, 'B!'), seg('u', false)]);
    const shrunk = PromptCacheLayout.fromSegments([seg('a', true), seg('u', false)]);
    expect(before.isPrefixStableAgainst(before)).toBe(true);
    expect(grown.isPrefixStableAgainst(before)).toBe(true);
    expect(before.isPrefixStableAgainst(grown)).toBe(false);
    expect(edited.isPrefixStableAgainst(before)).toBe(false);
    expect(shrunk.isPrefixStableAgainst(before)).toBe(false);
  });
});

describe('CacheLayoutEvent.between', () => {
  const a = [seg('tools', true), seg('system', true, 'be brief'), seg('u', false)];

  it('an extended prefix is stable, not a break', () => {
    const e = CacheLayoutEvent.between(a, [...a.slice(0, 2), seg('m0', true), seg('u', false)]);
    expect(e).toMatchObject({
      changedPrefix: false,
      extended: true,
      volatileOnly: false,
      contentOnlyChange: false,
    });
    expect(e.firstChangedId).toBeUndefined();
    expect(e.segmentIdsBefore).toEqual(['tools', 'system']);
    expect(e.segmentIdsAfter).toEqual(['tools', 'system', 'm0']);
  });

  it('a content change with the same ids is contentOnlyChange, naming the segment', () => {
    const e = CacheLayoutEvent.between(a, [
      seg('tools', true),
      seg('system', true, 'be brief. Today: Monday'),
      seg('u', false),
    ]);
    expect(e).toMatchObject({
      changedPrefix: true,
      extended: false,
      contentOnlyChange: true,
      firstChangedId: 'system',
    });
    expect(e.describe()).toMatch(/content of segment "system" changed/);
  });

  it('a reorder or a removal is a change of ids', () => {
    const swapped = CacheLayoutEvent.between(a, [
      seg('system', true, 'be brief'),
      seg('tools', true),
      seg('u', false),
    ]);
    expect(swapped).toMatchObject({ changedPrefix: true, contentOnlyChange: false, firstChangedId: 'tools' });
    const removed = CacheLayoutEvent.between(a, [seg('tools', true), seg('u', false)]);
    expect(removed).toMatchObject({ changedPrefix: true, firstChangedId: 'system' });
    expect(removed.describe()).toMatch(/"system" left the cacheable prefix/);
  });

  it('volatileOnly when nothing is cacheable any more', () => {
    const e = CacheLayoutEvent.between(a, [seg('u', false), seg('tools', true)]);
    expect(e).toMatchObject({ changedPrefix: true, volatileOnly: true, firstChangedId: 'tools' });
  });
});

describe('segmentsFromMessages', () => {
  const request = {
    tools: [{ name: 'search' }],
    system: 'You are helpful.',
    messages: [
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
    ],
  };

  it('orders tools, system, messages; history volatile by default, newest user turn always volatile', () => {
    const segments = segmentsFromMessages(request);
    expect(segments.map((s) => [s.id, s.cacheable, s.role])).toEqual([
      ['tools', true, 'tools'],
      ['system', true, 'system'],
      ['message:0', false, 'history'],
      ['message:1', false, 'history'],
      ['message:2', false, 'volatile'],
    ]);
    expect(segments[4]!.content).toBe(request.messages[2]);
  });

  it('caches history with cacheHistory, and a growing conversation stays stable', () => {
    const turn1 = PromptCacheLayout.fromSegments(segmentsFromMessages(request, { cacheHistory: true }));
    expect(turn1.prefixIds).toEqual(['tools', 'system', 'message:0', 'message:1']);
    const next = {
      ...request,
      messages: [...request.messages, { role: 'assistant', content: 'a2' }, { role: 'user', content: 'q3' }],
    };
    const turn2 = PromptCacheLayout.fromSegments(segmentsFromMessages(next, { cacheHistory: true }));
    expect(turn2.prefixIds).toEqual(['tools', 'system', 'message:0', 'message:1', 'message:2', 'message:3']);
    expect(turn2.isPrefixStableAgainst(turn1)).toBe(true);
  });

  it('treats leading system/developer messages as system, and tool results after the newest user turn as volatile', () => {
    const segments = segmentsFromMessages({
      messages: [
        { role: 'system', content: 'rules' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'call_1' }] },
        { role: 'tool', content: 'result' },
      ],
    });
    expect(segments.map((s) => [s.id, s.cacheable, s.role])).toEqual([
      ['message:0', true, 'system'],
      ['message:1', false, 'volatile'],
      ['message:2', false, 'volatile'],
      ['message:3', false, 'volatile'],
    ]);
  });

  it('omits absent or empty tools and system', () => {
    expect(
      segmentsFromMessages({ tools: [], messages: [{ role: 'user', content: 'q' }] }).map((s) => s.id),
    ).toEqual(['message:0']);
    expect(() => segmentsFromMessages({} as never)).toThrow(TypeError);
  });
});
