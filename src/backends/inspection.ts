import { jsonStringAt, parseTag, parseToolKey } from '../tool/tags.js';

/**
 * Looking inside a persistent cache without using it: what the `agent-cache` command shows. Backends that can be
 * inspected (DiskBackend, RedisBackend) implement `InspectableBackend`; an inspection never serves, touches or
 * drops an entry, and reads values only to measure them.
 */
export interface InspectableBackend {
  /**
   * Every entry, in batches (a large cache is never loaded at once): expired entries not yet swept included,
   * invalidated ones only with `stale: true`. The order is the backend's own.
   */
  inspect(options?: InspectOptions): AsyncIterable<EntryInfo>;
}

export interface InspectOptions {
  /** Also yield entries that can never be served again (one of their tags was invalidated). Default false. */
  readonly stale?: boolean;
}

/** What kind of entry: a tool result, a model response (`BackendResponseCache`), or something else. */
export type EntryKind = 'tool' | 'response' | 'unknown';

export interface EntryInfo {
  readonly key: string;
  readonly kind: EntryKind;
  /** The `configure({ namespace })` it was written under. */
  readonly namespace: string;
  /** The tool's name (`(response)` for a model response, `(unknown)` when the key says nothing). */
  readonly tool: string;
  readonly scope: 'global' | 'session';
  readonly sessionId: string | undefined;
  /** The resource tags of the entry, in the order the tool gave them. */
  readonly resources: readonly string[];
  /** The canonical key material (`#` + hash when it was long); undefined when the key is not a tool key. */
  readonly material: string | undefined;
  /** Size of the stored value in bytes (serialized). */
  readonly bytes: number;
  /** When it was stored (ms since the epoch; 0: unknown, written before the backend recorded it). */
  readonly createdAt: number;
  /** Absolute expiry (ms since the epoch); 0: never. */
  readonly expiresAt: number;
  /** How long the execution that produced it took, in ms (what a hit on it saves). */
  readonly durationMs: number;
  /** An invalidation made it unservable (only yielded with `stale: true`). */
  readonly stale: boolean;
}

/** The tool name shown for entries of `BackendResponseCache` and for entries whose key says nothing. */
export const RESPONSE_TOOL = '(response)';
export const UNKNOWN_TOOL = '(unknown)';

/** What a backend knows about one stored entry, before its key and tags are interpreted. */
export interface RawEntryInfo {
  readonly key: string;
  readonly tags: readonly string[];
  readonly sessionId: string | undefined;
  readonly bytes: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly durationMs: number;
  readonly stale: boolean;
}

/** Decodes tool, namespace, resources and scope from an entry's key and tags (the formats of src/tool/tags.ts). */
export function describeEntry(raw: RawEntryInfo): EntryInfo {
  let tool: string | undefined;
  let namespace: string | undefined;
  const resources: string[] = [];
  for (const tag of raw.tags) {
    const parsed = parseTag(tag);
    if (parsed?.kind === 'tool') {
      tool ??= parsed.tool;
      namespace ??= parsed.namespace;
    } else if (parsed?.kind === 'resource') {
      resources.push(parsed.resource);
    }
  }
  const parsedKey = parseToolKey(raw.key);
  let kind: EntryKind = 'tool';
  if (tool === undefined && parsedKey !== undefined) {
    tool = parsedKey.tool;
    namespace = parsedKey.namespace;
  }
  if (tool === undefined) {
    const response = responseNamespace(raw.key);
    kind = response === undefined ? 'unknown' : 'response';
    tool = response === undefined ? UNKNOWN_TOOL : RESPONSE_TOOL;
    namespace = response ?? '';
  }
  return {
    key: raw.key,
    kind,
    namespace: namespace ?? '',
    tool,
    scope: raw.sessionId === undefined ? 'global' : 'session',
    sessionId: raw.sessionId,
    resources,
    material: parsedKey?.material,
    bytes: raw.bytes,
    createdAt: raw.createdAt,
    expiresAt: raw.expiresAt,
    durationMs: raw.durationMs,
    stale: raw.stale,
  };
}

/** `BackendResponseCache` keys are `llm` + the JSON namespace + the request key. */
function responseNamespace(key: string): string | undefined {
  return key.startsWith('llm"') ? jsonStringAt(key, 3)?.value : undefined;
}

export interface CacheStats {
  /** Entries that can still be served or have expired but not been swept yet (invalidated ones excluded). */
  entries: number;
  bytes: number;
  /** Entries with a TTL that has not passed yet. */
  expiring: number;
  /** Entries whose TTL has passed (dropped by the backend as it sweeps). */
  expired: number;
  /** Invalidated entries still stored (counted only when the inspection included them). */
  stale: number;
  tools: Map<string, { entries: number; bytes: number }>;
  resources: Map<string, { entries: number }>;
  namespaces: Map<string, { entries: number }>;
}

/** Adds up an inspection. `now` decides what has expired. */
export async function summarize(entries: AsyncIterable<EntryInfo>, now = Date.now()): Promise<CacheStats> {
  const stats: CacheStats = {
    entries: 0,
    bytes: 0,
    expiring: 0,
    expired: 0,
    stale: 0,
    tools: new Map(),
    resources: new Map(),
    namespaces: new Map(),
  };
  for await (const entry of entries) {
    if (entry.stale) {
      stats.stale++;
      continue;
    }
    stats.entries++;
    stats.bytes += entry.bytes;
    if (entry.expiresAt !== 0) {
      if (entry.expiresAt <= now) stats.expired++;
      else stats.expiring++;
    }
    const tool = stats.tools.get(entry.tool);
    if (tool === undefined) stats.tools.set(entry.tool, { entries: 1, bytes: entry.bytes });
    else {
      tool.entries++;
      tool.bytes += entry.bytes;
    }
    for (const resource of new Set(entry.resources)) {
      const r = stats.resources.get(resource);
      if (r === undefined) stats.resources.set(resource, { entries: 1 });
      else r.entries++;
    }
    const ns = stats.namespaces.get(entry.namespace);
    if (ns === undefined) stats.namespaces.set(entry.namespace, { entries: 1 });
    else ns.entries++;
  }
  return stats;
}

/** True for a backend with an `inspect()` method. */
export function isInspectable(backend: unknown): backend is InspectableBackend {
  return typeof (backend as { inspect?: unknown } | null)?.inspect === 'function';
}
