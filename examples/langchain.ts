/**
 * `npx tsx examples/langchain.ts`: a LangChain.js agent with agent-cache — model answers cached in a SQLite file
 * (still real `AIMessage`s after a restart) and tools cached by their input. The chat model is LangChain's own
 * fake model with a scripted tool call (no network, no API key); everything else is the real LangChain core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { FakeChatModel } from '@langchain/core/utils/testing';
import { AgentCacheSession, AgentLoopDetectedError, DiskBackend, getMetrics } from 'agent-cache';
import { AgentCacheLangChainCache, cacheLangChainTool } from 'agent-cache/langchain';
import { z } from 'zod';

/** A model that asks for the weather of Paris until it has seen it, then answers (what a real model does). */
class ScriptedModel extends FakeChatModel {
  calls = 0;
  override async _generate(messages: BaseMessage[]) {
    this.calls++;
    const seen = messages.find((m) => m instanceof ToolMessage);
    const message = seen
      ? new AIMessage({ content: `Paris: ${String(seen.content)}.`, usage_metadata: usage(300, 12) })
      : new AIMessage({
          content: '',
          tool_calls: [
            { name: 'get_weather', args: { city: 'Paris' }, id: `call_${this.calls}`, type: 'tool_call' },
          ],
          usage_metadata: usage(250, 20),
        });
    return { generations: [{ text: String(message.content), message }] };
  }
}
const usage = (input: number, output: number) => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
});

let weatherApiCalls = 0;
const getWeather = tool(
  async ({ city }) => {
    weatherApiCalls++;
    return `sunny, 24°C in ${city}`;
  },
  { name: 'get_weather', description: 'Current weather of a city', schema: z.object({ city: z.string() }) },
);

// ── The few lines a user writes ─────────────────────────────────────────────────────────────────────────────
const dir = mkdtempSync(join(tmpdir(), 'agent-cache-langchain-'));
const backend = new DiskBackend(join(dir, 'cache.db'));
const model = new ScriptedModel({ cache: new AgentCacheLangChainCache({ backend, ttl: '1d' }) });
const weather = cacheLangChainTool(getWeather, { resource: (input) => `weather:${input.city}`, ttl: '10m' });

/** LangChain's agent loop: the model asks for tools, their ToolMessages go back, until it answers. */
async function ask(question: string, chat = model): Promise<string> {
  const messages: BaseMessage[] = [new HumanMessage(question)];
  for (let turn = 0; turn < 5; turn++) {
    const reply = await chat.invoke(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) return String(reply.content);
    for (const call of reply.tool_calls) messages.push(await weather.invoke(call));
  }
  return '(no answer)';
}

console.log(
  `1st ask: ${await ask('Weather in Paris?')}  (model calls ${model.calls}, weather API ${weatherApiCalls})`,
);
console.log(
  `2nd ask: ${await ask('Weather in Paris?')}  (model calls ${model.calls}, weather API ${weatherApiCalls})`,
);
const m = getMetrics().responses;
console.log(
  `model answers from cache: ${m.hits}, tokens saved: ${m.savedInputTokens} in / ${m.savedOutputTokens} out`,
);

// A restart: a new process would open the same file; a new backend on it here.
await backend.close();
const reopened = new DiskBackend(join(dir, 'cache.db'));
const restarted = new ScriptedModel({ cache: new AgentCacheLangChainCache({ backend: reopened }) });
const cached = await restarted.invoke([new HumanMessage('Weather in Paris?')]);
console.log(
  `after a restart: ${cached instanceof AIMessage ? 'an AIMessage' : 'a plain object'} asking for ${cached.tool_calls?.[0]?.name}, model calls ${restarted.calls}`,
);

// A tool call by a model that is stuck: loop detection stops the run.
const session = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 3 });
try {
  await session.run(async () => {
    for (let i = 0; i < 10; i++) {
      await weather.invoke({
        name: 'get_weather',
        args: { city: 'Rome' },
        id: `stuck_${i}`,
        type: 'tool_call',
      });
    }
  });
} catch (error) {
  if (error instanceof AgentLoopDetectedError)
    console.log(`loop stopped: ${error.kind} of ${error.toolName}`);
}
await reopened.close();
rmSync(dir, { recursive: true, force: true });
