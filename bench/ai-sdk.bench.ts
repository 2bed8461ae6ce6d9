/**
 * The AI SDK middleware against the model it wraps, side by side in one process: the cost of a hit compared with
 * calling the SDK's mock model directly, the key of the tool definitions (built afresh as the SDK does, or the
 * same array) against JSON.stringify + SHA-256, and the time to the first stream part on a miss compared with no
 * middleware (target: <= 1.1x, the median of BENCH_RUNS runs, default 3) — next to a middleware that buffers the
 * whole stream first, which is what no buffering avoids.
 *
 *   npm run bench -- ai-sdk
 */

import { createHash } from 'node:crypto';
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { generateText, simulateReadableStream, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { agentCacheMiddleware } from '../src/integrations/ai-sdk/index.js';
import { keyExcludes, requestKey } from '../src/integrations/ai-sdk/request-key.js';
import { cacheKey } from '../src/llm/cache-key.js';
import { compare, RUNS, spread, targetOverRuns } from './harness.js';

const WORDS = 'the agent reads the ticket and calls the search tool then answers the customer politely'.split(
  ' ',
);

function text(words: number, seed: number): string {
  let s = seed || 1;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(WORDS[s % WORDS.length]!);
  }
  return out.join(' ');
}

const usage = {
  inputTokens: { total: 2000, noCache: 2000, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 60, text: 60, reasoning: undefined },
};
const finishReason = { unified: 'stop', raw: 'stop' } as const;
const answer = text(60, 99);

const SYSTEM = text(400, 1);
const TOOL_DESCRIPTIONS = Array.from({ length: 8 }, (_, i) => text(25, i + 200));
const TURNS = Array.from({ length: 10 }, (_, t) => [text(30, t + 2), text(120, t + 50)] as const);
const QUESTION = text(25, 7);

/**
 * The call options of a support agent's step, built afresh for every call as the SDK does (it converts the
 * conversation and the tools into new objects every step; the strings are the application's own): a system
 * prompt, 8 tool definitions and a conversation of `turns` turns. `tag` makes the request unique (a miss).
 */
/** The 8 tool definitions as the SDK hands them to the model each step: new objects, the application's strings. */
function toolDefinitions(): NonNullable<LanguageModelV4CallOptions['tools']> {
  return TOOL_DESCRIPTIONS.map((description, i) => ({
    type: 'function' as const,
    name: `tool_${i}`,
    description,
    inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  }));
}

function params(turns: number, tag = ''): LanguageModelV4CallOptions {
  const prompt: LanguageModelV4CallOptions['prompt'] = [{ role: 'system', content: SYSTEM }];
  for (let t = 0; t < turns; t++) {
    prompt.push({ role: 'user', content: [{ type: 'text', text: TURNS[t]![0] }] });
    prompt.push({ role: 'assistant', content: [{ type: 'text', text: TURNS[t]![1] }] });
  }
  prompt.push({
    role: 'user',
    content: [{ type: 'text', text: tag === '' ? QUESTION : `${QUESTION}${tag}` }],
  });
  return {
    prompt,
    temperature: 0,
    maxOutputTokens: 512,
    tools: toolDefinitions(),
    providerOptions: { openai: { user: 'u-1' } },
  };
}

function chunks(): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
  ];
  for (const word of answer.split(' ').slice(0, 8))
    parts.push({ type: 'text-delta', id: 't', delta: `${word} ` });
  parts.push({ type: 'text-end', id: 't' }, { type: 'finish', finishReason, usage });
  return parts;
}

/** A mock whose stream's first part comes `firstMs` after the call and the others `gapMs` apart (null: no timer). */
function mockModel(firstMs: number | null, gapMs: number | null = firstMs) {
  return new MockLanguageModelV4({
    doGenerate: async () => ({
      content: [{ type: 'text', text: answer }],
      finishReason,
      usage,
      warnings: [],
    }),
    doStream: async () => ({
      stream: simulateReadableStream({ chunks: chunks(), initialDelayInMs: firstMs, chunkDelayInMs: gapMs }),
    }),
  });
}

