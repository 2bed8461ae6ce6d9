// agent-cache/ai-sdk from the packed package, with the `ai` the user installed: the SDK accepts the middleware
// and the wrapped tools, generate and stream calls hit, and tools run once per input.
import assert from 'node:assert/strict';
import { AgentCacheSession, AgentLoopDetectedError } from 'agent-cache';
import { agentCacheMiddleware, cacheTools } from 'agent-cache/ai-sdk';
import { generateText, isStepCount, simulateReadableStream, streamText, tool, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

const usage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 3, text: 3, reasoning: undefined },
};
const stop = { unified: 'stop', raw: 'stop' };
let step = 0;
const provider = new MockLanguageModelV4({
  doGenerate: async ({ prompt }) => {
    step++;
    if (prompt.at(-1).role === 'tool') {
      return { content: [{ type: 'text', text: 'sunny' }], finishReason: stop, usage, warnings: [] };
    }
    return {
      content: [
        { type: 'tool-call', toolCallId: `c${step}`, toolName: 'weather', input: '{"city":"Paris"}' },
      ],
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage,
      warnings: [],
    };
  },
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: 'text-start', id: 't' },
        { type: 'text-delta', id: 't', delta: 'streamed' },
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: stop, usage },
      ],
    }),
  }),
});
const model = wrapLanguageModel({ model: provider, middleware: agentCacheMiddleware() });
assert.equal(model.specificationVersion, 'v4');

let executions = 0;
const tools = cacheTools(
  {
    weather: tool({
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        executions++;
        return `sunny in ${city}`;
      },
    }),
  },
  { weather: { resource: 'weather' } },
);

for (let i = 0; i < 2; i++) {
  const result = await generateText({ model, tools, stopWhen: isStepCount(3), prompt: 'Weather in Paris?' });
  assert.equal(result.text, 'sunny');
  assert.equal(result.steps[0].toolResults[0].output, 'sunny in Paris');
}
assert.equal(step, 2, 'the second run was answered from the response cache');
assert.equal(executions, 1);

const direct = await tools.weather.execute(
  { city: 'Paris' },
  { toolCallId: 'other', messages: [], context: {} },
);
assert.equal(direct, 'sunny in Paris');
assert.equal(executions, 1, 'a different toolCallId still hits');

for (let i = 0; i < 2; i++) {
  const streamed = streamText({ model, prompt: 'stream please' });
  assert.equal(await streamed.text, 'streamed');
  assert.equal((await streamed.providerMetadata)?.agentCache?.hit, i === 1 ? true : undefined);
}
assert.equal(provider.doStreamCalls.length, 1);

const looped = await AgentCacheSession.run({ loopDetection: true, maxToolRepeats: 1 }, async () => {
  await tools.weather.execute({ city: 'Rome' }, { toolCallId: 'a', messages: [], context: {} });
  return tools.weather
    .execute({ city: 'Rome' }, { toolCallId: 'b', messages: [], context: {} })
    .catch((e) => e);
});
assert.ok(looped instanceof AgentLoopDetectedError, 'loop detection reaches the wrapped tools');
