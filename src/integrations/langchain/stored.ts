import {
  type BaseMessage,
  isBaseMessage,
  mapStoredMessageToChatMessage,
  type StoredMessage,
} from '@langchain/core/messages';
import type { ChatGeneration, Generation } from '@langchain/core/outputs';

/**
 * LangChain values as plain data, so that every backend can store them (a SQLite file or Redis keeps plain values
 * only: a message class would come back as a plain object) and so that every hit builds fresh objects — LangChain
 * mutates what a cache returns (it zeroes the usage of a cached message), which must never reach the stored copy.
 * Messages go through LangChain's own `toDict()` / `mapStoredMessageToChatMessage`, which keep tool calls, usage,
 * response metadata and ids; the result is a message of the user's own `@langchain/core`.
 */

/** Marks the plain-data envelopes of this module (a key no LangChain or user value has). */
const MARK = '__agentCacheLangChain';

interface StoredGenerationData {
  readonly text: string;
  readonly generationInfo?: Record<string, unknown>;
  readonly message?: StoredMessage;
}

interface StoredGenerations {
  readonly [MARK]: 'generations';
  readonly generations: readonly StoredGenerationData[];
}

export function encodeGenerations(generations: readonly Generation[]): StoredGenerations {
  return {
    [MARK]: 'generations',
    generations: generations.map((g) => {
      const message = (g as Partial<ChatGeneration>).message;
      const data: { text: string; generationInfo?: Record<string, unknown>; message?: StoredMessage } = {
        text: g.text,
      };
      if (g.generationInfo !== undefined) data.generationInfo = g.generationInfo;
      if (message !== undefined && isBaseMessage(message)) data.message = message.toDict();
      return data;
    }),
  };
}

/** The generations of a stored envelope, as new objects; undefined for anything else (a foreign entry). */
export function decodeGenerations(value: unknown): Generation[] | undefined {
  if (!isEnvelope(value, 'generations')) return undefined;
  return (value as unknown as StoredGenerations).generations.map((g) => {
    const generation: Generation & { message?: BaseMessage } = { text: g.text };
    if (g.generationInfo !== undefined) generation.generationInfo = structuredClone(g.generationInfo);
    if (g.message !== undefined)
      generation.message = mapStoredMessageToChatMessage(structuredClone(g.message));
    return generation;
  });
}

interface StoredToolResult {
  readonly [MARK]: 'message' | 'stream';
  /** A message the tool returned (a `ToolMessage` it built itself). */
  readonly message?: StoredMessage;
  /** The events an async-generator tool yielded, and what it returned (itself encoded). */
  readonly events?: readonly unknown[];
  readonly value?: unknown;
}

/** A tool output that must not be stored (a LangGraph `Command`, another direct output): passed through as is. */
export class Unstorable {
  constructor(
    readonly value: unknown,
    /** The events an async-generator tool yielded before returning `value`. */
    readonly events?: readonly unknown[],
  ) {}
}

/** A tool's `_call` output as plain data: messages by `toDict()`, everything else as it is. */
export function encodeToolOutput(value: unknown): unknown {
  if (isBaseMessage(value)) return { [MARK]: 'message', message: value.toDict() } satisfies StoredToolResult;
  if (isDirectOutput(value)) return new Unstorable(value);
  return value;
}

export function encodedEvents(events: readonly unknown[], value: unknown): unknown {
  const encoded = encodeToolOutput(value);
  if (encoded instanceof Unstorable) return new Unstorable(value, events);
  return { [MARK]: 'stream', events, value: encoded } satisfies StoredToolResult;
}

/**
 * What the tool returns to LangChain for a stored output: a fresh message (whose `tool_call_id` is the current
 * call's, not the one stored), a fresh async generator replaying the events, or the value itself.
 */
export function decodeToolOutput(value: unknown, toolCallId: string | undefined): unknown {
  if (value instanceof Unstorable) {
    return value.events === undefined ? value.value : replay(value.events, value.value);
  }
  if (isEnvelope(value, 'message')) {
    const message = mapStoredMessageToChatMessage(structuredClone((value as StoredToolResult).message!));
    if (toolCallId !== undefined && message.getType() === 'tool') {
      (message as BaseMessage & { tool_call_id: string }).tool_call_id = toolCallId;
    }
    return message;
  }
  if (isEnvelope(value, 'stream')) {
    const stored = value as StoredToolResult;
    return replay(stored.events ?? [], decodeToolOutput(stored.value, toolCallId));
  }
  return value;
}

async function* replay(events: readonly unknown[], value: unknown): AsyncGenerator<unknown, unknown> {
  for (const event of events) yield event;
  return value;
}

function isEnvelope(value: unknown, kind: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[MARK] === kind;
}

function isDirectOutput(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { lc_direct_tool_output?: unknown }).lc_direct_tool_output === true
  );
}
