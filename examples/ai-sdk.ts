/**
 * agent-cache with the Vercel AI SDK: an order-support agent whose model calls go through `agentCacheMiddleware`
 * and whose tools go through `cacheTools`. No network and no API key: the model is the SDK's own test double
 * (`MockLanguageModelV4`) answering like a provider would — tool calls first, then text, streamed or not.
 *
 *   npx tsx examples/ai-sdk.ts
 */
import type {
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import { AgentCacheSession, getMetrics } from 'agent-cache';
import { agentCacheMiddleware, cacheTools } from 'agent-cache/ai-sdk';
import { generateText, isStepCount, simulateReadableStream, streamText, tool, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

// ── The order system the tools talk to (counted, so we can see what caching saves) ──────────────────────────
const orders = new Map([['42', { id: '42', status: 'shipped', items: ['kettle'] }]]);
const backendCalls = { getOrder: 0, cancelOrder: 0 };

const tools = {
  getOrder: tool({
    description: 'Look up an order by id',
    inputSchema: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => {
      backendCalls.getOrder++;
      return orders.get(orderId) ?? null;
    },
  }),
  cancelOrder: tool({
    description: 'Cancel an order',
    inputSchema: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => {
      backendCalls.cancelOrder++;
      const order = orders.get(orderId);
      if (order) order.status = 'cancelled';
      return { cancelled: order !== undefined };
    },
  }),
};

// Reads are cached per order and invalidated by the write that changes that order. A tool left out of the spec
// would run every time (and still be watched by loop detection).
const cachedTools = cacheTools(tools, {
  getOrder: { resource: ({ orderId }) => `order:${orderId}`, ttl: '10m' },
  cancelOrder: { invalidates: ({ orderId }) => `order:${orderId}` },
});

// ── A scripted model: asks for the tool the question needs, then answers from the tool results ──────────────
let modelCalls = 0;
function answer(options: LanguageModelV4CallOptions): LanguageModelV4GenerateResult {
  modelCalls++;
  const usage = {
    inputTokens: { total: 900, noCache: 900, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 40, text: 40, reasoning: undefined },
  };
  const last = options.prompt.at(-1)!;
  const question = options.prompt.findLast((m) => m.role === 'user');
  const asked = question?.content.map((p) => (p.type === 'text' ? p.text : '')).join('') ?? '';
  if (last.role === 'tool') {
    const results = last.content.flatMap((p) => (p.type === 'tool-result' ? [p.output] : []));
    const text = `Here is what I found: ${JSON.stringify(results.map((r) => ('value' in r ? r.value : r)))}`;
    return {
      content: [{ type: 'text', text }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage,
      warnings: [],
    };
  }
  const toolName = asked.startsWith('Cancel') ? 'cancelOrder' : 'getOrder';
  return {
    content: [
      {
        type: 'tool-call',
        toolCallId: `call-${modelCalls}`,
        toolName,
        input: JSON.stringify({ orderId: '42' }),
      },
    ],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

const mock = new MockLanguageModelV4({
  doGenerate: async (options) => answer(options),
  doStream: async (options) => {
    const result = answer(options);
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    const chunks: LanguageModelV4StreamPart[] = [
      { type: 'text-start', id: 't' },
      ...text
        .split(' ')
        .map((word): LanguageModelV4StreamPart => ({ type: 'text-delta', id: 't', delta: `${word} ` })),
      { type: 'text-end', id: 't' },
      { type: 'finish', finishReason: result.finishReason, usage: result.usage },
    ];
    return { stream: simulateReadableStream({ chunks, chunkDelayInMs: 5 }) };
  },
});

// One middleware instance is one response cache: identical model calls are answered from it.
const model = wrapLanguageModel({ model: mock, middleware: agentCacheMiddleware() });

async function ask(prompt: string): Promise<string> {
  const result = await generateText({ model, tools: cachedTools, stopWhen: isStepCount(4), prompt });
  const cached = result.steps.filter((s) => s.providerMetadata?.agentCache !== undefined).length;
  console.log(
    `  ${prompt.padEnd(28)} → ${result.text}  (${result.steps.length} steps, ${cached} from the cache)`,
  );
  return result.text;
}

await AgentCacheSession.run({ sessionId: 'support-1', loopDetection: true }, async (session) => {
  console.log('A customer asks twice, cancels, and asks again:');
  await ask('Where is order 42?');
  await ask('Where is order 42?'); // every model step and the tool call answered from the caches
  await ask('Cancel order 42');
  await ask('Where is order 42? (again)'); // the cancel invalidated order:42: a fresh read
  const { hits, misses } = session.getMetrics().tools.getOrder!;
  console.log(`  getOrder in this session: ${hits} hit, ${misses} misses`);
});

console.log(
  '\nStreaming: the first answer streams from the model as it is produced; the repeat is replayed:',
);
for (const attempt of ['first', 'repeat']) {
  const started = performance.now();
  const result = streamText({ model, prompt: 'Summarise our refund policy' });
  let firstPartMs: number | undefined;
  for await (const _ of result.textStream) firstPartMs ??= performance.now() - started;
  const hit = (await result.providerMetadata)?.agentCache !== undefined;
  console.log(
    `  ${attempt}: first text after ${firstPartMs!.toFixed(1)} ms, ${hit ? 'a cache hit' : 'from the model'}`,
  );
}

const metrics = getMetrics();
console.log(`\nmodel calls: ${modelCalls}, order-system calls: ${JSON.stringify(backendCalls)}`);
console.log(
  `answered from the response cache: ${metrics.responses.hits} model calls, saving ${metrics.responses.savedInputTokens} input and ${metrics.responses.savedOutputTokens} output tokens`,
);
console.log(`tool hit rate: ${(metrics.hitRate * 100).toFixed(0)}%`);
