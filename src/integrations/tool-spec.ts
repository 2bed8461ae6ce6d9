import type { Backend } from '../backends/contract.js';
import { AgentCacheTypeError } from '../errors.js';
import { checkScope, resourceNames, type Scope } from '../tool/options.js';
import { parseTtl, type Ttl } from '../tool/ttl.js';

/** Resource tags: fixed, or a function of the tool's input. */
export type ResourcesOf<I> = string | readonly string[] | ((input: I) => string | readonly string[]);

/** A read tool of a framework adapter: cached by its input. */
export interface ReadToolSpec<I, R = unknown> {
  /** Resource tags of the result; invalidating one makes the entry stale. */
  readonly resource?: ResourcesOf<I>;
  /** `'session'`: entries belong to the active `AgentCacheSession` only. Default `'global'`. */
  readonly scope?: Scope;
  /** Lifetime of an entry. */
  readonly ttl?: Ttl;
  /** The key material; default: the whole input. */
  readonly key?: (input: I) => unknown;
  /** Results for which it returns false are returned but not stored. */
  readonly shouldCache?: (result: R) => boolean;
  /** (A read has no `invalidates`: that makes the spec a write.) */
  readonly invalidates?: never;
}

/** A write tool of a framework adapter: invalidates its resources before it runs and when it settles. */
export interface WriteToolSpec<I> {
  readonly invalidates: ResourcesOf<I>;
  /** `'global'` (default) reaches every session too; `'session'` only the active session. */
  readonly scope?: Scope;
  /** (A write takes `invalidates` and `scope` only.) */
  readonly resource?: never;
  readonly ttl?: never;
  readonly key?: never;
  readonly shouldCache?: never;
}

export type ToolSpec<I, R = unknown> = ReadToolSpec<I, R> | WriteToolSpec<I>;

const READ_KEYS = new Set(['resource', 'scope', 'ttl', 'key', 'shouldCache']);
const WRITE_KEYS = new Set(['invalidates', 'scope']);

export function isWriteSpec<I, R>(spec: ToolSpec<I, R>): spec is WriteToolSpec<I> {
  return Object.hasOwn(spec, 'invalidates');
}

/**
 * Checks a spec at wrap time, so a typo is a TypeError naming it rather than a silently cached write
 * (`{ invalidate: 'x' }` would otherwise read as a read spec). `owner` names the place, e.g. `cacheMcpClient:
 * tools.delete_file`.
 */
export function checkToolSpec(spec: unknown, owner: string): asserts spec is ToolSpec<unknown, unknown> {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new AgentCacheTypeError(
      `${owner}: a tool spec must be an object ({ resource?, scope?, ttl?, key?, shouldCache? } or { invalidates, scope? })`,
    );
  }
  const write = Object.hasOwn(spec, 'invalidates');
  const allowed = write ? WRITE_KEYS : READ_KEYS;
  for (const name of Object.keys(spec)) {
    if (!allowed.has(name)) {
      throw new AgentCacheTypeError(
        `${owner}: unknown option \`${name}\` in a ${write ? 'write' : 'read'} spec (allowed: ${[...allowed].join(', ')})`,
      );
    }
  }
  const s = spec as Record<string, unknown>;
  checkScope(s.scope, owner);
  if (write) {
    checkResources(s.invalidates, owner, 'invalidates');
    return;
  }
  if (s.resource !== undefined) checkResources(s.resource, owner, 'resource');
  parseTtl(s.ttl, owner);
  for (const name of ['key', 'shouldCache']) {
    if (s[name] !== undefined && typeof s[name] !== 'function') {
      throw new AgentCacheTypeError(`${owner}: option \`${name}\` must be a function`);
    }
  }
}

function checkResources(value: unknown, owner: string, option: string): void {
  if (typeof value === 'function') return;
  try {
    resourceNames(value, owner);
  } catch {
    throw new AgentCacheTypeError(
      `${owner}: option \`${option}\` must be a non-empty string, an array of them, or a function of the input returning one`,
    );
  }
}

/** Options every adapter may give for the tools it wraps. */
export interface AdapterDefaults {
  /** Where entries live. Default: the configured backend. */
  readonly backend?: Backend;
}
