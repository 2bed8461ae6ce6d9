import { AgentCacheSession, AgentCacheTypeError, AgentLoopDetectedError, getMetrics } from 'agent-cache';
import { cacheTools } from 'agent-cache/ai-sdk';
import { generateText, isStepCount, streamText, type ToolExecutionOptions, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deferred, flush } from '../../helpers/deferred.js';
import { freshCache } from '../../helpers/fresh.js';
import {
  type GenerateResult,
  type StreamPart,
  stream,
  textParts,
  textResult,
  toolCallParts,
  toolCallResult,
} from './fixtures.js';

/** A model that answers with the scripted results in turn (tool calls, then text), as a provider would. */
function scripted(...results: GenerateResult[]) {
  const queue = [...results];
  return new MockLanguageModelV4({
    doGenerate: async () => {
      const next = queue.shift();
      if (next === undefined) throw new Error('the script ran out');
      return next;
    },
  });
}

function scriptedStream(...answers: StreamPart[][]) {
  const queue = [...answers];
  return new MockLanguageModelV4({
    doStream: async () => {
      const next = queue.shift();
      if (next === undefined) throw new Error('the script ran out');
      return stream(next);
    },
  });
}

const options = (toolCallId: string): ToolExecutionOptions<Record<string, never>> => ({
  toolCallId,
  messages: [{ role: 'user', content: `asked at ${toolCallId}` }],
  abortSignal: new AbortController().signal,
  context: {},
});

function weatherTools() {
  const executions: string[] = [];
  const tools = {
    weather: tool({
      description: 'The weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        executions.push(city);
        return { city, celsius: 21 };
      },
    }),
  };
  return { tools, executions };
}

