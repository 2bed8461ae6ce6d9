import { beforeEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  cacheKey,
  canonicalEncode,
  getMetrics,
  InMemoryResponseCache,
  NotCanonicalisableError,
  withResponseCache,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';
import type { recordingLogger } from '../helpers/logger.js';
import { refusal } from '../helpers/refusal.js';

/** `levels` objects (or arrays) nested around `leaf`, built without recursion. */
function nested(levels: number, kind: 'object' | 'array' | 'mixed', leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) {
    v = kind === 'array' || (kind === 'mixed' && i % 2) ? [v] : { next: v };
  }
  return v;
}

/** Calls `f` from `frames` frames down the stack. */
function deepInStack<T>(frames: number, f: () => T): T {
  return frames === 0 ? f() : deepInStack(frames - 1, f);
}

describe('hostile input: deep nesting', () => {
  let logger: ReturnType<typeof recordingLogger>;
  beforeEach(() => {
    ({ logger } = freshCache());
  });

  it('100k levels are refused with a NotCanonicalisableError, never a RangeError, by both forms', () => {
    for (const kind of ['object', 'array', 'mixed'] as const) {
      const deep = nested(100_000, kind);
      for (const f of [canonicalEncode, cacheKey]) {
        const error = refusal(() => f(deep));
        expect(error.reason).toBe('a structure nested deeper than 1000 levels');
        expect(error.path.startsWith(Array.isArray(deep) ? '$[0]' : '$.next')).toBe(true);
      }
      // Inside a large request too (the Merkle form walks it).
      const request = { system: 's'.repeat(3000), messages: [{ role: 'user', content: deep }] };
      expect(refusal(() => cacheKey(request)).path.startsWith('$.messages[0].content')).toBe(true);
    }
  });

  it('a structure that never ends (a getter making a new object each time) is refused the same way', () => {
    const endless = (): object =>
      Object.defineProperty({}, 'child', { enumerable: true, get: () => endless() });
    expect(refusal(() => canonicalEncode(endless())).reason).toMatch(/nested deeper than 1000/);
    expect(refusal(() => cacheKey({ x: 'x'.repeat(2000), e: endless() })).reason).toMatch(/nested deeper/);
  });

  it('called with little stack left, the encoders still only throw NotCanonicalisableError', () => {
    // How deep this stack can go at all, then calls from up to 95% of that depth.
    let most = 1000;
    try {
      for (; ; most += 1000) deepInStack(most, () => 0);
    } catch {}
    const deep = nested(999, 'mixed');
    let refusedForStack = 0;
    for (const share of [0.2, 0.5, 0.8, 0.9, 0.95, 0.97, 0.99]) {
      for (const f of [canonicalEncode, cacheKey]) {
        let outcome: unknown;
        try {
          // What the encoder returns or throws is caught right where it is called.
          outcome = deepInStack(Math.floor(most * share), () => {
            try {
              return f(deep);
            } catch (error) {
              return error;
            }
          });
        } catch {
          continue; // the stack ran out in the caller's own frames, before the encoder was called
        }
        if (outcome instanceof NotCanonicalisableError) refusedForStack++;
        expect(typeof outcome === 'string' || outcome instanceof NotCanonicalisableError).toBe(true);
      }
    }
    expect(refusedForStack).toBeGreaterThan(0); // the stack did run out, and that was reported as a refusal
  });

  it('a read tool given 100k-deep arguments runs uncached: the call succeeds, counted in bypassed', async () => {
    let calls = 0;
    const tool = AgentCache()(async function summarize(tree: unknown) {
      calls++;
      return typeof tree;
    });
    const deep = nested(100_000, 'mixed');
    expect(await tool(deep)).toBe('object');
    expect(await tool(deep)).toBe('object');
    expect(calls).toBe(2);
    expect(getMetrics().bypassed).toBe(2);
    expect(getMetrics().misses).toBe(0);
    const warnings = logger.messages.filter((m) => m.includes('summarize'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/nested deeper than 1000 levels/);
  });

  it('withResponseCache calls the model uncached for a request it cannot key', async () => {
    let calls = 0;
    const callModel = withResponseCache(
      async (request: { messages: unknown[] }) => {
        calls++;
        return { text: `answer to ${request.messages.length} messages` };
      },
      { cache: new InMemoryResponseCache(), onEvent: () => {} },
    );
    const request = { messages: [{ role: 'user', content: 'c'.repeat(3000) }, nested(100_000, 'object')] };
    expect(await callModel(request)).toEqual({ text: 'answer to 2 messages' });
    expect(await callModel(request)).toEqual({ text: 'answer to 2 messages' });
    expect(calls).toBe(2);
  });
});

describe('hostile input: 10 MB values', () => {
  beforeEach(() => {
    freshCache();
  });

  const MB = 1024 * 1024;
  /** A 10 MB string; `at` gets a different character. */
  const big = (c: string, at = -1, other = 'y') => {
    const s = c.repeat((10 * MB) / c.length);
    return at < 0 ? s : s.slice(0, at) + other + s.slice(at + 1);
  };

  it('10 MB strings key by their whole content, in both forms', () => {
    for (const c of ['x', 'é', '\u{1f600}']) {
      const a = big(c);
      const same = big(c); // equal content, another string
      // For the emoji, a lone low surrogate in the middle (a code unit that UTF-8 cannot carry).
      const middle = big(c, (a.length >> 1) & ~1, c === '\u{1f600}' ? '\ude00' : 'y');
      const last = big(c, a.length - 1);
      expect(canonicalEncode([a]).length).toBeGreaterThan(a.length);
      expect(cacheKey(same)).toBe(cacheKey(a));
      expect(cacheKey({ doc: same })).toBe(cacheKey({ doc: a }));
      const keys = new Set([a, middle, last].map((s) => cacheKey({ doc: s })));
      expect(keys.size).toBe(3);
      const flat = new Set([a, middle, last].map((s) => canonicalEncode({ doc: s })));
      expect(flat.size).toBe(3);
    }
  });

  it('10 MB of bytes and a 10 MB structure key by value, and an edit anywhere changes the key', () => {
    const bytes = Buffer.alloc(10 * MB, 7);
    const copy = new Uint8Array(bytes);
    expect(cacheKey({ file: copy })).toBe(cacheKey({ file: bytes }));
    copy[5 * MB] = 8;
    expect(cacheKey({ file: copy })).not.toBe(cacheKey({ file: bytes }));

    const rows = Array.from({ length: 100_000 }, (_, i) => ({
      id: i,
      name: `row ${i} ${'n'.repeat(70)}`,
      tags: ['a', 'b'],
    }));
    expect(JSON.stringify(rows).length).toBeGreaterThan(10 * MB);
    const key = cacheKey({ rows });
    expect(cacheKey({ rows: structuredClone(rows) })).toBe(key);
    expect(cacheKey({ rows })).toBe(key); // memoized
    rows[77_777]!.tags.push('c');
    expect(cacheKey({ rows })).not.toBe(key);
    expect(cacheKey({ rows })).toBe(cacheKey({ rows: structuredClone(rows) }));
    expect(canonicalEncode({ rows })).toBe(canonicalEncode({ rows: structuredClone(rows) }));
  });

  it('a read tool caches calls with 10 MB arguments by their whole content', async () => {
    let calls = 0;
    const tool = AgentCache()(async function index(doc: string) {
      calls++;
      return doc.length;
    });
    const a = big('x');
    expect(await tool(a)).toBe(a.length);
    expect(await tool(big('x'))).toBe(a.length); // equal content: a hit
    expect(calls).toBe(1);
    expect(await tool(big('x', a.length - 1))).toBe(a.length); // differs in its last character: a miss
    expect(calls).toBe(2);
    expect(getMetrics().hits).toBe(1);
  });
});
