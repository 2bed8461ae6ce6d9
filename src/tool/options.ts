import type { Backend } from '../backends/contract.js';
import { AgentCacheTypeError } from '../errors.js';
import { parseTtl, type Ttl } from './ttl.js';

export type Scope = 'global' | 'session';

/**
 * A function of the tool's arguments. Declared through a method so that it is checked bivariantly: a callback
 * typed `(userId: string) => …` is accepted for a tool whose arguments are only known at wrap time.
 */
type ArgsFn<R> = { fn(...args: unknown[]): R }['fn'];

export type ResourceOption = string | readonly string[] | ArgsFn<string | readonly string[]>;

export interface AgentCacheOptions {
  /** Resource tags of the result; invalidating any of them makes the entry stale. */
  readonly resource?: ResourceOption;
  /** `'session'`: entries belong to the active session only. Default `'global'`. */
  readonly scope?: Scope;
  /** Lifetime of an entry. Default: no expiry (LRU-bounded). */
  readonly ttl?: Ttl;
  /** The tool's identity in keys, metrics and loop detection. Default: the function's (or method's) name. */
  readonly name?: string;
  /** The key material; default: all arguments. */
  readonly key?: ArgsFn<unknown>;
  /** Where entries live. Default: the configured backend. */
  readonly backend?: Backend;
  /** Results for which it returns false are returned but not stored. */
  readonly shouldCache?: (result: unknown) => boolean;
}

export interface AgentCacheInvalidatorOptions {
  /** The resources this write changes (required). */
  readonly resource: ResourceOption;
  /** `'global'` (default) reaches every session too; `'session'` only the active session. */
  readonly scope?: Scope;
  readonly name?: string;
  /** Default: every backend a wrapped tool of this process uses. */
  readonly backend?: Backend;
  /**
   * A strict write does not start its mutation, nor return, before its invalidations are recorded in every
   * backend: when one cannot record them within `timeout` ms (default 5 000), the call rejects with
   * `InvalidationUnrecordedError` (before the mutation: it did not run; after it: the error carries its outcome).
   * Default `false`: the mutation runs anyway and what could not be recorded stays pending in this process.
   */
  readonly strict?: Strict;
}

/** `true`, or the longest wait for an invalidation to be recorded (`{ timeout: ms }`, default 5 000). */
export type Strict = boolean | { readonly timeout?: number };

/** Validated read-tool options. */
export interface ReadSpec {
  readonly resources: ResourceResolver;
  readonly scope: Scope;
  readonly ttl: number | undefined;
  readonly key: ArgsFn<unknown> | undefined;
  readonly backend: Backend | undefined;
  readonly shouldCache: ((result: unknown) => boolean) | undefined;
}

export interface WriteSpec {
  readonly resources: ResourceResolver;
  readonly scope: Scope;
  readonly backend: Backend | undefined;
  /** Strict writes: how long to wait for an invalidation to be recorded, in ms; undefined when not strict. */
  readonly strictTimeout: number | undefined;
}

/** Resolves resource names for one call's arguments (validated, deduplicated). */
export type ResourceResolver = (thisArg: unknown, args: readonly unknown[]) => readonly string[];

export function readSpec(options: AgentCacheOptions): ReadSpec {
  const owner = 'AgentCache';
  checkObject(options, owner);
  checkName(options.name, owner);
  checkFunction(options.key, owner, 'key');
  checkFunction(options.shouldCache, owner, 'shouldCache');
  checkBackend(options.backend, owner);
  return {
    resources: resourceResolver(options.resource, owner, false),
    scope: checkScope(options.scope, owner),
    ttl: parseTtl(options.ttl, owner),
    key: options.key,
    backend: options.backend,
    shouldCache: options.shouldCache,
  };
}

export function writeSpec(options: AgentCacheInvalidatorOptions): WriteSpec {
  const owner = 'AgentCacheInvalidator';
  checkObject(options, owner);
  checkName(options.name, owner);
  checkBackend(options.backend, owner);
  return {
    resources: resourceResolver(options.resource, owner, true),
    scope: checkScope(options.scope, owner),
    backend: options.backend,
    strictTimeout: strictTimeout(options.strict, owner),
  };
}

/** The wait bound of a `strict` option value (undefined: not strict). */
export function strictTimeout(strict: unknown, owner: string): number | undefined {
  if (strict === undefined || strict === false) return undefined;
  if (strict === true) return 5_000;
  const timeout =
    typeof strict === 'object' && strict !== null ? (strict as { timeout?: unknown }).timeout : strict;
  if (typeof strict === 'object' && strict !== null && timeout === undefined) return 5_000;
  if (typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0) return timeout;
  throw new AgentCacheTypeError(
    `${owner}: option \`strict\` must be a boolean or { timeout: ms } with a non-negative timeout, got ${describe(strict)}`,
  );
}

export function checkScope(scope: unknown, owner: string): Scope {
  if (scope === undefined) return 'global';
  if (scope === 'global' || scope === 'session') return scope;
  throw new AgentCacheTypeError(
    `${owner}: option \`scope\` must be 'global' or 'session', got ${JSON.stringify(scope)}`,
  );
}

/** The resource names of a `resource` option value, validated. */
export function resourceNames(value: unknown, owner: string): readonly string[] {
  if (typeof value === 'string') {
    if (value !== '') return [value];
  } else if (Array.isArray(value) && value.every((r) => typeof r === 'string' && r !== '')) {
    return value.length > 1 ? [...new Set<string>(value)] : (value as string[]);
  }
  throw new AgentCacheTypeError(
    `${owner}: option \`resource\` must be a non-empty string, an array of them, or a function returning one; got ${describe(value)}`,
  );
}

function resourceResolver(
  option: ResourceOption | undefined,
  owner: string,
  required: boolean,
): ResourceResolver {
  if (option === undefined) {
    if (required) throw new AgentCacheTypeError(`${owner}: option \`resource\` is required`);
    return () => [];
  }
  if (typeof option === 'function') {
    return (thisArg, args) => resourceNames(option.apply(thisArg, args as unknown[]), owner);
  }
  const names = resourceNames(option, owner);
  return () => names;
}

function checkObject(options: unknown, owner: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new AgentCacheTypeError(`${owner}: options must be an object, got ${describe(options)}`);
  }
}

function checkName(name: unknown, owner: string): void {
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new AgentCacheTypeError(
      `${owner}: option \`name\` must be a non-empty string, got ${describe(name)}`,
    );
  }
}

function checkFunction(value: unknown, owner: string, option: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new AgentCacheTypeError(
      `${owner}: option \`${option}\` must be a function, got ${describe(value)}`,
    );
  }
}

function checkBackend(backend: unknown, owner: string): void {
  if (backend !== undefined && typeof (backend as { get?: unknown } | null)?.get !== 'function') {
    throw new AgentCacheTypeError(`${owner}: option \`backend\` must implement the Backend interface`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
