import { AgentCacheSession, getMetrics } from 'agent-cache';
import { agentCacheMiddleware } from 'agent-cache/ai-sdk';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { beforeEach, describe, expect, it } from 'vitest';
import { deferred, flush } from '../../helpers/deferred.js';
import { freshCache } from '../../helpers/fresh.js';
import { listen } from '../../observe/helpers.js';
import { stream, textParts, textResult, usage } from './fixtures.js';

describe('agentCacheMiddleware: metrics and events', () => {
  beforeEach(() => {
    freshCache();
  });

  it('counts generate hits and misses, and the tokens the hits saved, globally and per session', async () => {
    const model = new MockLanguageModelV4({
      doGenerate: async () => textResult('hi', { usage: usage(900, 40) }),
    });
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const events = listen('response-hit', 'response-miss');
    try {
      const session = await AgentCacheSession.run({}, async (s) => {
        await generateText({ model: cached, prompt: 'p' });
        await generateText({ model: cached, prompt: 'p' });
        await generateText({ model: cached, prompt: 'p' });
        return s.getMetrics();
      });
      expect(session.responses).toMatchObject({
        hits: 2,
        misses: 1,
        savedInputTokens: 1800,
        savedOutputTokens: 80,
      });
      expect(getMetrics().responses).toMatchObject({ hits: 2, misses: 1, savedInputTokens: 1800 });
      expect(events.of('response-miss')).toEqual([
        expect.objectContaining({ inputTokens: 900, outputTokens: 40, sessionId: expect.any(String) }),
      ]);
      expect(events.of('response-hit')).toHaveLength(2);
      expect(events.of('response-hit')[0]).toMatchObject({ inputTokens: 900, coalesced: false });
      // Events name the entry by a short hash, never by the request.
      expect(JSON.stringify(events.seen)).not.toContain('"p"');
    } finally {
      events.stop();
    }
  });

  it('counts stream misses when they end (with their usage) and hits with the recorded usage', async () => {
    const model = new MockLanguageModelV4({ doStream: async () => stream(textParts('a b c')) });
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const events = listen('response-hit', 'response-miss');
    try {
      const metrics = await AgentCacheSession.run({}, async (s) => {
        await streamText({ model: cached, prompt: 'p' }).consumeStream();
        await streamText({ model: cached, prompt: 'p' }).consumeStream();
        return s.getMetrics().responses;
      });
      expect(metrics).toMatchObject({ hits: 1, misses: 1, savedInputTokens: 12, savedOutputTokens: 7 });
      expect(events.of('response-miss')[0]).toMatchObject({ inputTokens: 12, outputTokens: 7 });
      expect(events.of('response-miss')[0]!.sessionId).toBe(events.of('response-hit')[0]!.sessionId);
    } finally {
      events.stop();
    }
  });

  it('counts the callers that joined an identical call as coalesced hits', async () => {
    const gate = deferred();
    const model = new MockLanguageModelV4({
      doGenerate: async () => {
        await gate.promise;
        return textResult('x', { usage: usage(100, 10) });
      },
    });
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const calls = [1, 2, 3].map(() => generateText({ model: cached, prompt: 'same' }));
    await flush();
    gate.resolve();
    await Promise.all(calls);
    expect(getMetrics().responses).toMatchObject({ hits: 2, coalesced: 2, misses: 1, savedInputTokens: 200 });
  });

  it('counts a call the policy keeps from the cache as bypassed', async () => {
    const model = new MockLanguageModelV4({ doGenerate: async () => textResult('x') });
    const cached = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ policy: { responseCacheEnabled: false } }),
    });
    await generateText({ model: cached, prompt: 'p' });
    expect(getMetrics().responses).toMatchObject({ hits: 0, misses: 0, bypassed: 1 });
  });
});
