import type { InferToolInput, InferToolOutput, ToolSet } from 'ai';
import { AgentCacheTypeError } from '../../errors.js';
import { type AdapterTool, adapterTool } from '../adapter-tool.js';
import { checkToolSpec, isWriteSpec, type ToolSpec } from '../tool-spec.js';
import {
  execution,
  finalOutput,
  type PreliminaryChannel,
  preliminaryResults,
  type StoredToolOutput,
} from './preliminary.js';

/**
 * Per tool of the toolset (by its key), how it is cached: a read (`{ resource?, scope?, ttl?, key?, shouldCache? }`,
 * the functions receiving the tool's input and output) or a write (`{ invalidates, scope? }`). Tools left out run
 * every time.
 */
export type CacheToolsSpec<TOOLS extends ToolSet> = {
  readonly [NAME in keyof TOOLS]?: ToolSpec<InferToolInput<TOOLS[NAME]>, InferToolOutput<TOOLS[NAME]>>;
};

type Execute = (this: unknown, input: unknown, options: unknown) => unknown;

/** One call's context, handed to the core as `this`: reaches the tool, never the key. */
interface CallContext {
  /** The tool object the SDK called `execute` on (`this` of the original). */
  readonly tool: unknown;
  /** The SDK's per-call options: `toolCallId`, `messages`, `abortSignal`, `context`. */
  readonly options: unknown;
  /** Where this caller's own execution reports its preliminary results. */
  readonly channel: PreliminaryChannel | undefined;
}

const OWNER = 'cacheTools';

/**
 * The same toolset, with `execute` wrapped for the tools named in `spec` (its other properties — schemas,
 * descriptions, `toModelOutput`, approval settings — untouched, and its types exactly the toolset's).
 *
 * A tool's identity is its key in the toolset and its cache key is its input only: the `toolCallId`, `messages`,
 * `abortSignal` and `context` the SDK passes with every call never are, so the same input hits whichever step or
 * conversation asks. Tools not in `spec` run every time, never cached or coalesced, but inside a loop-detecting
 * AgentCacheSession their calls are recorded by input like the others'. Errors are never cached.
 *
 * A tool whose `execute` returns an AsyncIterable (preliminary results) is replayed on a hit: the wrapped
 * `execute` returns an AsyncIterable synchronously too, yielding the values of its own execution as they come or
 * the stored ones. That is known at wrap time for an `async function*`; a tool that returns an AsyncIterable
 * from a plain function is learned on its first call (which still returns the right final output, as a value).
 */
export function cacheTools<TOOLS extends ToolSet>(tools: TOOLS, spec: CacheToolsSpec<TOOLS>): TOOLS {
  if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) {
    throw new AgentCacheTypeError(`${OWNER}: the first argument must be a toolset (an object of tools)`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new AgentCacheTypeError(`${OWNER}: the second argument must be an object of tool specs`);
  }
  const specs = spec as Record<string, unknown>;
  for (const name of Object.keys(specs)) {
    if (specs[name] !== undefined && !Object.hasOwn(tools, name)) {
      throw new AgentCacheTypeError(
        `${OWNER}: spec names ${JSON.stringify(name)}, which is not a tool of this toolset (its tools: ${
          Object.keys(tools).join(', ') || 'none'
        })`,
      );
    }
  }
  const wrapped: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools as Record<string, { execute?: unknown }>)) {
    const own = specs[name];
    const execute = tool?.execute;
    if (typeof execute !== 'function') {
      if (own !== undefined) {
        throw new AgentCacheTypeError(
          `${OWNER}: tool ${JSON.stringify(name)} has no execute function to cache (a provider-executed tool, or one whose results the client supplies)`,
        );
      }
      wrapped[name] = tool;
      continue;
    }
    if (own !== undefined) checkToolSpec(own, `${OWNER}: spec.${name}`);
    wrapped[name] = {
      ...tool,
      execute: wrapExecute(name, tool, execute as Execute, own as Spec | undefined),
    };
  }
  return wrapped as TOOLS;
}

type Spec = ToolSpec<unknown, unknown>;

function wrapExecute(name: string, tool: object, execute: Execute, spec: Spec | undefined): Execute {
  const core = adapterTool<CallContext, unknown>(
    name,
    storedOutputSpec(spec),
    function run(this: CallContext, input: unknown) {
      return execution(execute.call(this.tool, input, this.options), this.channel);
    },
    // Wrapping this same tool again (the toolset wrapped per request) is silent; a different tool under the name
    // warns, and so does a global read re-made from the same source per request (its closures share entries).
    { origin: { origin: tool, source: Function.prototype.toString.call(execute) } },
  );
  return through(core as AdapterTool<CallContext, unknown>, execute);
}

/** The spec as the core sees it: what it stores is a `StoredToolOutput`, while `shouldCache` judges the output. */
function storedOutputSpec(spec: Spec | undefined): Spec | undefined {
  if (spec === undefined || isWriteSpec(spec) || spec.shouldCache === undefined) return spec;
  const shouldCache = spec.shouldCache;
  return { ...spec, shouldCache: (stored) => shouldCache(finalOutput(stored as StoredToolOutput)) };
}

/**
 * The wrapped `execute`: through the core, returning an AsyncIterable synchronously for a tool known to produce
 * preliminary results, else a promise of the output.
 */
function through(core: AdapterTool<CallContext, unknown>, execute: Execute): Execute {
  let streams = isAsyncGeneratorFunction(execute);
  const learn = (stored: unknown): unknown => {
    if (typeof stored === 'object' && stored !== null && 'values' in stored) streams = true;
    return finalOutput(stored as StoredToolOutput | undefined);
  };
  return function wrappedExecute(this: unknown, input, options) {
    if (streams) {
      return preliminaryResults(
        (channel) =>
          core.call({ tool: this, options, channel }, input) as Promise<StoredToolOutput | undefined>,
      );
    }
    return core.call({ tool: this, options, channel: undefined }, input).then(learn);
  };
}

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor as typeof Function;

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return fn instanceof AsyncGeneratorFunction;
}