/** What buffering costs: a middleware that reads the whole stream before it hands back the first part. */
const buffering = {
  specificationVersion: 'v4' as const,
  async wrapStream({
    doStream,
  }: {
    doStream: () => PromiseLike<{ stream: ReadableStream<LanguageModelV4StreamPart> }>;
  }) {
    const { stream, ...rest } = await doStream();
    const parts: LanguageModelV4StreamPart[] = [];
    for await (const part of stream as unknown as AsyncIterable<LanguageModelV4StreamPart>) parts.push(part);
    return {
      ...rest,
      stream: simulateReadableStream({ chunks: parts, initialDelayInMs: null, chunkDelayInMs: null }),
    };
  },
};

async function firstPart(
  model: {
    doStream: (
      p: LanguageModelV4CallOptions,
    ) => PromiseLike<{ stream: ReadableStream<LanguageModelV4StreamPart> }>;
  },
  p: LanguageModelV4CallOptions,
): Promise<void> {
  const { stream } = await model.doStream(p);
  const reader = stream.getReader();
  await reader.read();
  // The rest is not wanted: cancelling also keeps the middleware from storing it (every op stays a miss).
  await reader.cancel();
}

let unique = 0;
const EXCLUDES = keyExcludes([]);

/** About how many tokens a request holds (~4 characters a token). */
function tokensOf(request: LanguageModelV4CallOptions): string {
  return `${(JSON.stringify(request).length / 4000).toFixed(1)}k`;
}

