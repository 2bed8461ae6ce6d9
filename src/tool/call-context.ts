/**
 * Per-call objects that frameworks pass to a tool next to its input. They are new on every call (a tool-call id,
 * the run's usage so far), so a cache keyed on them never hits. Recognised by shape, without importing any
 * framework; only ever checked on the miss path.
 */
interface CallContextKind {
  /** What was found, for the warning. */
  readonly what: string;
  /** What fixes it. */
  readonly fix: string;
}

const INPUT_ONLY = 'or pass `key: (input) => input` so that only the input is key material';

const AI_SDK: CallContextKind = {
  what: 'an AI SDK tool-call options object (`toolCallId`, `messages`)',
  fix: `Wrap the toolset with \`cacheTools\` from agent-cache/ai-sdk, ${INPUT_ONLY}`,
};
const OPENAI_RUN_CONTEXT: CallContextKind = {
  what: 'an OpenAI Agents `RunContext`',
  fix: `Wrap the tool with \`cacheAgentTool\` from agent-cache/openai-agents, ${INPUT_ONLY}`,
};
const OPENAI_TOOL_CALL: CallContextKind = {
  what: 'an OpenAI Agents tool call (`callId`)',
  fix: OPENAI_RUN_CONTEXT.fix,
};
const LANGCHAIN_TOOL_CALL: CallContextKind = {
  what: 'a LangChain `ToolCall` (its `id`)',
  fix: `Wrap the tool with \`cacheLangChainTool\` from agent-cache/langchain, ${INPUT_ONLY}`,
};
const MCP_EXTRA: CallContextKind = {
  what: 'an MCP request handler’s `extra` (`requestId`)',
  fix: 'Pass `key: (args) => args` so that only the tool’s arguments are key material',
};
const MCP_OPTIONS: CallContextKind = {
  what: 'MCP request options (`onprogress`, `signal`)',
  fix: 'Wrap the client with `cacheMcpClient` from agent-cache/mcp, or pass `key: (params) => params.arguments`',
};

/**
 * The framework per-call object in a tool's key material (its arguments, or what its `key` option returned), if
 * any: each top-level value is looked at, and the `toolCall` of a LangChain config or OpenAI Agents details object.
 */
export function findCallContext(material: unknown): CallContextKind | undefined {
  if (!Array.isArray(material)) return kindOf(material);
  for (const value of material) {
    const kind = kindOf(value);
    if (kind !== undefined) return kind;
  }
  return undefined;
}

function kindOf(value: unknown): CallContextKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.toolCallId === 'string' && Array.isArray(v.messages)) return AI_SDK;
  if (isOpenAiRunContext(v)) return OPENAI_RUN_CONTEXT;
  if (isOpenAiToolCall(v)) return OPENAI_TOOL_CALL;
  if (isLangChainToolCall(v)) return LANGCHAIN_TOOL_CALL;
  if (v.requestId !== undefined && typeof v.sendNotification === 'function') return MCP_EXTRA;
  if (typeof v.onprogress === 'function' || (v.signal instanceof AbortSignal && 'timeout' in v))
    return MCP_OPTIONS;
  const toolCall = v.toolCall;
  if (typeof toolCall === 'object' && toolCall !== null) {
    if (isLangChainToolCall(toolCall as Record<string, unknown>)) return LANGCHAIN_TOOL_CALL;
    if (isOpenAiToolCall(toolCall as Record<string, unknown>)) return OPENAI_TOOL_CALL;
  }
  return undefined;
}

function isOpenAiRunContext(v: Record<string, unknown>): boolean {
  return (
    v.constructor?.name === 'RunContext' &&
    'usage' in v &&
    'context' in v &&
    typeof v.isToolApproved === 'function'
  );
}

function isOpenAiToolCall(v: Record<string, unknown>): boolean {
  return v.type === 'function_call' && typeof v.callId === 'string';
}

function isLangChainToolCall(v: Record<string, unknown>): boolean {
  return v.type === 'tool_call' && typeof v.id === 'string' && 'args' in v;
}

export function describeCallContext(toolName: string, kind: CallContextKind, uncached: boolean): string {
  return (
    `agent-cache: the key material of ${toolName} holds ${kind.what}, which is new on every call, so ` +
    `${uncached ? 'the calls run uncached' : 'no call can ever hit'}. ${kind.fix}. (Warned once per tool.)`
  );
}
