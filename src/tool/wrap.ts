import { AgentCacheTypeError } from '../errors.js';
/** A read tool: the original function, cached. */
export type CachedTool<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  /** The tool's identity in keys, metrics and loop detection. */
  readonly toolName: string;
  /** Drops the entry for these arguments in the current scope. */
  invalidate(...args: A): Promise<void>;
  /** Drops every entry of this tool, in every scope. */
  clear(): Promise<void>;
};

/** A write tool: the original function, invalidating its resources before it runs and when it settles. */
export type InvalidatingTool<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  readonly toolName: string;
};

/** What `AgentCache(options)` returns: a function wrapper that is also a TC39 method decorator. */
export interface ReadToolWrapper {
  <A extends unknown[], R>(fn: (...args: A) => R): CachedTool<A, Awaited<R>>;
  <This, A extends unknown[], R>(
    method: (this: This, ...args: A) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
  ): (this: This, ...args: A) => Promise<Awaited<R>>;
}

/** What `AgentCacheInvalidator(options)` returns: a function wrapper that is also a TC39 method decorator. */
export interface WriteToolWrapper {
  <A extends unknown[], R>(fn: (...args: A) => R): InvalidatingTool<A, Awaited<R>>;
  <This, A extends unknown[], R>(
    method: (this: This, ...args: A) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
  ): (this: This, ...args: A) => Promise<Awaited<R>>;
}

export type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * The tool's name: the `name` option, else the decorated method's name, else the function's own name. An
 * anonymous function without `name` is a TypeError: the name keys the cache, so guessing one would let two tools
 * share entries.
 */
export function toolNameOf(
  owner: string,
  fn: unknown,
  context: unknown,
  explicit: string | undefined,
): string {
  if (typeof fn !== 'function') {
    throw new AgentCacheTypeError(
      `${owner}(...) must wrap a function, got ${fn === null ? 'null' : typeof fn}`,
    );
  }
  if (context !== undefined) {
    const kind = (context as { kind?: unknown }).kind;
    if (kind !== 'method') {
      throw new AgentCacheTypeError(`${owner} decorates class methods only, not a ${String(kind)}`);
    }
  }
  if (explicit !== undefined) return explicit;
  if (context !== undefined) {
    const name = (context as ClassMethodDecoratorContext).name;
    return typeof name === 'symbol' ? (name.description ?? '') : name;
  }
  if (fn.name) return fn.name;
  throw new AgentCacheTypeError(
    `${owner}: the wrapped function is anonymous; pass option \`name\` (the tool's identity in keys and metrics)`,
  );
}
