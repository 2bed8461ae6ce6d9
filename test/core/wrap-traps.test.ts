/**
 * The traps of wrapping framework tools by hand, with the frameworks' real objects: two tools named `execute`,
 * tools made per request, and per-call arguments (a tool-call id, a run context) that make every call miss.
 */
import type { LanguageModelV4GenerateResult } from '@ai-sdk/provider';
import { tool as langchainTool } from '@langchain/core/tools';
import { tool as agentsTool, RunContext } from '@openai/agents';
import { AgentCache, AgentCacheInvalidator, getMetrics, MemoryBackend } from 'agent-cache';
import { tool as aiTool, generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freshCache } from '../helpers/fresh.js';

let logger: ReturnType<typeof freshCache>['logger'];
beforeEach(() => {
  logger = freshCache().logger;
});

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};
const finish = (unified: 'stop' | 'tool-calls') => ({ unified, raw: undefined });

/** A scripted model: calls `toolName` with `input` once per step for `calls` steps, then answers. */
function callingModel(toolName: string, input: unknown, calls: number) {
  const steps: LanguageModelV4GenerateResult[] = [];
  for (let i = 0; i < calls; i++) {
    steps.push({
      content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName, input: JSON.stringify(input) }],
      finishReason: finish('tool-calls'),
      usage,
      warnings: [],
    });
  }
  steps.push({
    content: [{ type: 'text', text: 'done' }],
    finishReason: finish('stop'),
    usage,
    warnings: [],
  });
  return new MockLanguageModelV4({ doGenerate: steps });
}

describe('one tool name, two functions', () => {
  it('wrapping two AI SDK tools’ `execute` warns at wrap time, naming the tool and the fix', () => {
    const weather = aiTool({
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => `sunny in ${city}`,
    });
    const news = aiTool({
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => `no news from ${city}`,
    });
    AgentCache()(weather.execute!);
    expect(logger.messages).toEqual([]);
    AgentCache()(news.execute!);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/two different functions .* tool name "execute"/);
    expect(logger.messages[0]).toMatch(/`name` option/);
    expect(logger.messages[0]).toMatch(/agent-cache\/ai-sdk `cacheTools`/);
    AgentCache()(async function execute() {}); // once per name
    expect(logger.messages).toHaveLength(1);
  });

  it('write tools and decorated methods are checked too', () => {
    AgentCacheInvalidator({ resource: 'a' })(async function save(x: number) {
      return x;
    });
    AgentCacheInvalidator({ resource: 'b' })(async function save(y: string) {
      return y.length;
    });
    expect(logger.messages[0]).toMatch(/tool name "save"/);
    // Two classes' `get` methods, decorated (the decorator call a compiler emits for `@AgentCache(...)`).
    const context = { kind: 'method', name: 'get' } as ClassMethodDecoratorContext;
    AgentCache({ resource: 'ticket' })(async (id: string) => ({ id }), context);
    AgentCache({ resource: 'order' })(async (id: string) => ({ id, total: 1 }), context);
    expect(logger.messages[1]).toMatch(/tool name "get"/);
  });

  it('wrapping the same function twice, or two functions under their own names, is silent', () => {
    const lookup = async (q: string) => q.length;
    AgentCache({ name: 'lookup' })(lookup);
    AgentCache({ name: 'lookup' })(lookup);
    AgentCache({ name: 'lookup-v2' })(async (q: string) => q.trim().length);
    expect(logger.messages).toEqual([]);
  });
});

describe('a tool made per request', () => {
  const makeTools = (userId: string, options: { scope?: 'session'; key?: boolean } = {}) => ({
    getOrders: AgentCache({
      resource: 'orders',
      scope: options.scope,
      key: options.key ? (status: string) => [userId, status] : undefined,
    })(async function getOrders(status: string) {
      return `${userId}'s ${status} orders`;
    }),
  });

  it('a global read re-wrapped from the same source warns once: its closures share entries', async () => {
    const alice = makeTools('alice');
    const bob = makeTools('bob');
    makeTools('carol');
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/"getOrders" was wrapped again from the same source/);
    expect(logger.messages[0]).toMatch(/scope: 'session'.*`key` that includes the user/);
    // What it warns about: bob is served alice's orders.
    expect(await alice.getOrders('open')).toBe("alice's open orders");
    expect(await bob.getOrders('open')).toBe("alice's open orders");
  });

  it('is silent when entries are per session, keyed by the user or on another backend', () => {
    const sessionScoped = (user: string) =>
      AgentCache({ scope: 'session' })(async function recentTickets() {
        return user;
      });
    sessionScoped('a');
    sessionScoped('b');
    makeTools('a', { key: true });
    makeTools('b', { key: true });
    // Wrapped again onto another backend (an agent restarted on a new DiskBackend): no entries in common.
    const onBackend = (backend: MemoryBackend) =>
      AgentCache({ backend })(async function searchDocs(q: string) {
        return q;
      });
    onBackend(new MemoryBackend());
    onBackend(new MemoryBackend());
    expect(logger.messages).toEqual([]);
    const shared = new MemoryBackend();
    onBackend(shared);
    expect(logger.messages).toEqual([]);
    onBackend(shared); // two copies on one backend do share entries
    expect(logger.messages[0]).toMatch(/"searchDocs" was wrapped again/);
  });
});

