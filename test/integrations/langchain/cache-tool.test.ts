import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { DynamicStructuredTool, DynamicTool, StructuredTool, tool } from '@langchain/core/tools';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';
import {
  AgentCacheInvalidator,
  AgentCacheSession,
  AgentLoopDetectedError,
  configure,
  DiskBackend,
  getMetrics,
} from 'agent-cache';
import { cacheLangChainTool } from 'agent-cache/langchain';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { cacheFile, tempDir } from '../../backends/fixtures/temp.js';
import { freshCache } from '../../helpers/fresh.js';

let logger: ReturnType<typeof freshCache>['logger'];
beforeEach(() => {
  logger = freshCache().logger;
});
const dir = tempDir();

const toolCall = (name: string, args: Record<string, unknown>, id: string) =>
  ({ name, args, id, type: 'tool_call' }) as const;

function weatherTool(runs: { n: number }, name = 'get_weather') {
  return tool(
    async ({ city }) => {
      runs.n++;
      return `sunny in ${city}`;
    },
    { name, description: 'Weather for a city', schema: z.object({ city: z.string() }) },
  );
}

describe('cacheLangChainTool', () => {
  it('hits on the input, with plain input or a ToolCall; the ToolMessage carries the current call id', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), { resource: 'weather', ttl: '10m' });
    expect(await weather.invoke({ city: 'Paris' })).toBe('sunny in Paris');
    const first = await weather.invoke(toolCall('get_weather', { city: 'Paris' }, 'call_1'));
    const second = await weather.invoke(toolCall('get_weather', { city: 'Paris' }, 'call_2'));
    expect(runs.n).toBe(1);
    expect(first).toBeInstanceOf(ToolMessage);
    expect(second).toBeInstanceOf(ToolMessage);
    expect((first as ToolMessage).tool_call_id).toBe('call_1');
    expect((second as ToolMessage).tool_call_id).toBe('call_2');
    expect((second as ToolMessage).content).toBe('sunny in Paris');
    await weather.invoke({ city: 'Rome' });
    expect(runs.n).toBe(2);
    expect(getMetrics().tools.get_weather).toMatchObject({ hits: 2, misses: 2 });
    expect(logger.messages).toEqual([]);
  });

  it('returns a tool of the same kind: class, name, schema, description, and bindTools sees it as before', async () => {
    const runs = { n: 0 };
    const original = weatherTool(runs);
    const weather = cacheLangChainTool(original, {});
    expect(weather).toBeInstanceOf(DynamicStructuredTool);
    expect(weather).toBeInstanceOf(StructuredTool);
    expect(weather.name).toBe('get_weather');
    expect(weather.description).toBe(original.description);
    expect(weather.schema).toBe(original.schema);
    expectTypeOf(weather).toEqualTypeOf(original);
    const model = new FakeStreamingChatModel({});
    const bound = model.bindTools([weather]);
    expect(bound).toBeDefined();
    const stringTool = cacheLangChainTool(
      new DynamicTool({ name: 'echo', description: 'Echo', func: async (input: string) => `echo ${input}` }),
      { key: (input) => input.trim() },
    );
    expect(stringTool).toBeInstanceOf(DynamicTool);
    expect(await stringTool.invoke('hi')).toBe('echo hi');
    expect(await stringTool.invoke('hi ')).toBe('echo hi');
  });

  it('the spec’s functions receive the parsed input, typed by the tool’s schema', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), {
      resource: (input) => {
        expectTypeOf(input).toEqualTypeOf<{ city: string }>();
        return `weather:${input.city.toLowerCase()}`;
      },
      key: (input) => input.city.toLowerCase(),
    });
    await weather.invoke({ city: 'Paris' });
    await weather.invoke({ city: 'PARIS' });
    expect(runs.n).toBe(1);
  });

  it('a write re-executes the reads it affects', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), { resource: (input) => `weather:${input.city}` });
    const report = cacheLangChainTool(
      tool(async ({ city }) => `reported ${city}`, {
        name: 'report_storm',
        description: 'Report a storm',
        schema: z.object({ city: z.string() }),
      }),
      { invalidates: (input) => `weather:${input.city}` },
    );
    await weather.invoke({ city: 'Paris' });
    await weather.invoke({ city: 'Rome' });
    await report.invoke(toolCall('report_storm', { city: 'Paris' }, 'c1'));
    await weather.invoke({ city: 'Paris' });
    await weather.invoke({ city: 'Rome' });
    expect(runs.n).toBe(3);
    // The core's own writes reach LangChain tools too.
    await AgentCacheInvalidator({ resource: 'weather:Rome' })(async function storm() {})();
    await weather.invoke({ city: 'Rome' });
    expect(runs.n).toBe(4);
  });

  it('errors are never cached', async () => {
    let attempts = 0;
    const flaky = cacheLangChainTool(
      tool(
        async ({ q }) => {
          attempts++;
          if (attempts === 1) throw new Error('search backend down');
          return `results for ${q}`;
        },
        { name: 'search', description: 'Search', schema: z.object({ q: z.string() }) },
      ),
      {},
    );
    await expect(flaky.invoke({ q: 'cats' })).rejects.toThrow('search backend down');
    expect(await flaky.invoke({ q: 'cats' })).toBe('results for cats');
    expect(await flaky.invoke({ q: 'cats' })).toBe('results for cats');
    expect(attempts).toBe(2);
  });

  it('a tool that returns its own ToolMessage: a hit is a ToolMessage with the current id, also from disk', async () => {
    const backend = new DiskBackend(cacheFile(dir));
    configure({ backend });
    try {
      let runs = 0;
      const lookup = cacheLangChainTool(
        tool(
          async ({ id }, config) => {
            runs++;
            return new ToolMessage({
              content: `order ${id}: shipped`,
              tool_call_id: config.toolCall?.id ?? 'none',
              artifact: { id, carrier: 'DHL' },
            });
          },
          { name: 'lookup_order', description: 'Order status', schema: z.object({ id: z.string() }) },
        ),
        {},
      );
      const a = await lookup.invoke(toolCall('lookup_order', { id: '7' }, 'call_a'));
      const b = await lookup.invoke(toolCall('lookup_order', { id: '7' }, 'call_b'));
      expect(runs).toBe(1);
      expect(a).toBeInstanceOf(ToolMessage);
      expect(b).toBeInstanceOf(ToolMessage);
      expect((a as ToolMessage).tool_call_id).toBe('call_a');
      expect((b as ToolMessage).tool_call_id).toBe('call_b');
      expect((b as ToolMessage).artifact).toEqual({ id: '7', carrier: 'DHL' });
    } finally {
      await backend.close();
    }
  });

  it('content_and_artifact tools keep their artifact on a hit', async () => {
    let runs = 0;
    const search = cacheLangChainTool(
      tool(
        async ({ q }) => {
          runs++;
          return [`2 results for ${q}`, { ids: [1, 2] }];
        },
        {
          name: 'search_docs',
          description: 'Search',
          schema: z.object({ q: z.string() }),
          responseFormat: 'content_and_artifact',
        },
      ),
      {},
    );
    await search.invoke(toolCall('search_docs', { q: 'x' }, '1'));
    const hit = (await search.invoke(toolCall('search_docs', { q: 'x' }, '2'))) as ToolMessage;
    expect(runs).toBe(1);
    expect(hit.content).toBe('2 results for x');
    expect(hit.artifact).toEqual({ ids: [1, 2] });
    expect(hit.tool_call_id).toBe('2');
  });

  it('an async-generator tool has its events replayed on a hit; a direct output is never stored', async () => {
    let runs = 0;
    const progress = cacheLangChainTool(
      tool(
        async function* ({ n }) {
          runs++;
          for (let i = 1; i <= n; i++) yield { step: i };
          return `done ${n}`;
        },
        { name: 'count', description: 'Count', schema: z.object({ n: z.number() }) },
      ),
      {},
    );
    const events: unknown[] = [];
    const callbacks = [{ handleToolEvent: (chunk: unknown) => void events.push(chunk) }];
    expect(await progress.invoke({ n: 2 }, { callbacks })).toBe('done 2');
    expect(await progress.invoke({ n: 2 }, { callbacks })).toBe('done 2');
    expect(runs).toBe(1);
    expect(events).toEqual([{ step: 1 }, { step: 2 }, { step: 1 }, { step: 2 }]);

    let directRuns = 0;
    const direct = cacheLangChainTool(
      tool(
        async () => {
          directRuns++;
          return { lc_direct_tool_output: true, goto: 'next-node' };
        },
        { name: 'route', description: 'Route', schema: z.object({}) },
      ),
      {},
    );
    expect(await direct.invoke({})).toEqual({ lc_direct_tool_output: true, goto: 'next-node' });
    await direct.invoke({});
    expect(directRuns).toBe(2);
  });

  it('per-session isolation', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), { scope: 'session' });
    await AgentCacheSession.run({ sessionId: 'A' }, async () => {
      await weather.invoke({ city: 'Oslo' });
      await weather.invoke(toolCall('get_weather', { city: 'Oslo' }, 'x'));
    });
    await AgentCacheSession.run({ sessionId: 'B' }, () => weather.invoke({ city: 'Oslo' }));
    expect(runs.n).toBe(2);
  });

  it('an aborted signal rejects the call', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), {});
    await weather.invoke({ city: 'Oslo' });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(weather.invoke({ city: 'Oslo' }, { signal: controller.signal })).rejects.toThrow();
  });

  it('wrapping the same tool twice is silent; bad input is a TypeError', () => {
    const original = weatherTool({ n: 0 }, 'twice');
    cacheLangChainTool(original, {});
    cacheLangChainTool(original, { ttl: '1m' });
    expect(logger.messages).toEqual([]);
    expect(() => cacheLangChainTool({} as StructuredTool, {})).toThrow(TypeError);
    expect(() => cacheLangChainTool(original, { resource: 42 as never })).toThrow(/twice.*resource/);
  });
});

