import { getDefaults } from '../config.js';
import { contextStorage } from '../session/context.js';
import type { Scope } from './options.js';

/**
 * What a framework adapter wraps, set on the function it hands to the core (`fn[WRAPPED_ORIGIN] = {...}`): the
 * framework's own tool (or client), so wrapping that same tool again stays silent, and a source fingerprint that
 * tells two different tools apart when the wrapped function is the adapter's own closure, the same for every tool.
 */
export const WRAPPED_ORIGIN: unique symbol = Symbol('agent-cache.wrapped-origin');

export interface WrappedOrigin {
  /** The framework object wrapped (a tool, an MCP client): wrapping it again under the same name is silent. */
  readonly origin: object;
  /** Equal for the same tool made again (a per-request factory), different for another tool. */
  readonly source: string;
  /** How to give two such tools their own entries (added to the re-wrap warning). */
  readonly hint?: string;
}

/** What one tool name has been wrapped from in this process. */
interface NameRecord {
  readonly source: string;
  /** The `backend` options it was wrapped with (DEFAULT for none): copies on other backends keep entries apart. */
  readonly backends: WeakSet<object>;
  readonly origins: WeakSet<object>;
  warnedDifferent: boolean;
  warnedRewrap: boolean;
}

/** Beyond this many names (tools named per user, say) new names are not tracked: the map stays bounded. */
const MAX_NAMES = 10_000;
const records = new Map<string, NameRecord>();
/** Stands for "the configured default backend" among the backends of a name. */
const DEFAULT = {};

const ADAPTERS =
  'agent-cache/ai-sdk `cacheTools`, agent-cache/openai-agents `cacheAgentTool`, agent-cache/langchain ' +
  '`cacheLangChainTool` or agent-cache/mcp `cacheMcpClient`';

export interface WrapFacts {
  readonly kind: 'read' | 'write';
  readonly scope: Scope;
  /** The user chose the key material (`key` option): they have decided what tells callers apart. */
  readonly keyed: boolean;
  /** The name came from the function itself, not from a `name` option or a decorated method. */
  readonly inferred: boolean;
  /** The `backend` option, if any. */
  readonly backend?: object | undefined;
}

/**
 * Called once per wrap (never on a call). Warns, once per tool name, when the name now stands for two different
 * functions (they share entries, metrics and loop detection), and when a global read tool is wrapped again from
 * the same source — a tool made per request, whose closures (one per user, say) then share one set of entries.
 * Wrapping the same function (or framework tool) twice is silent: its entries are rightly shared; so is a copy
 * wrapped onto a backend no other copy uses (an agent restarted on a new DiskBackend shares nothing in memory).
 */
export function noteWrap(name: string, fn: object, facts: WrapFacts): void {
  const declared = (fn as { [WRAPPED_ORIGIN]?: WrappedOrigin })[WRAPPED_ORIGIN];
  const origin = declared?.origin ?? fn;
  const record = records.get(name);
  if (record === undefined) {
    if (records.size < MAX_NAMES) {
      records.set(name, {
        source: declared?.source ?? sourceOf(fn),
        backends: new WeakSet([facts.backend ?? DEFAULT]),
        origins: new WeakSet([origin]),
        warnedDifferent: false,
        warnedRewrap: false,
      });
    }
    return;
  }
  if (record.warnedDifferent && record.warnedRewrap) return;
  // Once the re-wrap warning is out, only the source tells (the same function has the same source).
  if (!record.warnedRewrap) {
    if (record.origins.has(origin)) return;
    record.origins.add(origin);
  }
  if ((declared?.source ?? sourceOf(fn)) !== record.source) {
    if (record.warnedDifferent) return;
    record.warnedDifferent = true;
    warn(
      `agent-cache: two different functions are wrapped under the tool name ${JSON.stringify(name)}` +
        (facts.inferred ? ' (taken from the functions’ own name)' : '') +
        ': they share cache entries, metrics and loop detection, so one can return the other’s result. ' +
        `Give each its own \`name\` option, or wrap framework tools with their adapter (${ADAPTERS}), which names ` +
        'each tool as the framework does. (Warned once per tool name.)',
    );
    return;
  }
  if (facts.kind !== 'read' || facts.scope !== 'global' || facts.keyed || record.warnedRewrap) return;
  const backend = facts.backend ?? DEFAULT;
  if (!record.backends.has(backend)) {
    record.backends.add(backend);
    return;
  }
  record.warnedRewrap = true;
  warn(
    `agent-cache: the tool ${JSON.stringify(name)} was wrapped again from the same source (a tool made per ` +
      'request?). It is global-scoped, so every wrapped copy shares one set of entries: a result computed for one ' +
      "user can be served to another. If it returns per-user data, use `scope: 'session'` or a `key` that " +
      `includes the user${declared?.hint ? `, or ${declared.hint}` : ''}; otherwise wrap it once, at module ` +
      'level. (Warned once per tool name.)',
  );
}

function sourceOf(fn: object): string {
  try {
    return Function.prototype.toString.call(fn);
  } catch {
    return '';
  }
}

function warn(message: string): void {
  (contextStorage.getStore()?.session.logger ?? getDefaults().logger).warn(message);
}
