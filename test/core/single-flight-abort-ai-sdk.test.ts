/**
 * Single flight and abort the way an AI SDK user meets it: two agent runs (two generateText calls, each with its
 * own abortSignal) call the same cached tool with the same input at the same time. The first run is cancelled
 * while the shared execution is in flight: the second run must still get its tool result.
 */
import type { LanguageModelV4GenerateResult } from '@ai-sdk/provider';
import { AgentCache, getMetrics } from 'agent-cache';
import { tool as aiTool, generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freshCache } from '../helpers/fresh.js';

beforeEach(() => {
  freshCache();
});

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};

/** A model that calls searchDocs({ query }) once, then answers with the tool's result. */
function agentModel(query: string) {
  const steps: LanguageModelV4GenerateResult[] = [
    {
      content: [
        { type: 'tool-call', toolCallId: 'call_1', toolName: 'searchDocs', input: JSON.stringify({ query }) },
      ],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    },
  ];
  return new MockLanguageModelV4({
    doGenerate: async (options) => {
      const step = steps.shift();
      if (step !== undefined) return step;
      const last = options.prompt.at(-1);
      const output = last?.role === 'tool' ? last.content[0] : undefined;
      const text = output?.type === 'tool-result' ? JSON.stringify(output.output) : 'no result';
      return {
        content: [{ type: 'text', text }],
        finishReason: { unified: 'stop', raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
}

describe('single flight under the AI SDK, when one agent run is aborted', () => {
  it('the other run that joined the same execution still gets its result', async () => {
    let executions = 0;
    const started: (() => void)[] = [];
    const release: (() => void)[] = [];
    const search = AgentCache({ name: 'searchDocs', key: (input: { query: string }) => input })(
      async function execute({ query }: { query: string }, { abortSignal }: { abortSignal?: AbortSignal }) {
        executions++;
        started.shift()?.();
        await new Promise<void>((resolve, reject) => {
          release.push(resolve);
          abortSignal?.addEventListener('abort', () => reject(abortSignal.reason), { once: true });
        });
        return `3 documents about ${query}`;
      },
    );
    const searchDocs = aiTool({ inputSchema: z.object({ query: z.string() }), execute: search });

    const first = new AbortController();
    const firstStarted = new Promise<void>((r) => started.push(r));
    const runA = generateText({
      model: agentModel('refunds'),
      tools: { searchDocs },
      stopWhen: stepCountIs(3),
      abortSignal: first.signal,
      prompt: 'How do refunds work?',
    }).catch((error: unknown) => error);
    await firstStarted;
    const secondStarted = new Promise<void>((r) => started.push(r));
    const runB = generateText({
      model: agentModel('refunds'),
      tools: { searchDocs },
      stopWhen: stepCountIs(3),
      abortSignal: new AbortController().signal,
      prompt: 'How do refunds work?',
    });
    // Run B's tool call joins run A's execution (counted in `coalesced`).
    while (getMetrics().coalesced === 0) await new Promise((r) => setTimeout(r, 1));
    expect(executions).toBe(1);

    first.abort(); // the user closed run A's tab
    await secondStarted; // run B runs the tool itself instead of failing with A's abort
    for (const r of release.splice(0)) r();
    const resultB = await runB;
    expect(resultB.text).toContain('3 documents about refunds');
    expect((await runA) as Error).toMatchObject({ name: 'AbortError' });
    expect(executions).toBe(2);
  });
});
