/**
 * The wrapped tools and model keep the AI SDK's own types: what a user's editor shows for the tools, their inputs
 * and outputs, and for generateText's results is the same with and without agent-cache. Checked by `tsc` (npm run
 * check); the runtime assertions only make the file a test.
 */

import { agentCacheMiddleware, type CacheToolsSpec, cacheTools } from 'agent-cache/ai-sdk';
import {
  generateText,
  type InferToolInput,
  type InferToolOutput,
  type LanguageModelMiddleware,
  type Tool,
  tool,
  wrapLanguageModel,
} from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { textResult } from './fixtures.js';

const tools = {
  weather: tool({
    inputSchema: z.object({ city: z.string(), unit: z.enum(['c', 'f']).optional() }),
    execute: async ({ city }) => ({ city, degrees: 21 }),
  }),
  book: tool({
    inputSchema: z.object({ flight: z.string() }),
    execute: async ({ flight }) => `booked ${flight}`,
  }),
};

describe('types', () => {
  it('cacheTools returns exactly the toolset type', () => {
    const cached = cacheTools(tools, {
      weather: {
        resource: (input) => {
          expectTypeOf(input).toEqualTypeOf<{ city: string; unit?: 'c' | 'f' | undefined }>();
          return `weather:${input.city}`;
        },
        key: ({ city }) => city.toLowerCase(),
        shouldCache: (output) => {
          expectTypeOf(output).toEqualTypeOf<{ city: string; degrees: number }>();
          return output.degrees > -100;
        },
      },
      book: { invalidates: ({ flight }) => `flight:${flight}` },
    });
    expectTypeOf(cached).toEqualTypeOf<typeof tools>();
    expectTypeOf<InferToolInput<typeof cached.weather>>().toEqualTypeOf<
      InferToolInput<typeof tools.weather>
    >();
    expectTypeOf<InferToolOutput<typeof cached.book>>().toEqualTypeOf<string>();
    expectTypeOf(cached.weather).toExtend<Tool>();
  });

  it('the spec is checked against the toolset', () => {
    expectTypeOf<CacheToolsSpec<typeof tools>>().toHaveProperty('weather');
    // Type checks only (these calls would also be refused at run time).
    const rejected = () => {
      // @ts-expect-error: not a tool of the toolset
      cacheTools(tools, { flights: {} });
      // @ts-expect-error: a read spec's functions receive the tool's input
      cacheTools(tools, { weather: { resource: (input: { id: number }) => `x${input.id}` } });
      // @ts-expect-error: a write takes `invalidates` and `scope` only
      cacheTools(tools, { book: { invalidates: 'flights', ttl: '1m' } });
    };
    expectTypeOf(rejected).toBeFunction();
  });

  it('generateText sees the same typed tool results', async () => {
    const cached = cacheTools(tools, { weather: {} });
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({ doGenerate: async () => textResult('hi') }),
      middleware: agentCacheMiddleware(),
    });
    const result = await generateText({ model, tools: cached, prompt: 'weather?' });
    const plain = await generateText({ model, tools, prompt: 'weather?' });
    expectTypeOf(result.toolResults).toEqualTypeOf(plain.toolResults);
    expectTypeOf(agentCacheMiddleware()).toEqualTypeOf<LanguageModelMiddleware>();
  });
});
