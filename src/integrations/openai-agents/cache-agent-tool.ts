import type { FunctionTool, RunContext, ToolExecuteArgument, ToolInputParameters } from '@openai/agents';
import { AgentCacheTypeError } from '../../errors.js';
import { adapterTool } from '../adapter-tool.js';
import { checkToolSpec, type ToolSpec } from '../tool-spec.js';
import { type FailureText, failureText, failureTextNow } from './sdk-error-text.js';

/** How a function tool is cached: a read or a write, its functions receiving the tool's parsed input. */
export type AgentToolSpec<TParameters extends ToolInputParameters, Result> = ToolSpec<
  ToolExecuteArgument<TParameters>,
  string | Result
>;

type Invoke<Context, Result> = FunctionTool<Context, ToolInputParameters, Result>['invoke'];
type Details = Parameters<Invoke<unknown, unknown>>[2];

/** One call's context, handed to the core as `this`: it reaches the tool, never the key. */
interface InvokeContext {
  readonly runContext: RunContext<unknown>;
  /** The arguments as the model sent them (the SDK parses and validates them again). */
  readonly input: string;
  readonly details: Details;
}

const OWNER = 'cacheAgentTool';

/**
 * The same function tool — same name, description, parameters, approval and guardrail settings, every other
 * property — whose `invoke` is cached by the parsed input (the model's JSON arguments), never the `RunContext` or
 * the tool call. Its identity is the tool's name (a namespaced tool's `namespace.name`).
 *
 * A failed call is never stored: an error `invoke` throws (a tool with `errorFunction: null`, an abort), and the
 * text the SDK's default `errorFunction` returns in place of a thrown error, which also counts as a failure for
 * loop detection's retry storms. A custom `errorFunction` returns what the application chose; mark it with the
 * spec's `shouldCache(result)`. Arguments that are not JSON run uncached (the SDK answers them itself).
 */
export function cacheAgentTool<Context, TParameters extends ToolInputParameters, Result>(
  tool: FunctionTool<Context, TParameters, Result>,
  spec: AgentToolSpec<TParameters, Result>,
): FunctionTool<Context, TParameters, Result> {
  if (
    typeof tool !== 'object' ||
    tool === null ||
    tool.type !== 'function' ||
    typeof tool.invoke !== 'function'
  ) {
    throw new AgentCacheTypeError(
      `${OWNER}: the first argument must be a function tool (from tool() of @openai/agents)`,
    );
  }
  const name = identityOf(tool);
  checkToolSpec(spec, `${OWNER}: ${name}`);
  const original = tool.invoke;
  const timedOut = timeoutText(tool);
  let isFailure: FailureText | undefined = failureTextNow();
  const failed = (result: unknown): boolean => isFailure!(result) || result === timedOut;
  const core = adapterTool<InvokeContext, unknown>(
    name,
    spec as ToolSpec<unknown, unknown>,
    function run(this: InvokeContext) {
      return original.call(tool, this.runContext as RunContext<Context>, this.input, this.details);
    },
    {
      origin: {
        origin: tool,
        // The SDK's invoke is the same closure for every tool: what tells tools apart is what the model sees.
        source: `${tool.name}\n${tool.description}\n${JSON.stringify(tool.parameters)}`,
      },
      failed,
    },
  );
  const invoke: Invoke<Context, Result> = async (runContext, input, details) => {
    isFailure ??= await failureText();
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      return original.call(tool, runContext, input, details);
    }
    return core.call({ runContext: runContext as RunContext<unknown>, input, details }, parsed) as Promise<
      string | Result
    >;
  };
  const descriptors = Object.getOwnPropertyDescriptors(tool);
  descriptors.invoke = { value: invoke, writable: true, enumerable: true, configurable: true };
  return Object.create(Object.getPrototypeOf(tool), descriptors) as FunctionTool<
    Context,
    TParameters,
    Result
  >;
}

/** The tool's name, qualified by its namespace when it has one (two namespaces may hold a tool of one name). */
function identityOf(tool: object & { name: string }): string {
  const namespaceKey = Object.getOwnPropertySymbols(tool).find(
    (symbol) => symbol.description === 'functionToolNamespace',
  );
  const namespace = namespaceKey === undefined ? undefined : (tool as Record<symbol, unknown>)[namespaceKey];
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}.${tool.name}` : tool.name;
}

/**
 * The text the SDK returns for a call that timed out, when the tool itself enforces its `timeoutMs` (a direct
 * `invoke`; under the Runner the timeout is enforced around this wrapper and never reaches it) with the default
 * message; undefined when there is none.
 */
function timeoutText(tool: {
  name: string;
  timeoutMs?: number;
  timeoutBehavior?: string;
  timeoutErrorFunction?: unknown;
}): string | undefined {
  if (tool.timeoutMs === undefined || tool.timeoutBehavior === 'raise_exception') return undefined;
  if (tool.timeoutErrorFunction !== undefined) return undefined;
  return `Tool '${tool.name}' timed out after ${tool.timeoutMs}ms.`;
}
