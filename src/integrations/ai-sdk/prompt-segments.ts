import type { PromptSegment } from '../../llm/prompt-layout.js';
import { segmentsFromMessages } from '../../llm/segments.js';
import type { CallOptions } from './types.js';

/**
 * A model call's prompt as segments, in the order providers cache it: the tool definitions, then the messages
 * (the leading system messages are the system prompt; the newest user turn and what follows it are volatile).
 */
export function promptSegments(params: CallOptions): PromptSegment[] {
  return segmentsFromMessages({ tools: params.tools, messages: params.prompt });
}
