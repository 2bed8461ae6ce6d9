import { BaseCache } from '@langchain/core/caches';
import { AIMessage, AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import type { ChatGeneration } from '@langchain/core/outputs';
import { FakeChatModel, FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { type Backend, DiskBackend, getMetrics, MemoryBackend } from 'agent-cache';
import { AgentCacheLangChainCache } from 'agent-cache/langchain';
import { RedisBackend } from 'agent-cache/redis';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { REDIS_URL, redisOrSkip } from '../../backends/fixtures/redis.js';
import { cacheFile, tempDir } from '../../backends/fixtures/temp.js';
import { freshCache } from '../../helpers/fresh.js';

let logger: ReturnType<typeof freshCache>['logger'];
beforeEach(() => {
  logger = freshCache().logger;
});
const dir = tempDir();

/** A fake chat model that answers with one tool call and reports its usage, as real providers do. */
class ToolCallingFake extends FakeChatModel {
  calls = 0;
  override async _generate() {
    this.calls++;
    const message = new AIMessage({
      content: '',
      id: `msg_${this.calls}`,
      tool_calls: [
        { name: 'get_weather', args: { city: 'Paris' }, id: `call_${this.calls}`, type: 'tool_call' },
      ],
      usage_metadata: { input_tokens: 120, output_tokens: 15, total_tokens: 135 },
      response_metadata: { finish_reason: 'tool_calls', model_name: 'fake-1' },
    });
    return { generations: [{ text: '', message, generationInfo: { finish_reason: 'tool_calls' } }] };
  }
}

describe('AgentCacheLangChainCache', () => {
  it('is a BaseCache: a repeated prompt is answered without calling the model', async () => {
    const cache = new AgentCacheLangChainCache();
    expect(cache).toBeInstanceOf(BaseCache);
    expectTypeOf(cache).toMatchTypeOf<BaseCache>();
    const model = new FakeListChatModel({ responses: ['first', 'second', 'third'], cache });
    expect((await model.invoke('hello')).content).toBe('first');
    const again = await model.invoke('hello');
    expect(again.content).toBe('first');
    expect(again).toBeInstanceOf(AIMessage);
    expect((await model.invoke('another prompt')).content).toBe('second');
    expect(model.i).toBe(2);
    expect(getMetrics().responses).toMatchObject({ hits: 1, misses: 2 });
  });

  it('a hit keeps tool calls, usage, ids and metadata; what LangChain does to it never reaches the store', async () => {
    const cache = new AgentCacheLangChainCache();
    const model = new ToolCallingFake({ cache });
    await model.invoke([new HumanMessage('Weather in Paris?')]);
    const hit = await model.invoke([new HumanMessage('Weather in Paris?')]);
    expect(model.calls).toBe(1);
    expect(hit).toBeInstanceOf(AIMessage);
    expect(hit.tool_calls).toEqual([
      { name: 'get_weather', args: { city: 'Paris' }, id: 'call_1', type: 'tool_call' },
    ]);
    expect(hit.id).toBe('msg_1');
    // LangChain itself reports a cached call as using no tokens ...
    expect(hit.usage_metadata).toEqual({ input_tokens: 0, output_tokens: 0, total_tokens: 0 });
    // ... while the cache keeps the real usage: what the hit saved.
    expect(getMetrics().responses).toMatchObject({ hits: 1, savedInputTokens: 120, savedOutputTokens: 15 });
    const llmKey = model._getSerializedCacheKeyParametersForCall({});
    const prompt = 'Human: Weather in Paris?';
    const stored = (await cache.lookup(prompt, llmKey)) as ChatGeneration[];
    expect(stored[0]!.message).toBeInstanceOf(AIMessage);
    expect((stored[0]!.message as AIMessage).usage_metadata).toEqual({
      input_tokens: 120,
      output_tokens: 15,
      total_tokens: 135,
    });
    expect(stored[0]!.generationInfo).toEqual({ finish_reason: 'tool_calls' });
    expect(stored[0]!.message.response_metadata).toMatchObject({ model_name: 'fake-1' });
  });

  it('after a restart (a new DiskBackend on the same file) a hit is a real AIMessage', async () => {
    const path = cacheFile(dir);
    const before = new DiskBackend(path);
    await new ToolCallingFake({ cache: new AgentCacheLangChainCache({ backend: before }) }).invoke('Paris?');
    await before.close();

    const after = new DiskBackend(path);
    try {
      const model = new ToolCallingFake({ cache: new AgentCacheLangChainCache({ backend: after }) });
      const hit = await model.invoke('Paris?');
      expect(model.calls).toBe(0);
      expect(hit).toBeInstanceOf(AIMessage);
      expect(AIMessage.isInstance(hit)).toBe(true);
      expect(hit.tool_calls?.[0]).toMatchObject({
        name: 'get_weather',
        args: { city: 'Paris' },
        id: 'call_1',
      });
    } finally {
      await after.close();
    }
  });

  it('after a restart (a new RedisBackend on the same prefix) a hit is a real AIMessage', async () => {
    if (!(await redisOrSkip('AgentCacheLangChainCache on Redis'))) return;
    const prefix = `agent-cache-test:lc:${process.pid}:${Date.now()}:`;
    const before = new RedisBackend({ url: REDIS_URL, prefix });
    await new ToolCallingFake({ cache: new AgentCacheLangChainCache({ backend: before }) }).invoke('Oslo?');
    await before.close();
    const after = new RedisBackend({ url: REDIS_URL, prefix });
    try {
      const model = new ToolCallingFake({ cache: new AgentCacheLangChainCache({ backend: after }) });
      const hit = await model.invoke('Oslo?');
      expect(model.calls).toBe(0);
      expect(hit).toBeInstanceOf(AIMessage);
      expect(hit.tool_calls?.[0]?.id).toBe('call_1');
      await after.clear();
    } finally {
      await after.close();
    }
  });

  it('streamed messages (AIMessageChunk) are stored and come back as AIMessage', async () => {
    const cache = new AgentCacheLangChainCache();
    const chunk = new AIMessageChunk({
      content: 'Sunny',
      tool_calls: [{ name: 'get_weather', args: { city: 'Rome' }, id: 'call_r', type: 'tool_call' }],
    });
    const model = new FakeStreamingChatModel({ chunks: [chunk], cache });
    await model.invoke('Rome?');
    const stored = (await cache.lookup(
      'Human: Rome?',
      model._getSerializedCacheKeyParametersForCall({}),
    )) as ChatGeneration[];
    expect(stored[0]!.message).toBeInstanceOf(AIMessage);
    expect((stored[0]!.message as AIMessage).tool_calls?.[0]?.id).toBe('call_r');
  });

  it('namespace and ttl: separate entries, and an expired generation is a miss', async () => {
    const backend = new MemoryBackend();
    const a = new AgentCacheLangChainCache({ backend, namespace: 'app-a' });
    const b = new AgentCacheLangChainCache({ backend, namespace: 'app-b', ttl: 1 });
    await a.update('p', 'k', [{ text: 'from a' }]);
    expect(await b.lookup('p', 'k')).toBeNull();
    await b.update('p', 'k', [{ text: 'from b' }]);
    expect(await a.lookup('p', 'k')).toEqual([{ text: 'from a' }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(await b.lookup('p', 'k')).toBeNull();
    // Entries that are not generations stored by this class (another writer of the same key) are misses.
    await backend.set(`llm${JSON.stringify('app-a')}${'0'.repeat(64)}`, {
      value: 'x',
      expiresAt: 0,
      tags: [],
      gens: [],
    });
    expect(await a.lookup('anything', 'else')).toBeNull();
  });

  it('a failing backend never fails the model call', async () => {
    const broken = new MemoryBackend();
    const failing: Backend = Object.assign(Object.create(broken) as Backend, {
      get: () => {
        throw new Error('disk on fire');
      },
      set: () => Promise.reject(new Error('disk on fire')),
    });
    const model = new FakeListChatModel({
      responses: ['one', 'two'],
      cache: new AgentCacheLangChainCache({ backend: failing }),
    });
    expect((await model.invoke('hi')).content).toBe('one');
    expect((await model.invoke('hi')).content).toBe('two');
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/could not (look up|store) a generation/);
  });

  it('bad options are TypeErrors', () => {
    expect(() => new AgentCacheLangChainCache({ backend: {} as Backend })).toThrow(TypeError);
    expect(() => new AgentCacheLangChainCache({ ttl: 'later' as never })).toThrow(/ttl/);
    expect(() => new AgentCacheLangChainCache({ namespace: 1 as never })).toThrow(/namespace/);
  });
});
