/**
 * The cached tool keeps the OpenAI Agents SDK's own types: the same FunctionTool type (context, parameters,
 * result), and the spec's functions typed by the tool's input. Checked by `tsc` (npm run check).
 */
import { Agent, type FunctionTool, type RunContext, tool } from '@openai/agents';
import { type AgentToolSpec, cacheAgentTool } from 'agent-cache/openai-agents';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

interface AppContext {
  userId: string;
}

const parameters = z.object({ city: z.string(), days: z.number().optional() });
const forecast = tool<typeof parameters, AppContext>({
  name: 'forecast',
  description: 'Forecast',
  parameters,
  execute: async ({ city }, context?: RunContext<AppContext>) => `${city} for ${context?.context.userId}`,
});

describe('types', () => {
  it('returns exactly the FunctionTool type it wraps', () => {
    const cached = cacheAgentTool(forecast, {
      resource: (input) => {
        expectTypeOf(input).toEqualTypeOf<{ city: string; days?: number | undefined }>();
        return `weather:${input.city}`;
      },
      key: ({ city }) => city.toLowerCase(),
      shouldCache: (result) => {
        expectTypeOf(result).toEqualTypeOf<string>();
        return result !== '';
      },
    });
    expectTypeOf(cached).toEqualTypeOf(forecast);
    expectTypeOf(cached).toExtend<FunctionTool<AppContext, typeof parameters, string>>();
    // The agent of that context accepts it, as it accepts the original.
    const agent = new Agent<AppContext>({ name: 'a', tools: [cached] });
    expectTypeOf(agent).toExtend<Agent<AppContext>>();
    expectTypeOf<AgentToolSpec<typeof parameters, string>>().toHaveProperty('resource');
  });

  it('checks the spec against the tool', () => {
    const rejected = () => {
      // @ts-expect-error: a spec's functions receive the tool's input
      cacheAgentTool(forecast, { key: (input: { id: number }) => input.id });
      // @ts-expect-error: a write takes `invalidates` and `scope` only
      cacheAgentTool(forecast, { invalidates: 'weather', ttl: '1m' });
    };
    expectTypeOf(rejected).toBeFunction();
  });
});
