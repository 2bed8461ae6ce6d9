import type { Backend } from '../backends/contract.js';
import { AgentCache } from '../tool/agent-cache.js';
import { AgentCacheInvalidator } from '../tool/agent-cache-invalidator.js';
import { WRAPPED_ORIGIN, type WrappedOrigin } from '../tool/name-registry.js';
import { resourceNames } from '../tool/options.js';
import type { Ttl } from '../tool/ttl.js';
import { UncachedTool } from '../tool/uncached-tool.js';
import type { AnyFunction } from '../tool/wrap.js';
import { isWriteSpec, type ResourcesOf, type ToolSpec } from './tool-spec.js';

/**
 * One framework tool on the core: a read (cached), a write (invalidating) or an uncached tool that loop detection
 * still sees. The key is the input only: the framework's per-call context (a tool-call id, request options, a run
 * manager) travels as `this` of the call, which the core passes to the function but never keys on.
 */
export interface AdapterTool<C, I> {
  call(context: C, input: I): Promise<unknown>;
}

export interface AdapterToolOptions {
  /** The framework object wrapped (for the wrap-time check of tool names). */
  readonly origin: WrappedOrigin;
  /** Resources every read of this tool carries and every write of it invalidates. */
  readonly resources?: readonly string[];
  /** The lifetime of reads whose spec has none. */
  readonly defaultTtl?: Ttl;
  readonly backend?: Backend;
  /**
   * A result that reports a failure (an MCP result with `isError`): it is returned to the caller, but never stored,
   * and counts as a failure (`errors`, retry storms), exactly like a thrown error.
   */
  readonly failed?: (result: unknown) => boolean;
}

/** A result the tool reported as failed, carried through the core as a rejection and handed back as a result. */
class FailedResult {
  constructor(readonly result: unknown) {}
}

function unwrapFailed(error: unknown): unknown {
  if (error instanceof FailedResult) return error.result;
  throw error;
}

export function adapterTool<C, I, R = unknown>(
  name: string,
  spec: ToolSpec<I, R> | false | undefined,
  run: (this: C, input: I) => unknown,
  options: AdapterToolOptions,
): AdapterTool<C, I> {
  const failed = options.failed;
  const execute: AnyFunction & { [WRAPPED_ORIGIN]?: WrappedOrigin } =
    failed === undefined
      ? (run as AnyFunction)
      : async function (this: unknown, input: unknown) {
          const result = await run.call(this as C, input as I);
          if (failed(result)) throw new FailedResult(result);
          return result;
        };
  execute[WRAPPED_ORIGIN] = options.origin;
  const extra = options.resources ?? [];
  let wrapped: (this: C, input: I) => Promise<unknown>;
  if (spec === undefined || spec === false) {
    const tool = new UncachedTool(name, execute);
    wrapped = function (this: C, input: I) {
      return tool.call(this, [input]);
    };
  } else if (isWriteSpec(spec)) {
    wrapped = AgentCacheInvalidator({
      name,
      resource: withResources(spec.invalidates, extra, name),
      scope: spec.scope,
      backend: options.backend,
    })(execute);
  } else {
    const key = spec.key;
    wrapped = AgentCache({
      name,
      resource:
        spec.resource === undefined && extra.length === 0
          ? undefined
          : withResources(spec.resource, extra, name),
      scope: spec.scope,
      ttl: spec.ttl ?? options.defaultTtl,
      key: key === undefined ? undefined : (input: unknown) => key(input as I),
      shouldCache: spec.shouldCache as ((result: unknown) => boolean) | undefined,
      backend: options.backend,
    })(execute);
  }
  if (failed === undefined) return { call: (context, input) => wrapped.call(context, input) };
  return { call: (context, input) => wrapped.call(context, input).catch(unwrapFailed) };
}

/** The spec's resources with `extra` added (for a function: added to what it returns for each input). */
function withResources<I>(
  resources: ResourcesOf<I> | undefined,
  extra: readonly string[],
  owner: string,
): string | readonly string[] | ((input: unknown) => readonly string[]) {
  if (extra.length === 0) return resources as string | readonly string[];
  if (resources === undefined) return extra;
  if (typeof resources === 'function') {
    return (input: unknown) => [...resourceNames(resources(input as I), owner), ...extra];
  }
  return [...(typeof resources === 'string' ? [resources] : resources), ...extra];
}