describe('cacheLangChainTool inside an agent loop', () => {
  /** The agent loop of LangChain core: the model asks for tools, their ToolMessages go back, until it answers. */
  async function runAgent(
    model: FakeStreamingChatModel,
    tools: Record<string, { invoke(call: unknown): Promise<unknown> }>,
    turns: number,
  ): Promise<BaseMessage[]> {
    const messages: BaseMessage[] = [new HumanMessage('What is the weather in Paris?')];
    for (let turn = 0; turn < turns; turn++) {
      const reply = await model.invoke(messages);
      messages.push(reply);
      if (!reply.tool_calls?.length) break;
      for (const call of reply.tool_calls)
        messages.push((await tools[call.name]!.invoke(call)) as ToolMessage);
    }
    return messages;
  }

  it('repeated work is executed once, and a stuck agent is stopped by loop detection', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), { resource: 'weather' });
    // A model that keeps asking for the same tool call: a stuck agent.
    const stuck = new FakeStreamingChatModel({
      chunks: [
        new AIMessageChunk({
          content: '',
          tool_calls: [{ name: 'get_weather', args: { city: 'Paris' }, id: 'call_1', type: 'tool_call' }],
        }),
      ],
    });
    const session = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 3 });
    const error = await session
      .run(() => runAgent(stuck, { get_weather: weather }, 10))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentLoopDetectedError);
    expect(error).toMatchObject({ kind: 'repeat', toolName: 'get_weather', args: [{ city: 'Paris' }] });
    expect(runs.n).toBe(1);
    expect(session.getMetrics().tools.get_weather).toMatchObject({ hits: 2, misses: 1, loopDetections: 1 });
  });

  it('a healthy run answers from the tool results', async () => {
    const runs = { n: 0 };
    const weather = cacheLangChainTool(weatherTool(runs), {});
    const model = new FakeStreamingChatModel({ responses: [new AIMessage('It is sunny.')] });
    const messages = await runAgent(model, { get_weather: weather }, 3);
    expect(messages.at(-1)?.content).toBe('It is sunny.');
  });
});
