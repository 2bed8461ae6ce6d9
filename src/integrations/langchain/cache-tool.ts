import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import type { StructuredTool, ToolRunnableConfig } from '@langchain/core/tools';
import { AgentCacheTypeError } from '../../errors.js';
import { adapterTool } from '../adapter-tool.js';
import {
  checkToolSpec,
  isWriteSpec,
  type ReadToolSpec,
  type ToolSpec,
  type WriteToolSpec,
} from '../tool-spec.js';
import { decodeToolOutput, encodedEvents, encodeToolOutput, Unstorable } from './stored.js';

/** The parsed input a tool's function receives (what the schema produces): the key material. */
export type LangChainToolInput<T> = T extends StructuredTool<infer _S, infer O> ? O : unknown;
/** What the tool's function returns. */
export type LangChainToolOutput<T> =
  T extends StructuredTool<infer _S, infer _O, infer _I, infer R> ? R : unknown;

/** A read (cached by the parsed input) or a write (`{ invalidates }`); functions receive the parsed input. */
export type LangChainToolSpec<T extends StructuredTool> =
  | ReadToolSpec<LangChainToolInput<T>, LangChainToolOutput<T>>
  | WriteToolSpec<LangChainToolInput<T>>;

type CallFn = (arg: unknown, runManager?: CallbackManagerForToolRun, config?: ToolRunnableConfig) => unknown;

/** What one call carries to the function the core runs (as its `this`): never key material. */
interface LangChainCall {
  readonly tool: StructuredTool;
  readonly runManager: CallbackManagerForToolRun | undefined;
  readonly config: ToolRunnableConfig | undefined;
}

/**
 * The same tool (same class, name, schema and description: `instanceof` and `bindTools` see no difference) whose
 * calls go through agent-cache. Cached by the parsed input, whether `invoke` gets plain input or a `ToolCall`:
 * the `ToolMessage` LangChain returns for a `ToolCall` carries that call's `tool_call_id`, on a hit too. Errors are
 * never stored; a tool that returns a message has it rebuilt (with the current call's id) on every hit; an async
 * generator tool has its events replayed; a LangGraph `Command` is returned but never stored.
 */
export function cacheLangChainTool<T extends StructuredTool>(tool: T, spec: LangChainToolSpec<T>): T {
  const original = (tool as unknown as { _call?: unknown })?._call;
  if (typeof original !== 'function' || typeof tool.invoke !== 'function' || typeof tool.name !== 'string') {
    throw new AgentCacheTypeError(
      'cacheLangChainTool: the first argument must be a LangChain tool (a StructuredTool, e.g. made by tool())',
    );
  }
  checkToolSpec(spec, `cacheLangChainTool(${tool.name})`);
  const run = original as CallFn;
  const cached = adapterTool<LangChainCall, unknown>(
    tool.name,
    readSpecWithStorage(spec as ToolSpec<unknown, unknown>),
    async function (this: LangChainCall, input: unknown) {
      const raw = await run.call(this.tool, input, this.runManager, this.config);
      return isAsyncGenerator(raw) ? encodedEvents(...(await drain(raw))) : encodeToolOutput(raw);
    },
    { origin: { origin: tool, source: `langchain:${tool.description}` } },
  );
  const wrapped = Object.create(tool) as T;
  Object.defineProperty(wrapped, '_call', {
    configurable: true,
    writable: true,
    async value(
      this: StructuredTool,
      arg: unknown,
      runManager?: CallbackManagerForToolRun,
      config?: ToolRunnableConfig,
    ) {
      config?.signal?.throwIfAborted();
      const stored = await cached.call({ tool: this, runManager, config }, arg);
      return decodeToolOutput(stored, config?.toolCall?.id);
    },
  });
  return wrapped;
}

/** A read's `shouldCache` sees the tool's own output, and outputs that cannot be stored are never stored. */
function readSpecWithStorage(spec: ToolSpec<unknown, unknown>): ToolSpec<unknown, unknown> {
  if (isWriteSpec(spec)) return spec;
  const user = spec.shouldCache;
  return {
    ...spec,
    shouldCache: (stored: unknown) =>
      !(stored instanceof Unstorable) && (user === undefined || user(decodeToolOutput(stored, undefined))),
  };
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncGenerator)[Symbol.asyncIterator] === 'function' &&
    typeof (value as AsyncGenerator).next === 'function'
  );
}

async function drain(generator: AsyncGenerator<unknown, unknown>): Promise<[unknown[], unknown]> {
  const events: unknown[] = [];
  for (;;) {
    const step = await generator.next();
    if (step.done) return [events, step.value];
    events.push(step.value);
  }
}
