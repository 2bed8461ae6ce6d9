// agent-cache/openai-agents from the packed package, with the @openai/agents the user installed: the Runner
// treats the cached tool as the function tool it wraps, calls hit by their input, and failures are not stored.
import assert from 'node:assert/strict';
import { Agent, RunContext, Runner, setTracingDisabled, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { cacheAgentTool } from 'agent-cache/openai-agents';
import { z } from 'zod';

setTracingDisabled(true);
let executions = 0;
const original = tool({
  name: 'get_weather',
  description: 'The weather',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    executions++;
    if (city === 'Atlantis') throw new Error('no such city');
    return `sunny in ${city}`;
  },
});
const cached = cacheAgentTool(original, { resource: 'weather' });
assert.equal(cached.type, 'function');
assert.equal(cached.name, 'get_weather');
assert.equal(cached.parameters, original.parameters);

const agent = new Agent({
  name: 'a',
  model: new ScriptedModel([
    [functionCall('get_weather', { city: 'Paris' }, { callId: 'c1' })],
    [functionCall('get_weather', { city: 'Paris' }, { callId: 'c2' })],
    [functionCall('get_weather', { city: 'Atlantis' }, { callId: 'c3' })],
    [assistantMessage('done')],
  ]),
  tools: [cached],
});
const [listed] = await agent.getAllTools(new RunContext());
assert.equal(listed, cached, 'the agent lists the cached tool as a function tool');
const result = await new Runner({ tracingDisabled: true }).run(agent, 'weather?');
assert.equal(result.finalOutput, 'done');
const outputs = result.newItems.filter((i) => i.type === 'tool_call_output_item').map((i) => i.output);
assert.deepEqual(outputs.slice(0, 2), ['sunny in Paris', 'sunny in Paris']);
assert.equal(executions, 2, 'Paris once, Atlantis once');
await cached.invoke(new RunContext(), '{"city":"Atlantis"}');
assert.equal(executions, 3, "the SDK's error text for a failed call is never stored");
