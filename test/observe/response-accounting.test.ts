import { describe, expect, it } from 'vitest';
import {
  AgentCacheSession,
  type Backend,
  type BackendEntry,
  BackendResponseCache,
  getMetrics,
  InMemoryResponseCache,
  MemoryBackend,
  PromptCacheGuard,
  type PromptSegment,
  withResponseCache,
} from '../../src/index.js';
import { recordResponseHit, recordResponseMiss } from '../../src/llm/response-accounting.js';
import { tokenUsage } from '../../src/llm/usage.js';
import { freshCache } from '../helpers/fresh.js';
import { listen } from './helpers.js';

describe('tokenUsage', () => {
  it('reads the common usage shapes, on the response or in its usage field', () => {
    // AI SDK generateText result / OpenAI Agents
    expect(
      tokenUsage({ text: 'x', usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 } }),
    ).toEqual({
      inputTokens: 120,
      outputTokens: 30,
    });
    // AI SDK results keep the sum over steps in totalUsage
    expect(
      tokenUsage({
        usage: { inputTokens: 10, outputTokens: 1 },
        totalUsage: { inputTokens: 25, outputTokens: 4 },
      }),
    ).toEqual({ inputTokens: 25, outputTokens: 4 });
    // LanguageModelV4 provider result
    expect(
      tokenUsage({
        content: [],
        usage: {
          inputTokens: { total: 900, noCache: 100, cacheRead: 800, cacheWrite: 0 },
          outputTokens: { total: 42, text: 40, reasoning: 2 },
        },
      }),
    ).toEqual({ inputTokens: 900, outputTokens: 42 });
    // OpenAI Chat Completions
    expect(
      tokenUsage({ choices: [], usage: { prompt_tokens: 55, completion_tokens: 7, total_tokens: 62 } }),
    ).toEqual({ inputTokens: 55, outputTokens: 7 });
    // Anthropic Messages (cached input counted: a repeated request reads it again)
    expect(
      tokenUsage({
        content: [],
        usage: {
          input_tokens: 20,
          output_tokens: 9,
          cache_read_input_tokens: 1000,
          cache_creation_input_tokens: 5,
        },
      }),
    ).toEqual({ inputTokens: 1025, outputTokens: 9 });
    // LangChain AIMessage
    expect(
      tokenUsage({ content: 'hi', usage_metadata: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } }),
    ).toEqual({ inputTokens: 3, outputTokens: 2 });
    // Gemini
    expect(tokenUsage({ usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 4 } })).toEqual({
      inputTokens: 8,
      outputTokens: 4,
    });
    // a bare usage object
    expect(tokenUsage({ inputTokens: 1, outputTokens: 2 })).toEqual({ inputTokens: 1, outputTokens: 2 });
  });

  it('is undefined when nothing is reported, and ignores values that are not counts', () => {
    expect(tokenUsage('text')).toBeUndefined();
    expect(tokenUsage(undefined)).toBeUndefined();
    expect(tokenUsage({ text: 'no usage' })).toBeUndefined();
    expect(tokenUsage({ usage: { inputTokens: undefined, outputTokens: undefined } })).toBeUndefined();
    expect(tokenUsage({ usage: { inputTokens: -1, outputTokens: 'many' } })).toBeUndefined();
    expect(tokenUsage({ usage: { prompt_tokens: 4 } })).toEqual({ inputTokens: 4, outputTokens: undefined });
  });
});

