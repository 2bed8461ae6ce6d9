import { noteWrap } from './name-registry.js';
import { type AgentCacheOptions, readSpec } from './options.js';
import { ReadTool } from './read-tool.js';
import { type AnyFunction, type ReadToolWrapper, toolNameOf } from './wrap.js';

/**
 * Caches a read-only tool. The returned value wraps a function (`AgentCache(opts)(fn)`) or decorates a class method
 * (`@AgentCache(opts)`). Options are validated here, at wrap time: a bad one is a TypeError naming it.
 *
 * A decorated method's cache belongs to the method, shared by every instance: `this` is not part of the key (use
 * `key` or `resource` functions, which receive `this`, when instances differ).
 */
export function AgentCache(options: AgentCacheOptions = {}): ReadToolWrapper {
  const spec = readSpec(options);
  return function wrapReadTool(fn: unknown, context?: unknown) {
    const name = toolNameOf('AgentCache', fn, context, options.name);
    noteWrap(name, fn as AnyFunction, {
      kind: 'read',
      scope: spec.scope,
      keyed: spec.key !== undefined,
      inferred: options.name === undefined && context === undefined,
      backend: spec.backend,
    });
    const tool = new ReadTool(name, spec, fn as AnyFunction);
    const cached = function (this: unknown, ...args: unknown[]) {
      return tool.call(this, args);
    };
    Object.defineProperties(cached, {
      name: { value: name },
      toolName: { value: name, enumerable: true },
      invalidate: {
        value(this: unknown, ...args: unknown[]) {
          return tool.invalidate(this, args);
        },
      },
      clear: { value: () => tool.clear() },
    });
    return cached;
  } as ReadToolWrapper;
}
