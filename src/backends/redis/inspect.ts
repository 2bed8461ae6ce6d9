import { describeEntry, type EntryInfo, type InspectOptions } from '../inspection.js';
import { fromStorable } from '../storable-text.js';
import { type EntryHeader, readHeader, readTags } from './entry.js';

export interface InspectIo {
  /** `P{}e:`: what every entry key begins with. */
  readonly entryPrefix: string;
  /** The entry keys of the prefix, a SCAN batch at a time (every node of a cluster). */
  batches(): AsyncIterable<readonly string[]>;
  /** For each key: its header (null when the key is gone or is not an entry) and the value's size in bytes. */
  describe(keys: readonly string[]): Promise<readonly (readonly [Buffer | null, number])[]>;
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
    const entries = described.map(([head]) => parse(head));
    const tags = [...new Set(entries.flatMap((e) => (e === undefined ? [] : e.tags)))];
    const gens = await io.generations(tags);
    const current = new Map<string, number | undefined>(tags.map((tag, i) => [tag, gens?.[i]]));
    for (let i = 0; i < keys.length; i++) {
      const found = entries[i];
      if (found === undefined) continue;
      const { header } = found;
      const entryTags = found.tags;
      const stale = entryTags.some((tag, j) => current.get(tag) !== header.gens[j]);
      if (stale && !options.stale) continue;
      yield describeEntry({
        key: fromStorable(keys[i]!.slice(io.entryPrefix.length)),
        tags: entryTags,
        sessionId: header.sessionId === undefined ? undefined : fromStorable(header.sessionId),
        bytes: described[i]![1],
        createdAt: header.createdAt,
        expiresAt: header.expiresAt,
        durationMs: header.durationMs,
        stale,
      });
    }
  }
}

function parse(head: Buffer | null): { header: EntryHeader; tags: string[] } | undefined {
  if (head === null) return undefined;
  try {
    const header = readHeader(head);
    return { header, tags: readTags(head, header) };
  } catch {
    return undefined; // not an entry
  }
}
