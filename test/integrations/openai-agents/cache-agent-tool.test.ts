import { Agent, RunContext, Runner, setTracingDisabled, ToolCallError, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { AgentCacheSession, AgentCacheTypeError, AgentLoopDetectedError, getMetrics } from 'agent-cache';
import { cacheAgentTool } from 'agent-cache/openai-agents';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deferred, flush } from '../../helpers/deferred.js';
import { freshCache } from '../../helpers/fresh.js';

beforeAll(() => setTracingDisabled(true));

let calls = 0;
/** One model turn asking for a tool call (a fresh call id each time, as the API would give). */
const call = (name: string, args: Record<string, unknown>) => [
  functionCall(name, args, { callId: `call_${++calls}` }),
];

/** Runs an agent with these tools through the SDK's Runner and a scripted model; the outputs of its tool calls. */
async function run(tools: Parameters<typeof Agent.create>[0]['tools'], ...turns: ReturnType<typeof call>[]) {
  const model = new ScriptedModel([...turns, [assistantMessage('done')]]);
  const agent = new Agent({ name: 'support', instructions: 'Help.', model, tools });
  const result = await new Runner({ tracingDisabled: true }).run(agent, 'go');
  return result.newItems.flatMap((item) =>
    item.type === 'tool_call_output_item' ? [(item as { output: unknown }).output] : [],
  );
}

function weather() {
  const executions: string[] = [];
  const weatherTool = tool({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }, _context, _details) => {
      executions.push(city);
      if (city === 'Atlantis') throw new Error('no such city');
      return `sunny in ${city}`;
    },
  });
  return { weatherTool, executions };
}

