import { noteWrap } from './name-registry.js';
import { type AgentCacheInvalidatorOptions, writeSpec } from './options.js';
import { type AnyFunction, toolNameOf, type WriteToolWrapper } from './wrap.js';
import { WriteTool } from './write-tool.js';

/**
 * Wraps a write tool: before it runs, every entry tagged with one of its resources becomes stale, and again when it
 * settles. Its result or error passes through unchanged. `resource` is required.
 */
export function AgentCacheInvalidator(options: AgentCacheInvalidatorOptions): WriteToolWrapper {
  const spec = writeSpec(options);
  return function wrapWriteTool(fn: unknown, context?: unknown) {
    const name = toolNameOf('AgentCacheInvalidator', fn, context, options.name);
    noteWrap(name, fn as AnyFunction, {
      kind: 'write',
      scope: spec.scope,
      keyed: false,
      inferred: options.name === undefined && context === undefined,
    });
    const tool = new WriteTool(name, spec, fn as AnyFunction);
    const invalidating = function (this: unknown, ...args: unknown[]) {
      return tool.call(this, args);
    };
    Object.defineProperties(invalidating, {
      name: { value: name },
      toolName: { value: name, enumerable: true },
    });
    return invalidating;
  } as WriteToolWrapper;
}
