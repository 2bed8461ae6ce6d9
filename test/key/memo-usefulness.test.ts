import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/index.js';

/**
 * cacheKey stops memoizing while the requests it keys never come back (all new objects, as the AI SDK makes them)
 * and starts again once they do. Only its speed may depend on that: every key must stay what the value says.
 */

type Message = { role: string; content: string };

const long = (tag: string, n: number) => `${tag} ${'x'.repeat(n)}`;

const freshRequest = (i: number) => ({
  model: 'm',
  system: long(`system ${i}`, 900),
  tools: [{ name: 'search', description: long(`tool ${i}`, 300), schema: { type: 'object' } }],
  messages: Array.from({ length: 6 }, (_, j) => ({
    role: j % 2 ? 'assistant' : 'user',
    content: long(`m${i}.${j}`, 700),
  })),
});

describe('cacheKey while memos go unused, and when they are used again', () => {
  it('gives the same keys, and in-place edits still change them', () => {
    const fixed = [0, 1, 2].map((i) => freshRequest(-1 - i));
    const before = fixed.map((r) => cacheKey(r));
    // A tool list passed with every request, while nothing else is reused: its memo is still used, re-checked.
    const sharedTools = [0, 1, 2, 3].map((i) => ({
      name: `tool${i}`,
      description: long(`shared ${i}`, 300),
    }));
    const withShared = (i: number) => ({ ...freshRequest(i), tools: sharedTools });
    const sharedBefore = cacheKey(withShared(-10));
    // Many requests whose objects are all new: nothing made for one is ever found again.
    const seen = new Set<string>();
    for (let i = 0; i < 1500; i++) seen.add(cacheKey(freshRequest(i)));
    expect(seen.size).toBe(1500);
    expect(fixed.map((r) => cacheKey(structuredClone(r)))).toEqual(before);
    expect(fixed.map((r) => cacheKey(r))).toEqual(before);
    expect(cacheKey(withShared(-10))).toBe(sharedBefore);
    sharedTools[2]!.description += ' (edited in place)';
    const edited = cacheKey(withShared(-10));
    expect(edited).not.toBe(sharedBefore);
    expect(edited).toBe(cacheKey(structuredClone(withShared(-10))));
    sharedTools.push({ name: 'tool4', description: 'added' });
    expect(cacheKey(withShared(-10))).not.toBe(edited);
    expect(cacheKey(withShared(-10))).toBe(cacheKey(structuredClone(withShared(-10))));

    // Tool definitions built afresh for every call (as the AI SDK does), found again by their contents.
    const schema = (limit: number) => ({
      type: 'object',
      properties: { q: { type: 'string' }, limit: { maximum: limit } },
    });
    const built = (limit: number, swap = false) =>
      ['search', 'fetch'].map((name) =>
        swap
          ? { inputSchema: schema(limit), description: long(name, 200), name, type: 'function' }
          : { type: 'function', name, description: long(name, 200), inputSchema: schema(limit) },
      );
    const call = (tools: unknown) => ({ sdk: 'ai', call: { prompt: freshRequest(7).messages, tools } });
    const first = cacheKey(call(built(10)));
    expect(cacheKey(call(built(10)))).toBe(first);
    expect(cacheKey(call(built(10, true)))).toBe(first); // the same value, its keys in another order
    const other = cacheKey(call(built(11)));
    expect(other).not.toBe(first);
    expect(other).toBe(cacheKey(structuredClone(call(built(11)))));
    expect(cacheKey(call(built(10)))).toBe(first);
    const changed = built(10);
    changed[1]!.inputSchema.properties.q.type = 'number';
    expect(cacheKey(call(changed))).not.toBe(first);
    expect(cacheKey(call(changed))).toBe(cacheKey(structuredClone(call(changed))));

    // Then a conversation that re-sends its messages turn after turn, edited in place now and then.
    const tools = [{ name: 'lookup', description: long('lookup', 600) }];
    const history: Message[] = [];
    const keys = new Set<string>();
    for (let turn = 0; turn < 60; turn++) {
      const user: Message = { role: 'user', content: long(`question ${turn}`, 650) };
      const request = { model: 'm', system: long('rules', 800), tools, messages: [...history, user] };
      const key = cacheKey(request);
      expect(key).toBe(cacheKey(structuredClone(request)));
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      if (turn % 7 === 3) {
        const edited = history[turn % history.length]!;
        const was = edited.content;
        edited.content = `${was} (edited)`;
        const after = cacheKey(request);
        expect(after).not.toBe(key);
        expect(after).toBe(cacheKey(structuredClone(request)));
        edited.content = was;
        expect(cacheKey(request)).toBe(key);
      }
      history.push(user, { role: 'assistant', content: long(`answer ${turn}`, 1200) });
    }
  });

  it('keeps a conversation remembered among requests that are not, and still sees its in-place edits', () => {
    const tools = [{ name: 'lookup', description: long('lookup', 600) }];
    const history: Message[] = [];
    let fresh = 0;
    for (let turn = 0; turn < 50; turn++) {
      // Between two turns, many requests whose objects are all new (they keep the memo out of use).
      for (let i = 0; i < 40; i++) cacheKey(freshRequest(fresh++));
      const user: Message = { role: 'user', content: long(`question ${turn}`, 650) };
      const request = { model: 'm', system: long('rules', 800), tools, messages: [...history, user] };
      const key = cacheKey(request);
      expect(key).toBe(cacheKey(structuredClone(request)));
      if (turn % 5 === 4) {
        const edited = history[(turn * 7) % history.length]!;
        const was = edited.content;
        edited.content = `${was} (edited)`;
        expect(cacheKey({ ...request, messages: [...request.messages] })).not.toBe(key);
        expect(cacheKey(request)).toBe(cacheKey(structuredClone(request)));
        edited.content = was;
        expect(cacheKey({ ...request, messages: [...request.messages] })).toBe(key);
      }
      history.push(user, { role: 'assistant', content: long(`answer ${turn}`, 1200) });
    }
  });
});