describe('cacheAgentTool', () => {
  beforeEach(() => {
    freshCache();
  });

  it('runs repeated work once, across calls and runs, keyed by the parsed input only', async () => {
    const { weatherTool, executions } = weather();
    const cached = cacheAgentTool(weatherTool, { resource: 'weather', ttl: '5m' });
    const first = await run(
      [cached],
      call('get_weather', { city: 'Paris' }),
      call('get_weather', { city: 'Paris' }),
    );
    const second = await run([cached], call('get_weather', { city: 'Paris' }));
    expect([...first, ...second]).toEqual(Array(3).fill('sunny in Paris'));
    expect(executions).toEqual(['Paris']);
    expect(getMetrics().tools.get_weather).toMatchObject({ hits: 2, misses: 1 });
    // The same arguments written differently, with another RunContext and tool call: still a hit.
    const details = { toolCall: functionCall('get_weather', '{}', { callId: 'other' }) };
    expect(await cached.invoke(new RunContext({ user: 'x' }), '{ "city" : "Paris" }', details)).toBe(
      'sunny in Paris',
    );
    expect(executions).toEqual(['Paris']);
  });

  it('keeps the name, parameters and every other property; the Runner treats it as a function tool', async () => {
    const { weatherTool } = weather();
    const cached = cacheAgentTool(weatherTool, {});
    expect(cached).not.toBe(weatherTool);
    for (const key of Object.keys(weatherTool) as (keyof typeof weatherTool)[]) {
      if (key !== 'invoke') expect(cached[key]).toBe(weatherTool[key]);
    }
    expect(cached.type).toBe('function');
    expect(cached.invoke).not.toBe(weatherTool.invoke);
    const agent = new Agent({ name: 'a', tools: [cached] });
    const [definition] = await agent.getAllTools(new RunContext());
    expect(definition).toBe(cached);
  });

  it('re-executes the reads a write affects', async () => {
    const carts = new Map<string, string[]>([['u1', []]]);
    let reads = 0;
    const getCart = cacheAgentTool(
      tool({
        name: 'get_cart',
        description: 'The cart',
        parameters: z.object({ userId: z.string() }),
        execute: async ({ userId }) => {
          reads++;
          return JSON.stringify(carts.get(userId));
        },
      }),
      { resource: ({ userId }) => `cart:${userId}` },
    );
    const addToCart = cacheAgentTool(
      tool({
        name: 'add_to_cart',
        description: 'Adds an item',
        parameters: z.object({ userId: z.string(), item: z.string() }),
        execute: async ({ userId, item }) => {
          carts.get(userId)!.push(item);
          return 'added';
        },
      }),
      { invalidates: ({ userId }) => `cart:${userId}` },
    );
    const outputs = await run(
      [getCart, addToCart],
      call('get_cart', { userId: 'u1' }),
      call('get_cart', { userId: 'u1' }),
      call('add_to_cart', { userId: 'u1', item: 'socks' }),
      call('get_cart', { userId: 'u1' }),
    );
    expect(outputs).toEqual(['[]', '[]', 'added', '["socks"]']);
    expect(reads).toBe(2);
  });

  it('keeps session-scoped results to their session', async () => {
    const seen: string[] = [];
    const whoAmI = cacheAgentTool(
      tool({
        name: 'who_am_i',
        description: 'The user',
        parameters: z.object({}),
        execute: async () => {
          const id = AgentCacheSession.current()?.sessionId ?? 'none';
          seen.push(id);
          return id;
        },
      }),
      { scope: 'session' },
    );
    const turns = () => [call('who_am_i', {}), call('who_am_i', {})] as const;
    const alice = await AgentCacheSession.run({ sessionId: 'alice' }, () => run([whoAmI], ...turns()));
    const bob = await AgentCacheSession.run({ sessionId: 'bob' }, () => run([whoAmI], ...turns()));
    expect(alice).toEqual(['alice', 'alice']);
    expect(bob).toEqual(['bob', 'bob']);
    expect(seen).toEqual(['alice', 'bob']);
  });

  it('stops a loop inside the run', async () => {
    const { weatherTool, executions } = weather();
    const cached = cacheAgentTool(weatherTool, {});
    const outcome = AgentCacheSession.run({ loopDetection: true, maxToolRepeats: 2 }, () =>
      run([cached], ...Array.from({ length: 4 }, () => call('get_weather', { city: 'Lima' }))),
    );
    // The Runner stops the run: its ToolCallError carries the detection.
    const error = await outcome.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolCallError);
    const loop = (error as ToolCallError).error;
    expect(loop).toBeInstanceOf(AgentLoopDetectedError);
    expect(loop).toMatchObject({ kind: 'repeat', toolName: 'get_weather', args: [{ city: 'Lima' }] });
    expect(executions).toEqual(['Lima']);
  });

  it('never stores the text the default errorFunction returns; it counts as a failure for retry storms', async () => {
    const { weatherTool, executions } = weather();
    const cached = cacheAgentTool(weatherTool, {});
    const outputs = await run(
      [cached],
      call('get_weather', { city: 'Atlantis' }),
      call('get_weather', { city: 'Atlantis' }),
    );
    expect(outputs).toEqual(Array(2).fill('An error occurred while running the tool. Please try again.'));
    expect(executions).toEqual(['Atlantis', 'Atlantis']);
    expect(getMetrics().tools.get_weather!.errors).toBe(2);

    const storm = AgentCacheSession.run({ loopDetection: true, maxConsecutiveFailures: 2 }, () =>
      run([cached], ...Array.from({ length: 3 }, () => call('get_weather', { city: 'Atlantis' }))),
    );
    const error = await storm.catch((e: unknown) => e);
    expect((error as ToolCallError).error).toMatchObject({ kind: 'retry_storm', toolName: 'get_weather' });
  });

  it('never stores an error invoke throws (errorFunction: null)', async () => {
    let attempts = 0;
    const strict = tool({
      name: 'fetch_record',
      description: 'A record',
      parameters: z.object({ id: z.string() }),
      errorFunction: null,
      execute: async ({ id }) => {
        if (++attempts === 1) throw new Error('upstream timeout');
        return `record ${id}`;
      },
    });
    const cached = cacheAgentTool(strict, {});
    await expect(cached.invoke(new RunContext(), '{"id":"7"}')).rejects.toThrow('upstream timeout');
    expect(await cached.invoke(new RunContext(), '{"id":"7"}')).toBe('record 7');
    expect(await cached.invoke(new RunContext(), '{"id":"7"}')).toBe('record 7');
    expect(attempts).toBe(2);
  });

  it('lets shouldCache reject what a custom errorFunction returns', async () => {
    let attempts = 0;
    const custom = tool({
      name: 'lookup',
      description: 'Lookup',
      parameters: z.object({ q: z.string() }),
      errorFunction: (_context, error) => `lookup failed: ${(error as Error).message}`,
      execute: async ({ q }) => {
        attempts++;
        if (q === 'bad') throw new Error('nope');
        return `found ${q}`;
      },
    });
    const cached = cacheAgentTool(custom, {
      shouldCache: (result) => !String(result).startsWith('lookup failed'),
    });
    expect(await cached.invoke(new RunContext(), '{"q":"bad"}')).toBe('lookup failed: nope');
    expect(await cached.invoke(new RunContext(), '{"q":"bad"}')).toBe('lookup failed: nope');
    expect(await cached.invoke(new RunContext(), '{"q":"ok"}')).toBe('found ok');
    expect(await cached.invoke(new RunContext(), '{"q":"ok"}')).toBe('found ok');
    expect(attempts).toBe(3);
  });

  it('never stores the text of a call that timed out', async () => {
    let attempts = 0;
    const slow = tool({
      name: 'slow',
      description: 'Slow',
      parameters: z.object({}),
      timeoutMs: 20,
      execute: async () => {
        attempts++;
        if (attempts === 1) await new Promise((resolve) => setTimeout(resolve, 200));
        return 'finally';
      },
    });
    const cached = cacheAgentTool(slow, {});
    expect(await cached.invoke(new RunContext(), '{}')).toBe("Tool 'slow' timed out after 20ms.");
    expect(await cached.invoke(new RunContext(), '{}')).toBe('finally');
    expect(attempts).toBe(2);
  });

  it('shares one execution between identical concurrent calls', async () => {
    const gate = deferred();
    let runs = 0;
    const cached = cacheAgentTool(
      tool({
        name: 'lookup',
        description: 'Lookup',
        parameters: z.object({ q: z.string() }),
        execute: async ({ q }) => {
          runs++;
          await gate.promise;
          return q.toUpperCase();
        },
      }),
      {},
    );
    const pending = [1, 2, 3].map(() => cached.invoke(new RunContext(), '{"q":"abc"}'));
    await flush();
    gate.resolve();
    expect(await Promise.all(pending)).toEqual(['ABC', 'ABC', 'ABC']);
    expect(runs).toBe(1);
  });

  it('runs arguments that are not JSON uncached, leaving the answer to the SDK', async () => {
    const { weatherTool, executions } = weather();
    const cached = cacheAgentTool(weatherTool, {});
    expect(await cached.invoke(new RunContext(), 'not json')).toBe(
      await weatherTool.invoke(new RunContext(), 'not json'),
    );
    expect(executions).toEqual([]);
  });

  it('never warns when used as meant (the same tool wrapped again, new contexts every call)', async () => {
    const { logger } = freshCache();
    const { weatherTool } = weather();
    for (let i = 0; i < 3; i++) {
      const cached = cacheAgentTool(weatherTool, { resource: 'weather' });
      for (let n = 0; n < 70; n++)
        await cached.invoke(new RunContext({ n }), JSON.stringify({ city: `c${n}` }));
    }
    expect(logger.messages).toEqual([]);
  });

  it('rejects what is not a function tool, and a bad spec, with a TypeError', () => {
    const { weatherTool } = weather();
    expect(() => cacheAgentTool({ type: 'hosted_tool' } as never, {})).toThrow(AgentCacheTypeError);
    expect(() => cacheAgentTool(weatherTool, { ttl: 'soon' } as never)).toThrow(
      /cacheAgentTool: get_weather: option `ttl`/,
    );
    expect(() => cacheAgentTool(weatherTool, { invalidates: 'w', ttl: '1m' } as never)).toThrow(TypeError);
  });
});