describe('per-call identifiers in the key material', () => {
  it('an AI SDK execute wrapped by hand: every call misses inside generateText, and it says so once', async () => {
    let runs = 0;
    const result = await generateText({
      model: callingModel('weather', { city: 'Paris' }, 3),
      prompt: 'Weather in Paris?',
      stopWhen: stepCountIs(5),
      tools: {
        weather: aiTool({
          inputSchema: z.object({ city: z.string() }),
          execute: AgentCache({ name: 'weather', resource: 'weather' })(
            async ({ city }: { city: string }) => {
              runs++;
              return `sunny in ${city}`;
            },
          ),
        }),
      },
    });
    expect(result.text).toBe('done');
    expect(runs).toBe(3); // the trap: the same input never hits
    expect(getMetrics().tools.weather).toMatchObject({ hits: 0, misses: 3 });
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/key material of weather holds an AI SDK tool-call options object/);
    expect(logger.messages[0]).toMatch(/`cacheTools` from agent-cache\/ai-sdk.*`key: \(input\) => input`/);
  });

  it('the `key` option that the warning names makes the same run hit', async () => {
    let runs = 0;
    await generateText({
      model: callingModel('weather', { city: 'Paris' }, 3),
      prompt: 'Weather in Paris?',
      stopWhen: stepCountIs(5),
      tools: {
        weather: aiTool({
          inputSchema: z.object({ city: z.string() }),
          execute: AgentCache({ name: 'weather2', key: (input: unknown) => input })(
            async ({ city }: { city: string }) => {
              runs++;
              return `sunny in ${city}`;
            },
          ),
        }),
      },
    });
    expect(runs).toBe(1);
    expect(logger.messages).toEqual([]);
  });

  it('an OpenAI Agents execute wrapped by hand: the RunContext is named, with cacheAgentTool', async () => {
    let runs = 0;
    const lookup = agentsTool({
      name: 'lookup_order',
      description: 'Look up an order',
      parameters: z.object({ id: z.string() }),
      execute: AgentCache({ name: 'lookup_order' })(async (input: { id: string }) => {
        runs++;
        return `order ${input.id}`;
      }),
    });
    const context = new RunContext({ user: 'u1' });
    for (const callId of ['c1', 'c2']) {
      const toolCall = {
        type: 'function_call' as const,
        callId,
        name: 'lookup_order',
        arguments: '{"id":"7"}',
      };
      expect(await lookup.invoke(context, toolCall.arguments, { toolCall })).toBe('order 7');
    }
    expect(runs).toBe(2);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(
      /OpenAI Agents `RunContext`.*`cacheAgentTool` from agent-cache\/openai-agents/,
    );
  });

  it('an OpenAI Agents tool call alone is recognised', async () => {
    const fn = AgentCache({ name: 'by_call' })(
      async (_input: string, details: unknown) => details !== undefined,
    );
    await fn('x', { toolCall: { type: 'function_call', callId: 'c9', name: 'by_call', arguments: '"x"' } });
    expect(logger.messages[0]).toMatch(/OpenAI Agents tool call \(`callId`\)/);
  });

  it('a LangChain tool() func wrapped by hand, invoked with ToolCalls: the ToolCall is named', async () => {
    let runs = 0;
    const search = langchainTool(
      AgentCache({ name: 'search' })(async (input: { q: string }) => {
        runs++;
        return `results for ${input.q}`;
      }),
      { name: 'search', description: 'Search', schema: z.object({ q: z.string() }) },
    );
    for (const id of ['call_1', 'call_2']) {
      await search.invoke({ name: 'search', args: { q: 'cats' }, id, type: 'tool_call' });
    }
    expect(runs).toBe(2);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(
      /a LangChain `ToolCall`.*`cacheLangChainTool` from agent-cache\/langchain/,
    );
  });

  it('an adapter that keys on input only and passes per-call context as `this` stays silent', async () => {
    // The pattern the framework adapters use: name the tool as the framework does, call with the context as `this`.
    let runs = 0;
    const cached = AgentCache({ name: 'weather-adapter' })(async function (
      this: { options: { toolCallId: string; messages: unknown[] } },
      input: { city: string },
    ) {
      runs++;
      return `${input.city} (${this.options.toolCallId})`;
    });
    for (const toolCallId of ['a', 'b', 'c']) {
      await cached.call({ options: { toolCallId, messages: [] } }, { city: 'Oslo' });
    }
    expect(runs).toBe(1);
    expect(logger.messages).toEqual([]);
  });

  it('looks only on misses, and only on the first misses of a tool', async () => {
    let keyCalls = 0;
    const square = AgentCache({
      name: 'square',
      key: (n: number) => {
        keyCalls++;
        return n;
      },
    })(async (n: number) => n * n);
    await square(2);
    expect(keyCalls).toBe(2); // the key, and the miss path's look at the material
    await square(2);
    expect(keyCalls).toBe(3); // a hit computes the key only
    for (let n = 0; n < 100; n++) await square(100 + n);
    expect(keyCalls).toBe(3 + 100 + 63); // 64 misses are looked at, then no more
    expect(logger.messages).toEqual([]);
  });
});
