import { describeEntry, type EntryInfo, type InspectOptions } from '../inspection.js';
import { fromStorable } from '../storable-text.js';
import type { Header } from './entry.js';

export interface InspectIo {
  /** `P{}e:`: what every entry key begins with. */
  readonly entryPrefix: string;
  /** The entry keys of the prefix, a SCAN batch at a time (every node of a cluster). */
  batches(): AsyncIterable<readonly string[]>;
  /** For each key: its header line (null when the key is gone or is not an entry) and the value's size in bytes. */
  describe(keys: readonly string[]): Promise<readonly (readonly [string | null, number])[]>;
  /** The current generation of each tag (the core's forms), in order; undefined when a shard has no floor. */
  generations(tags: readonly string[]): Promise<readonly number[] | undefined>;
}

/**
 * Lists the entries of a prefix: SCANs its entry keys (`P{}e:*`, which no other prefix's keys match), reads each
 * batch's headers and value sizes with one script (values stay in Redis), and decides which entries are stale with
 * one read of the current generations of the batch's tags. As with any SCAN, an entry written meanwhile may or may
 * not be seen, and one may be seen twice; duplicates are dropped here.
 */
export async function* inspectRedis(io: InspectIo, options: InspectOptions): AsyncGenerator<EntryInfo> {
  const seen = new Set<string>();
  for await (const found of io.batches()) {
    const keys = found.filter((k) => !seen.has(k));
    if (keys.length === 0) continue;
    for (const k of keys) seen.add(k);
    const described = await io.describe(keys);
    const headers: (Header | undefined)[] = described.map(([text]) => parseHeader(text));
    const tags = [...new Set(headers.flatMap((h) => (h === undefined ? [] : h[1].map(fromStorable))))];
    const gens = await io.generations(tags);
    const current = new Map<string, number | undefined>(tags.map((tag, i) => [tag, gens?.[i]]));
    for (let i = 0; i < keys.length; i++) {
      const header = headers[i];
      if (header === undefined) continue;
      const entryTags = header[1].map(fromStorable);
      const stale = entryTags.some((tag, j) => current.get(tag) !== header[2][j]);
      if (stale && !options.stale) continue;
      yield describeEntry({
        key: fromStorable(keys[i]!.slice(io.entryPrefix.length)),
        tags: entryTags,
        sessionId: header[3] === null ? undefined : fromStorable(header[3]),
        bytes: described[i]![1],
        createdAt: header[4] ?? 0,
        expiresAt: header[0],
        durationMs: header[5] ?? 0,
        stale,
      });
    }
  }
}

function parseHeader(text: string | null): Header | undefined {
  if (text === null) return undefined;
  try {
    const h = JSON.parse(text) as unknown;
    if (Array.isArray(h) && typeof h[0] === 'number' && Array.isArray(h[1]) && Array.isArray(h[2]))
      return h as Header;
  } catch {
    // not an entry
  }
  return undefined;
}
