/**
 * Model answers for the AI SDK's own test double, `MockLanguageModelV4`: plain text, tool calls, and streams whose
 * parts the test releases one by one.
 */
import type { LanguageModelV4GenerateResult, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { simulateReadableStream } from 'ai';

export type StreamPart = LanguageModelV4StreamPart;
export type GenerateResult = LanguageModelV4GenerateResult;

export function usage(input: number, output: number): GenerateResult['usage'] {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

export const STOP = { unified: 'stop', raw: 'stop' } as const;
export const TOOL_CALLS = { unified: 'tool-calls', raw: 'tool_calls' } as const;

export function textResult(text: string, extra: Partial<GenerateResult> = {}): GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: STOP,
    usage: usage(10, 5),
    warnings: [],
    response: { id: 'resp-1', modelId: 'mock-model-id', timestamp: new Date(0) },
    ...extra,
  };
}

let calls = 0;

/** A result asking for one tool call (a fresh call id each time, as a provider would). */
export function toolCallResult(toolName: string, input: unknown): GenerateResult {
  return {
    content: [{ type: 'tool-call', toolCallId: `call-${++calls}`, toolName, input: JSON.stringify(input) }],
    finishReason: TOOL_CALLS,
    usage: usage(20, 8),
    warnings: [],
  };
}

/** The parts of a streamed answer: metadata, reasoning, text in deltas, the finish with its usage. */
export function textParts(text: string, options: { reasoning?: string } = {}): StreamPart[] {
  const parts: StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'resp-s', modelId: 'mock-model-id', timestamp: new Date(0) },
  ];
  if (options.reasoning !== undefined) {
    parts.push(
      { type: 'reasoning-start', id: 'r1' },
      { type: 'reasoning-delta', id: 'r1', delta: options.reasoning },
      { type: 'reasoning-end', id: 'r1' },
    );
  }
  parts.push({ type: 'text-start', id: 't1' });
  for (const word of text.split(/(?<= )/)) parts.push({ type: 'text-delta', id: 't1', delta: word });
  parts.push({ type: 'text-end', id: 't1' }, { type: 'finish', finishReason: STOP, usage: usage(12, 7) });
  return parts;
}

/** The parts of a streamed tool call. */
export function toolCallParts(toolName: string, input: unknown): StreamPart[] {
  const id = `call-${++calls}`;
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'tool-call', toolCallId: id, toolName, input: JSON.stringify(input) },
    { type: 'finish', finishReason: TOOL_CALLS, usage: usage(20, 8) },
  ];
}

export function stream(parts: readonly StreamPart[]): { stream: ReadableStream<StreamPart> } {
  return {
    stream: simulateReadableStream({ chunks: [...parts], initialDelayInMs: null, chunkDelayInMs: null }),
  };
}

/**
 * A model stream the test drives: `push` releases parts, `end` closes it; `cancelled` records a cancellation
 * (with its reason) coming from the reader's side.
 */
export function controlledStream(): {
  stream: ReadableStream<StreamPart>;
  push(...parts: StreamPart[]): void;
  end(): void;
  fail(error: unknown): void;
  readonly cancelled: { value: boolean; reason?: unknown };
} {
  let controller!: ReadableStreamDefaultController<StreamPart>;
  const cancelled: { value: boolean; reason?: unknown } = { value: false };
  const source = new ReadableStream<StreamPart>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      cancelled.value = true;
      cancelled.reason = reason;
    },
  });
  return {
    stream: source,
    push: (...parts) => {
      for (const part of parts) controller.enqueue(part);
    },
    end: () => controller.close(),
    fail: (error) => controller.error(error),
    cancelled,
  };
}

/** Reads a whole stream into an array. */
export async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const part of stream as unknown as AsyncIterable<T>) out.push(part);
  return out;
}