describe('response-cache accounting', () => {
  const model = async (request: { q: string }) => ({
    text: `answer to ${request.q}`,
    usage: { prompt_tokens: 400, completion_tokens: 25 },
  });

  it('withResponseCache counts hits and misses and the tokens hits saved, globally and per session', async () => {
    freshCache();
    const on = listen('response-hit', 'response-miss');
    try {
      const call = withResponseCache(model, { cache: new InMemoryResponseCache() });
      const session = new AgentCacheSession({ sessionId: 'chat-1' });
      await call({ q: 'refunds' });
      await session.run(async () => {
        await call({ q: 'refunds' });
        await call({ q: 'refunds' });
        await call({ q: 'shipping' });
      });
      const global = getMetrics().responses;
      expect(global).toMatchObject({
        hits: 2,
        misses: 2,
        coalesced: 0,
        hitRate: 0.5,
        savedInputTokens: 800,
        savedOutputTokens: 50,
      });
      expect(session.getMetrics().responses).toMatchObject({ hits: 2, misses: 1, savedInputTokens: 800 });
      const misses = on.of('response-miss');
      const hits = on.of('response-hit');
      expect(misses).toMatchObject([
        { sessionId: undefined, inputTokens: 400, outputTokens: 25 },
        { sessionId: 'chat-1', inputTokens: 400, outputTokens: 25 },
      ]);
      expect(hits).toMatchObject([
        { sessionId: 'chat-1', key: misses[0]!.key, coalesced: false, inputTokens: 400, outputTokens: 25 },
        { sessionId: 'chat-1', key: misses[0]!.key },
      ]);
      expect(misses[0]!.key).not.toBe(misses[1]!.key);
      expect(misses[0]!.key).toMatch(/^[A-Za-z0-9_-]{16}$/);
      await session.end();
    } finally {
      on.stop();
    }
  });

  it('adds the measured model-call time to savedMs, and persists it with a BackendResponseCache', async () => {
    freshCache();
    const on = listen('response-hit', 'response-miss');
    try {
      const slowModel = async (request: { q: string }) => {
        await new Promise((r) => setTimeout(r, 25));
        return { text: request.q };
      };
      const call = withResponseCache(slowModel, { cache: new InMemoryResponseCache() });
      await call({ q: 'a' });
      await call({ q: 'a' });
      const [miss] = on.of('response-miss');
      expect(miss!.durationMs).toBeGreaterThanOrEqual(20);
      expect(on.of('response-hit')[0]!.savedMs).toBe(miss!.durationMs);
      expect(getMetrics().responses.savedMs).toBe(miss!.durationMs);

      // Entries carry the duration: another process (here: an entry it wrote) saves what its call took.
      const inner = new MemoryBackend();
      const written: BackendEntry[] = [];
      const backend: Backend = Object.assign(Object.create(inner) as MemoryBackend, {
        set: (key: string, entry: BackendEntry) => {
          written.push(entry);
          return inner.set(key, entry);
        },
        get: (key: string) => {
          const entry = inner.get(key);
          return entry && { ...entry, durationMs: 777 };
        },
      });
      const persisted = withResponseCache(slowModel, { cache: new BackendResponseCache(backend) });
      await persisted({ q: 'b' });
      expect(written[0]!.durationMs).toBeGreaterThanOrEqual(20);
      await persisted({ q: 'b' });
      expect(on.of('response-hit').at(-1)!.savedMs).toBe(777);
    } finally {
      on.stop();
    }
  });

  it('counts coalesced requests as hits with the tokens of the shared answer', async () => {
    freshCache();
    let calls = 0;
    const slow = async (request: { q: string }) => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { text: request.q, usage: { input_tokens: 100, output_tokens: 10 } };
    };
    const call = withResponseCache(slow, { cache: new InMemoryResponseCache() });
    await Promise.all([call({ q: 'a' }), call({ q: 'a' }), call({ q: 'a' })]);
    expect(calls).toBe(1);
    expect(getMetrics().responses).toMatchObject({
      hits: 2,
      misses: 1,
      coalesced: 2,
      savedInputTokens: 200,
      savedOutputTokens: 20,
    });
  });

  it('counts bypassed requests and a failed model call as a miss with its error', async () => {
    freshCache();
    const on = listen('response-miss');
    try {
      const failure = new Error('rate limited');
      const call = withResponseCache(
        async (_: { q: string; cachePolicy?: unknown }) => {
          throw failure;
        },
        { cache: new InMemoryResponseCache() },
      );
      await expect(call({ q: 'x' })).rejects.toBe(failure);
      await expect(call({ q: 'x', cachePolicy: { responseCacheEnabled: false } })).rejects.toBe(failure);
      expect(getMetrics().responses).toMatchObject({ hits: 0, misses: 1, bypassed: 1 });
      expect(on.of('response-miss')).toMatchObject([{ error: failure, inputTokens: undefined }]);
    } finally {
      on.stop();
    }
  });

  it('is one mechanism any caching layer can call (recordResponseHit / recordResponseMiss)', async () => {
    freshCache();
    await AgentCacheSession.run({ sessionId: 'mw' }, async (s) => {
      recordResponseMiss({ key: 'k1', durationMs: 800, response: { inputTokens: 1000, outputTokens: 80 } });
      // A replayed stream: only its usage is at hand.
      recordResponseHit({
        key: 'k1',
        durationMs: 1,
        response: { inputTokens: { total: 1000 }, outputTokens: { total: 80 } },
      });
      expect(s.getMetrics().responses).toMatchObject({
        hits: 1,
        misses: 1,
        savedInputTokens: 1000,
        savedOutputTokens: 80,
      });
    });
    expect(getMetrics().responses.savedOutputTokens).toBe(80);
  });
});

describe('prefix-break events', () => {
  it('publishes each break of the cacheable prompt prefix, with the session', async () => {
    freshCache();
    const on = listen('prefix-break');
    try {
      const prompt = (system: string): PromptSegment[] => [
        { id: 'tools', cacheable: true, content: ['search'] },
        { id: 'system', cacheable: true, content: system },
        { id: 'user', cacheable: false, content: 'q' },
      ];
      const guard = new PromptCacheGuard();
      const session = new AgentCacheSession({ sessionId: 'p' });
      await session.run(() => {
        guard.observe(prompt('You are helpful.'));
        guard.observe(prompt('You are helpful.'));
        guard.observe(prompt('You are helpful. Now: 2025-01-01T10:00:00Z'), { label: 'turn 3' });
      });
      expect(on.of('prefix-break')).toEqual([
        {
          sessionId: 'p',
          firstChangedId: 'system',
          segmentIdsBefore: ['tools', 'system'],
          segmentIdsAfter: ['tools', 'system'],
          contentOnlyChange: true,
          label: 'turn 3',
          middleware: undefined,
        },
      ]);
    } finally {
      on.stop();
    }
  });
});