export async function main(): Promise<void> {
  console.log('## A hit against calling the mock model directly\n');
  console.log(
    'Each call gets call options built afresh (as the SDK builds them for every step), in both contenders:',
  );
  console.log(
    'the ratio is (build + key + lookup + copy) / (build + mock model); the mock answers at once, so what',
  );
  console.log('a hit adds is the figure (a real model call takes 100s of ms). The added time is per call.\n');
  for (const turns of [0, 10]) {
    const mock = mockModel(null);
    const cached = wrapLanguageModel({ model: mock, middleware: agentCacheMiddleware() });
    await cached.doGenerate(params(turns)); // stored: every timed call below is a hit
    const result = await compare(
      `doGenerate, ${turns === 0 ? 'a one-question prompt' : `a ${turns}-turn conversation`} with 8 tools (~${tokensOf(params(turns))} tokens)`,
      [
        { name: 'mock model directly', op: () => mock.doGenerate(params(turns)) },
        { name: 'agentCacheMiddleware, hit', op: () => cached.doGenerate(params(turns)) },
        // What the hit spends on its key alone (cacheKey of the call options and the model).
        { name: 'the request key alone', op: () => requestKey('generate', mock, params(turns), EXCLUDES) },
      ],
      { rounds: 15, ops: 2_000 },
    );
    const added = result.medians['agentCacheMiddleware, hit']! - result.medians['mock model directly']!;
    console.log(`\nadded per hit: ${(added / 1000).toFixed(1)} µs\n`);
  }
  {
    const mock = mockModel(null);
    const cached = wrapLanguageModel({ model: mock, middleware: agentCacheMiddleware() });
    const prompt = QUESTION;
    await generateText({ model: cached, system: SYSTEM, prompt });
    await compare(
      'generateText end to end (the SDK around the model), a one-question prompt',
      [
        {
          name: 'generateText, mock model',
          op: () => generateText({ model: mock, system: SYSTEM, prompt }),
        },
        {
          name: 'generateText, middleware hit',
          op: () => generateText({ model: cached, system: SYSTEM, prompt }),
        },
      ],
      { rounds: 15, ops: 1_000 },
    );
  }

  console.log('\n## The tool definitions in the request key\n');
  console.log(
    'The key of a request holding only the 8 tool definitions above, against JSON.stringify + SHA-256 of it: built',
  );
  console.log(
    'afresh for every call (as the SDK does; found again by their contents), or the same array every call (found',
  );
  console.log('by identity, re-checked).\n');
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const fresh = await compare(
    '8 tool definitions built afresh for every call',
    [
      { name: 'JSON.stringify + SHA-256', op: () => sha256(JSON.stringify({ tools: toolDefinitions() })) },
      { name: 'cacheKey', op: () => cacheKey({ tools: toolDefinitions() }) },
    ],
    { rounds: 15, ops: 5_000 },
  );
  const same = toolDefinitions();
  const reused = await compare(
    'the same 8 tool definitions every call',
    [
      { name: 'JSON.stringify + SHA-256', op: () => sha256(JSON.stringify({ tools: same })) },
      { name: 'cacheKey', op: () => cacheKey({ tools: same }) },
    ],
    { rounds: 15, ops: 5_000 },
  );
  console.log(
    `\ncacheKey of the tool definitions: ${(fresh.medians.cacheKey! / 1000).toFixed(1)} µs built afresh, ${(reused.medians.cacheKey! / 1000).toFixed(1)} µs the same array (JSON.stringify + SHA-256: ${(fresh.medians['JSON.stringify + SHA-256']! / 1000).toFixed(1)} µs)\n`,
  );

  console.log('\n## Time to the first stream part on a miss\n');
  console.log(
    `Every timed call is a new request (a miss): from \`doStream\` to its first part, ~${tokensOf(params(10))}-token prompts`,
  );
  console.log(
    '(10 turns, 8 tools). Hosted models take 100s of ms to their first token; the mock is much faster.\n',
  );
  for (const [firstMs, label, targeted] of [
    [20, 'first part after 20 ms (a provider 5-50x faster than real ones), then 1 ms apart', true],
    [1, 'first part after 1 ms, then 1 ms apart (harsher than any provider)', false],
  ] as const) {
    const mock = mockModel(firstMs, 1);
    const cached = wrapLanguageModel({ model: mock, middleware: agentCacheMiddleware() });
    const buffered = wrapLanguageModel({ model: mock, middleware: buffering });
    // The targeted figure is measured in RUNS runs (a loaded machine delays timers by whole milliseconds).
    const ratios: number[] = [];
    for (let run = 0; run < (targeted ? RUNS : 1); run++) {
      const result = await compare(
        targeted ? `${label} (run ${run + 1} of ${RUNS})` : label,
        [
          { name: 'no middleware', op: () => firstPart(mock, params(10, ` #${unique++}`)) },
          { name: 'agentCacheMiddleware, miss', op: () => firstPart(cached, params(10, ` #${unique++}`)) },
          { name: 'buffering middleware', op: () => firstPart(buffered, params(10, ` #${unique++}`)) },
        ],
        { rounds: 11, ops: firstMs > 5 ? 50 : 100, warmup: 10 },
      );
      ratios.push(result.ratios['agentCacheMiddleware, miss']!);
    }
    if (targeted) {
      const each = ratios.map((r) => r.toFixed(2)).join(', ');
      console.log(`\nmiddleware / no middleware, per run: ${each} (min–max ${spread(ratios)})\n`);
      targetOverRuns('time to first stream part on a miss vs no middleware', ratios, 1.1);
    }
  }
  {
    const mock = mockModel(null);
    const cached = wrapLanguageModel({ model: mock, middleware: agentCacheMiddleware() });
    const result = await compare(
      'first part, a model with no delay at all (the bare cost of keying and recording)',
      [
        { name: 'no middleware', op: () => firstPart(mock, params(10, ` #${unique++}`)) },
        { name: 'agentCacheMiddleware, miss', op: () => firstPart(cached, params(10, ` #${unique++}`)) },
      ],
      { rounds: 15, ops: 1_000 },
    );
    const added = result.medians['agentCacheMiddleware, miss']! - result.medians['no middleware']!;
    console.log(
      `\nadded before the first part: ${(added / 1000).toFixed(1)} µs (the request key of the prompt, the lookup)\n`,
    );
  }
}
