import {
  AgentCacheSession,
  BackendResponseCache,
  DiskBackend,
  InMemoryResponseCache,
  PromptCacheGuard,
  PromptPrefixViolationError,
  type ResponseCacheEvent,
} from 'agent-cache';
import { agentCacheMiddleware, type RecordedResponse } from 'agent-cache/ai-sdk';
import { generateText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { cacheFile, tempDir } from '../../backends/fixtures/temp.js';
import { deferred, flush } from '../../helpers/deferred.js';
import { recordingLogger } from '../../helpers/logger.js';
import { type GenerateResult, textResult, usage } from './fixtures.js';

function counted(answer: (n: number) => GenerateResult | Promise<GenerateResult>, modelId = 'mock-model-id') {
  let n = 0;
  return new MockLanguageModelV4({ modelId, doGenerate: async () => answer(++n) });
}

describe('agentCacheMiddleware: generate', () => {
  const dir = tempDir();

  it('answers an identical call from the cache, marked as a hit with its key', async () => {
    const model = counted((n) => textResult(`answer ${n}`));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const first = await generateText({ model: cached, prompt: 'What is the capital of France?' });
    const second = await generateText({ model: cached, prompt: 'What is the capital of France?' });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(first.text).toBe('answer 1');
    expect(second.text).toBe('answer 1');
    expect(first.providerMetadata?.agentCache).toBeUndefined();
    const marker = second.providerMetadata?.agentCache as { hit: boolean; key: string };
    expect(marker.hit).toBe(true);
    expect(marker.key).toMatch(/^[0-9a-f]{64}$/);
    // The usage of the call that produced the answer is replayed; so is its response metadata.
    expect(second.usage.inputTokens).toBe(10);
    expect(second.response.id).toBe('resp-1');
    expect(second.response.timestamp).toEqual(new Date(0));
  });

  it('keys on the prompt, the settings, the provider options and the model; not on headers or the signal', async () => {
    const model = counted((n) => textResult(`answer ${n}`));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const ask = (extra: Partial<Parameters<typeof generateText>[0]> = {}) =>
      generateText({ model: cached, prompt: 'hello', ...extra } as Parameters<typeof generateText>[0]);
    await ask();
    await ask({ headers: { 'x-request-id': 'r-2' }, abortSignal: new AbortController().signal });
    expect(model.doGenerateCalls).toHaveLength(1);
    await ask({ prompt: 'hello again' });
    await ask({ temperature: 0.3 });
    await ask({ providerOptions: { openai: { user: 'u-1' } } });
    await ask({ system: 'Be brief.' });
    expect(model.doGenerateCalls).toHaveLength(5);

    // Another model behind a middleware sharing the cache never gets this model's answers.
    const cache = new InMemoryResponseCache<RecordedResponse>();
    const a = counted(() => textResult('from a'), 'model-a');
    const b = counted(() => textResult('from b'), 'model-b');
    await generateText({
      model: wrapLanguageModel({ model: a, middleware: agentCacheMiddleware({ cache }) }),
      prompt: 'x',
    });
    const fromB = await generateText({
      model: wrapLanguageModel({ model: b, middleware: agentCacheMiddleware({ cache }) }),
      prompt: 'x',
    });
    expect(fromB.text).toBe('from b');
  });

  it('leaves the `exclude` paths out of the key', async () => {
    const model = counted((n) => textResult(`answer ${n}`));
    const cached = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ exclude: ['providerOptions.openai.user', 'seed'] }),
    });
    await generateText({
      model: cached,
      prompt: 'p',
      seed: 1,
      providerOptions: { openai: { user: 'alice' } },
    });
    const second = await generateText({
      model: cached,
      prompt: 'p',
      seed: 2,
      providerOptions: { openai: { user: 'bob' } },
    });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(second.text).toBe('answer 1');
    // What the model receives is untouched.
    expect(model.doGenerateCalls[0]!.providerOptions).toEqual({ openai: { user: 'alice' } });
  });

  it('calls the model once for identical concurrent calls', async () => {
    const gate = deferred();
    const model = counted(async (n) => {
      await gate.promise;
      return textResult(`answer ${n}`);
    });
    const events: ResponseCacheEvent[] = [];
    const cached = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ onEvent: (e) => events.push(e) }),
    });
    const calls = Array.from({ length: 5 }, () => generateText({ model: cached, prompt: 'same' }));
    await flush();
    gate.resolve();
    const results = await Promise.all(calls);
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(results.map((r) => r.text)).toEqual(Array(5).fill('answer 1'));
    expect(results.filter((r) => r.providerMetadata?.agentCache !== undefined)).toHaveLength(4);
    expect(events.filter((e) => e.type === 'cache.hit' && e.coalesced)).toHaveLength(4);
    expect(events.filter((e) => e.type === 'cache.miss')).toHaveLength(1);
  });

  it('never stores a failed call: the rejection reaches every waiter, the next call tries again', async () => {
    const gate = deferred();
    const model = counted(async (n) => {
      if (n === 1) {
        await gate.promise;
        throw new Error('rate limited');
      }
      return textResult(`answer ${n}`);
    });
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const calls = [1, 2].map(() => generateText({ model: cached, prompt: 'p', maxRetries: 0 }));
    await flush();
    gate.resolve();
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const retry = await generateText({ model: cached, prompt: 'p', maxRetries: 0 });
    expect(retry.text).toBe('answer 2');
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('does not store an answer that finished with an error or was interrupted', async () => {
    const model = counted((n) =>
      textResult(`partial ${n}`, {
        finishReason: { unified: n === 1 ? 'error' : 'interrupted', raw: undefined },
      }),
    );
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    await generateText({ model: cached, prompt: 'p' });
    await generateText({ model: cached, prompt: 'p' });
    await generateText({ model: cached, prompt: 'p' });
    expect(model.doGenerateCalls).toHaveLength(3);
  });

  it('passes through when the policy turns the cache off, for every call or for one', async () => {
    const model = counted((n) => textResult(`answer ${n}`));
    const off = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ policy: { responseCacheEnabled: false } }),
    });
    await generateText({ model: off, prompt: 'p' });
    await generateText({ model: off, prompt: 'p' });
    expect(model.doGenerateCalls).toHaveLength(2);

    const on = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    await generateText({ model: on, prompt: 'q' });
    const fresh = await generateText({
      model: on,
      prompt: 'q',
      providerOptions: { agentCache: { responseCacheEnabled: false } },
    });
    expect(fresh.providerMetadata?.agentCache).toBeUndefined();
    // The per-call setting is not key material: with it removed, the stored answer is found.
    const hit = await generateText({ model: on, prompt: 'q' });
    expect(hit.providerMetadata?.agentCache).toBeDefined();
    expect(model.doGenerateCalls).toHaveLength(4);
  });

  it('calls the model when the cache fails, warning once, and never fails the call', async () => {
    const logger = recordingLogger();
    const broken = {
      get: async () => {
        throw new Error('disk gone');
      },
      put: async () => {
        throw new Error('disk gone');
      },
    };
    const model = counted((n) => textResult(`answer ${n}`));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware({ cache: broken, logger }) });
    const a = await generateText({ model: cached, prompt: 'p' });
    const b = await generateText({ model: cached, prompt: 'p' });
    expect([a.text, b.text]).toEqual(['answer 1', 'answer 2']);
    expect(logger.messages.filter((m) => m.includes('response cache failed'))).toHaveLength(1);
  });

  it('serves a stored answer after a restart from a DiskBackend', async () => {
    const path = cacheFile(dir);
    const first = new DiskBackend(path);
    const model = counted((n) => textResult(`answer ${n}`));
    await generateText({
      model: wrapLanguageModel({
        model,
        middleware: agentCacheMiddleware({ cache: new BackendResponseCache(first) }),
      }),
      prompt: 'persist me',
    });
    await first.close();
    const reopened = new DiskBackend(path);
    try {
      const again = await generateText({
        model: wrapLanguageModel({
          model,
          middleware: agentCacheMiddleware({ cache: new BackendResponseCache(reopened) }),
        }),
        prompt: 'persist me',
      });
      expect(again.text).toBe('answer 1');
      expect(again.response.timestamp).toBeInstanceOf(Date);
      expect(again.providerMetadata?.agentCache).toMatchObject({ hit: true });
      expect(model.doGenerateCalls).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });

  it('observes each prompt with the guard, hits included, and raises on a changed prefix', async () => {
    const model = counted((n) => textResult(`answer ${n}`));
    const guard = new PromptCacheGuard({ policy: { protectPromptPrefix: true } });
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware({ guard }) });
    await AgentCacheSession.run({}, async () => {
      await generateText({ model: cached, system: 'You are a support agent.', prompt: 'one' });
      await generateText({ model: cached, system: 'You are a support agent.', prompt: 'one' });
      await generateText({ model: cached, system: 'You are a support agent.', prompt: 'two' });
      await expect(
        generateText({ model: cached, system: `You are a support agent. Now: ${Date.now()}`, prompt: 'two' }),
      ).rejects.toBeInstanceOf(PromptPrefixViolationError);
      expect(guard.events()).toHaveLength(1);
      expect(guard.events()[0]!.firstChangedId).toBe('message:0');
    });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('makes a guard from `policy.protectPromptPrefix` when none is given', async () => {
    const model = counted(() => textResult('ok'));
    const cached = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ policy: { protectPromptPrefix: true } }),
    });
    await generateText({ model: cached, system: 'A', prompt: 'p' });
    await expect(generateText({ model: cached, system: 'B', prompt: 'p' })).rejects.toBeInstanceOf(
      PromptPrefixViolationError,
    );
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => agentCacheMiddleware({ cache: {} as never })).toThrow(/option `cache`/);
    expect(() => agentCacheMiddleware({ exclude: 'seed' as never })).toThrow(/option `exclude`/);
    expect(() => agentCacheMiddleware({ guard: {} as never })).toThrow(TypeError);
  });

  it('keeps its own copy: a caller that edits what it got does not change later hits', async () => {
    const model = counted(() => textResult('original'));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const miss = await cached.doGenerate(params);
    (miss.content[0] as { text: string }).text = 'edited by the first caller';
    const hit = await cached.doGenerate(params);
    (hit.content[0] as { text: string }).text = 'edited by the second caller';
    expect((await cached.doGenerate(params)).content[0]).toEqual({ type: 'text', text: 'original' });
  });

  it('replays usage as recorded', async () => {
    const model = counted(() => textResult('x', { usage: usage(1234, 56) }));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    await generateText({ model: cached, prompt: 'p' });
    const hit = await generateText({ model: cached, prompt: 'p' });
    expect(hit.usage).toMatchObject({ inputTokens: 1234, outputTokens: 56 });
  });
});