describe('cacheTools', () => {
  beforeEach(() => {
    freshCache();
  });

  it('runs repeated work once across steps and runs, keyed by the input only', async () => {
    const { tools, executions } = weatherTools();
    const cached = cacheTools(tools, { weather: { resource: 'weather', ttl: '5m' } });
    for (let run = 0; run < 2; run++) {
      const result = await generateText({
        model: scripted(
          toolCallResult('weather', { city: 'Paris' }),
          toolCallResult('weather', { city: 'Paris' }),
          textResult('It is 21°C in Paris.'),
        ),
        tools: cached,
        stopWhen: isStepCount(5),
        prompt: `Weather in Paris? (run ${run})`,
      });
      expect(result.text).toBe('It is 21°C in Paris.');
      const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => r.output));
      expect(outputs).toEqual([
        { city: 'Paris', celsius: 21 },
        { city: 'Paris', celsius: 21 },
      ]);
    }
    // Four calls, each with its own toolCallId and messages: one execution.
    expect(executions).toEqual(['Paris']);
    expect(getMetrics().tools.weather).toMatchObject({ hits: 3, misses: 1 });
  });

  it('never keys on toolCallId, messages, abortSignal or context', async () => {
    const { tools, executions } = weatherTools();
    const cached = cacheTools(tools, { weather: {} });
    const execute = cached.weather.execute!;
    await execute({ city: 'Oslo' }, options('a'));
    await execute({ city: 'Oslo' }, options('b'));
    await execute({ city: 'Rome' }, options('c'));
    expect(executions).toEqual(['Oslo', 'Rome']);
  });

  it('re-executes the reads a write affects', async () => {
    const carts = new Map<string, string[]>([['u1', []]]);
    let reads = 0;
    const tools = {
      getCart: tool({
        inputSchema: z.object({ userId: z.string() }),
        execute: async ({ userId }) => {
          reads++;
          return [...(carts.get(userId) ?? [])];
        },
      }),
      addToCart: tool({
        inputSchema: z.object({ userId: z.string(), item: z.string() }),
        execute: async ({ userId, item }) => {
          carts.get(userId)!.push(item);
          return 'added';
        },
      }),
    };
    const cached = cacheTools(tools, {
      getCart: { resource: ({ userId }) => `cart:${userId}` },
      addToCart: { invalidates: ({ userId }) => `cart:${userId}` },
    });
    const result = await generateText({
      model: scripted(
        toolCallResult('getCart', { userId: 'u1' }),
        toolCallResult('getCart', { userId: 'u1' }),
        toolCallResult('addToCart', { userId: 'u1', item: 'socks' }),
        toolCallResult('getCart', { userId: 'u1' }),
        textResult('Your cart has socks.'),
      ),
      tools: cached,
      stopWhen: isStepCount(10),
      prompt: 'Add socks to my cart',
    });
    const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => r.output));
    expect(outputs).toEqual([[], [], 'added', ['socks']]);
    expect(reads).toBe(2);
    expect(getMetrics().tools.addToCart!.invalidations).toBe(1);
  });

  it('keeps session-scoped results to their session', async () => {
    const seen: string[] = [];
    const tools = {
      profile: tool({
        inputSchema: z.object({}),
        execute: async () => {
          const session = AgentCacheSession.current()?.sessionId ?? 'none';
          seen.push(session);
          return { user: session };
        },
      }),
    };
    const cached = cacheTools(tools, { profile: { scope: 'session' } });
    const ask = () =>
      generateText({
        model: scripted(toolCallResult('profile', {}), toolCallResult('profile', {}), textResult('done')),
        tools: cached,
        stopWhen: isStepCount(5),
        prompt: 'Who am I?',
      });
    const alice = await AgentCacheSession.run({ sessionId: 'alice' }, async () => (await ask()).steps);
    const bob = await AgentCacheSession.run({ sessionId: 'bob' }, async () => (await ask()).steps);
    expect(seen).toEqual(['alice', 'bob']);
    expect(alice[1]!.toolResults[0]!.output).toEqual({ user: 'alice' });
    expect(bob[1]!.toolResults[0]!.output).toEqual({ user: 'bob' });
    // Outside a session a session-scoped tool runs uncached.
    await ask();
    expect(seen).toHaveLength(4);
  });

  it('detects a loop inside the SDK run: the looping call becomes a tool error the model sees', async () => {
    const { tools, executions } = weatherTools();
    const cached = cacheTools(tools, { weather: {} });
    const result = await AgentCacheSession.run({ loopDetection: true, maxToolRepeats: 2 }, () =>
      generateText({
        model: scripted(
          ...Array.from({ length: 4 }, () => toolCallResult('weather', { city: 'Lima' })),
          textResult('giving up'),
        ),
        tools: cached,
        stopWhen: isStepCount(10),
        prompt: 'Weather in Lima?',
      }),
    );
    const errors = result.steps.flatMap((s) => s.content.filter((c) => c.type === 'tool-error'));
    expect(errors).toHaveLength(2);
    const error = (errors[0] as { error: unknown }).error as AgentLoopDetectedError;
    expect(error).toBeInstanceOf(AgentLoopDetectedError);
    expect(error.kind).toBe('repeat');
    expect(error.toolName).toBe('weather');
    // The detection names the input, not the SDK's per-call options.
    expect(error.args).toEqual([{ city: 'Lima' }]);
    expect(executions).toEqual(['Lima']);
  });

  it('records tools left out of the spec for loop detection, but runs them every time', async () => {
    let pings = 0;
    const tools = {
      ping: tool({
        inputSchema: z.object({ host: z.string() }),
        execute: async ({ host }) => `pong ${host} ${++pings}`,
      }),
      weather: weatherTools().tools.weather,
    };
    const cached = cacheTools(tools, { weather: {} });
    const result = await AgentCacheSession.run({ loopDetection: true, maxToolRepeats: 3 }, () =>
      generateText({
        model: scripted(
          ...Array.from({ length: 5 }, () => toolCallResult('ping', { host: 'db' })),
          textResult('stop'),
        ),
        tools: cached,
        stopWhen: isStepCount(10),
        prompt: 'Is the db up?',
      }),
    );
    const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => r.output));
    expect(outputs).toEqual(['pong db 1', 'pong db 2', 'pong db 3']);
    const errors = result.steps.flatMap((s) => s.content.filter((c) => c.type === 'tool-error'));
    expect(errors.map((e) => ((e as { error: unknown }).error as AgentLoopDetectedError).kind)).toEqual([
      'repeat',
      'repeat',
    ]);
    // Not cached, not coalesced: two concurrent identical calls run twice.
    const execute = cached.ping.execute!;
    await Promise.all([execute({ host: 'x' }, options('1')), execute({ host: 'x' }, options('2'))]);
    expect(pings).toBe(5);
  });

  it('never caches a tool error', async () => {
    let attempts = 0;
    const tools = {
      flaky: tool({
        inputSchema: z.object({ id: z.string() }),
        execute: async ({ id }) => {
          if (++attempts === 1) throw new Error('upstream timeout');
          return `record ${id}`;
        },
      }),
    };
    const cached = cacheTools(tools, { flaky: {} });
    const result = await generateText({
      model: scripted(
        toolCallResult('flaky', { id: '7' }),
        toolCallResult('flaky', { id: '7' }),
        toolCallResult('flaky', { id: '7' }),
        textResult('ok'),
      ),
      tools: cached,
      stopWhen: isStepCount(10),
      prompt: 'Fetch record 7',
    });
    const content = result.steps.flatMap((s) =>
      s.content.filter((c) => c.type === 'tool-error' || c.type === 'tool-result'),
    );
    expect(content.map((c) => c.type)).toEqual(['tool-error', 'tool-result', 'tool-result']);
    expect(attempts).toBe(2);
  });

  it('replays preliminary results of an AsyncIterable tool on a hit', async () => {
    let runs = 0;
    const tools = {
      research: tool({
        inputSchema: z.object({ topic: z.string() }),
        async *execute({ topic }) {
          runs++;
          yield { status: 'searching', topic };
          yield { status: 'reading', topic };
          yield { status: 'done', topic, summary: `${topic} is fine` };
        },
      }),
    };
    const cached = cacheTools(tools, { research: {} });
    const direct = cached.research.execute!({ topic: 'x' }, options('direct'));
    // Returned synchronously, as the SDK requires to treat the values as preliminary results.
    expect(typeof (direct as AsyncIterable<unknown>)[Symbol.asyncIterator]).toBe('function');
    const firstValues: unknown[] = [];
    for await (const value of direct as AsyncIterable<unknown>) firstValues.push(value);
    expect(firstValues).toHaveLength(3);

    const seen: { preliminary: unknown[]; final: unknown[] }[] = [];
    for (let run = 0; run < 2; run++) {
      const result = streamText({
        model: scriptedStream(toolCallParts('research', { topic: 'caching' }), textParts('Summary ready.')),
        tools: cached,
        stopWhen: isStepCount(3),
        prompt: 'Research caching',
      });
      const preliminary: unknown[] = [];
      const final: unknown[] = [];
      for await (const part of result.fullStream) {
        if (part.type === 'tool-result') (part.preliminary ? preliminary : final).push(part.output);
      }
      seen.push({ preliminary, final });
    }
    expect(runs).toBe(2); // the direct call, then the first streamText run; the second run is a hit
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]!.preliminary).toHaveLength(3);
    expect(seen[1]!.final).toEqual([{ status: 'done', topic: 'caching', summary: 'caching is fine' }]);
  });

  it('streams the preliminary results of the execution as they come', async () => {
    const step = deferred();
    const tools = {
      slow: tool({
        inputSchema: z.object({}),
        async *execute() {
          yield 'first';
          await step.promise;
          yield 'second';
        },
      }),
    };
    const cached = cacheTools(tools, { slow: {} });
    const iterator = (cached.slow.execute!({}, options('1')) as AsyncIterable<unknown>)[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).value).toBe('first');
    step.resolve();
    expect((await iterator.next()).value).toBe('second');
    expect((await iterator.next()).done).toBe(true);
  });

  it('learns that a plain function returns an AsyncIterable, and streams it from then on', async () => {
    let runs = 0;
    async function* progress() {
      runs++;
      yield 1;
      yield 2;
    }
    const tools = { count: tool({ inputSchema: z.object({ n: z.number() }), execute: () => progress() }) };
    const cached = cacheTools(tools, { count: {} });
    // The first call cannot know before running: it returns the final output.
    expect(await cached.count.execute!({ n: 1 }, options('1'))).toBe(2);
    const hit = cached.count.execute!({ n: 1 }, options('2')) as AsyncIterable<number>;
    const values: number[] = [];
    for await (const value of hit) values.push(value);
    expect(values).toEqual([1, 2]);
    expect(runs).toBe(1);
  });

  it('shares one execution between identical concurrent calls', async () => {
    const gate = deferred();
    let runs = 0;
    const tools = {
      lookup: tool({
        inputSchema: z.object({ q: z.string() }),
        execute: async ({ q }) => {
          runs++;
          await gate.promise;
          return q.toUpperCase();
        },
      }),
    };
    const cached = cacheTools(tools, { lookup: {} });
    const calls = [1, 2, 3].map((i) => cached.lookup.execute!({ q: 'abc' }, options(String(i))));
    await flush();
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['ABC', 'ABC', 'ABC']);
    expect(runs).toBe(1);
  });

  it('keeps every other property of the tools, and the tools it does not wrap as they are', () => {
    const toModelOutput = () => ({ type: 'text' as const, value: 'x' });
    const tools = {
      a: tool({ description: 'A', inputSchema: z.object({}), execute: async () => 1, toModelOutput }),
      b: tool({ description: 'B', inputSchema: z.object({}), outputSchema: z.number() }),
    };
    const cached = cacheTools(tools, { a: {} });
    expect(cached.a.description).toBe('A');
    expect(cached.a.inputSchema).toBe(tools.a.inputSchema);
    expect(cached.a.toModelOutput).toBe(toModelOutput);
    expect(cached.a.execute).not.toBe(tools.a.execute);
    expect(cached.b).toBe(tools.b);
    expect(tools.a.execute).toBeTypeOf('function'); // the original toolset is not modified
  });

  it('rejects a spec that names no tool of the toolset, or a tool without execute, with a TypeError', () => {
    const { tools } = weatherTools();
    const noExecute = { ...tools, client: tool({ inputSchema: z.object({}), outputSchema: z.string() }) };
    // @ts-expect-error: `forecast` is not a tool of this toolset
    expect(() => cacheTools(tools, { forecast: {} })).toThrow(
      /"forecast", which is not a tool of this toolset/,
    );
    try {
      cacheTools(tools, { forecast: {} } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toBeInstanceOf(AgentCacheTypeError);
    }
    expect(() => cacheTools(noExecute, { client: {} })).toThrow(/no execute function/);
    expect(() => cacheTools(tools, { weather: { ttl: 'soon' as never } })).toThrow(
      /cacheTools: spec\.weather: option `ttl`/,
    );
    expect(() => cacheTools(tools, { weather: { invalidates: 'w', ttl: '1s' } as never })).toThrow(
      /spec\.weather: unknown option `ttl` in a write spec/,
    );
    expect(() => cacheTools(tools, { weather: { invalidates: '' } })).toThrow(/option `invalidates`/);
  });
});

describe('cacheTools and the wrap-time warnings', () => {
  it('never warns when used as meant: the toolset wrapped again, calls with new ids every time', async () => {
    const { logger } = freshCache();
    const { tools } = weatherTools();
    const spec = { weather: { resource: 'weather' } } as const;
    for (let request = 0; request < 3; request++) {
      const cached = cacheTools(tools, spec); // a route handler wrapping the module's toolset per request
      for (let call = 0; call < 70; call++) {
        await cached.weather.execute!({ city: `City ${call}` }, options(`req${request}-call${call}`));
      }
    }
    expect(logger.messages).toEqual([]);
  });

  it('warns when two different tools are cached under one toolset name', () => {
    const { logger } = freshCache();
    const search = (source: string) => ({
      search: tool({ inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => `${source}: ${q}` }),
    });
    cacheTools(search('docs'), { search: {} });
    expect(logger.messages).toEqual([]);
    cacheTools(
      { search: tool({ inputSchema: z.object({ q: z.string() }), execute: async () => 'tickets' }) },
      { search: {} },
    );
    expect(logger.messages.join('\n')).toMatch(
      /two different functions are wrapped under the tool name "search"/,
    );
  });
});
