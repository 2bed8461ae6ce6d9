/**
 * agent-cache with the OpenAI Agents SDK: a travel agent whose function tools go through `cacheAgentTool`, run by
 * the SDK's own `Runner`. No network and no API key: the model is the SDK's scripted test model, asking for the
 * tool calls a real model would.
 *
 *   npx tsx examples/openai-agents.ts
 */
import { Agent, Runner, setTracingDisabled, ToolCallError, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { AgentCacheSession, AgentLoopDetectedError, getMetrics } from 'agent-cache';
import { cacheAgentTool } from 'agent-cache/openai-agents';
import { z } from 'zod';

setTracingDisabled(true);

// ── The airline API the tools call (counted, so we can see what caching saves) ───────────────────────────────
const seats = new Map([['AF1', 3]]);
const apiCalls = { getFlight: 0, bookSeat: 0 };

const getFlight = cacheAgentTool(
  tool({
    name: 'get_flight',
    description: 'Seats left on a flight',
    parameters: z.object({ flight: z.string() }),
    execute: async ({ flight }) => {
      apiCalls.getFlight++;
      return `${flight}: ${seats.get(flight) ?? 0} seats left`;
    },
  }),
  { resource: ({ flight }) => `flight:${flight}`, ttl: '1m' },
);

const bookSeat = cacheAgentTool(
  tool({
    name: 'book_seat',
    description: 'Books a seat',
    parameters: z.object({ flight: z.string() }),
    execute: async ({ flight }) => {
      apiCalls.bookSeat++;
      seats.set(flight, (seats.get(flight) ?? 0) - 1);
      return `booked a seat on ${flight}`;
    },
  }),
  { invalidates: ({ flight }) => `flight:${flight}` },
);

let callId = 0;
const ask = (name: string, args: Record<string, unknown>) => [
  functionCall(name, args, { callId: `call_${++callId}` }),
];
const runner = new Runner({ tracingDisabled: true });

async function run(label: string, ...turns: ReturnType<typeof ask>[]) {
  const model = new ScriptedModel([...turns, [assistantMessage('All done.')]]);
  const agent = new Agent({
    name: 'travel',
    instructions: 'Book flights.',
    model,
    tools: [getFlight, bookSeat],
  });
  const result = await runner.run(agent, label);
  const outputs = result.newItems.flatMap((item) =>
    item.type === 'tool_call_output_item' ? [String((item as { output: unknown }).output)] : [],
  );
  console.log(`  ${label.padEnd(22)} ${outputs.join(' | ')}`);
}

await AgentCacheSession.run(
  { sessionId: 'traveller-1', loopDetection: true, maxToolRepeats: 3 },
  async (session) => {
    console.log('A traveller checks a flight twice, books, and checks again:');
    await run('check AF1', ask('get_flight', { flight: 'AF1' }));
    await run('check AF1 again', ask('get_flight', { flight: 'AF1' })); // answered from the cache
    await run('book AF1', ask('book_seat', { flight: 'AF1' }), ask('get_flight', { flight: 'AF1' })); // fresh after the write

    console.log('\nA model stuck asking the same thing:');
    try {
      await run('stuck', ...Array.from({ length: 6 }, () => ask('get_flight', { flight: 'AF1' })));
    } catch (error) {
      // A detected loop fails the tool call, and the Runner stops the run with it (onLoop: 'raise').
      const loop = error instanceof ToolCallError ? error.error : error;
      if (!(loop instanceof AgentLoopDetectedError)) throw error;
      console.log(`  loop stopped: ${loop.kind} of ${loop.toolName} (${loop.count} identical calls)`);
    }
    const { hits, misses } = session.getMetrics().tools.get_flight!;
    console.log(`\nget_flight in this session: ${hits} hits, ${misses} misses`);
  },
);

console.log(
  `airline API calls: ${JSON.stringify(apiCalls)}, tool hit rate ${(getMetrics().hitRate * 100).toFixed(0)}%`,
);
