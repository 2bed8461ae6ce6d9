import { describeEntry, type EntryInfo, type InspectOptions } from '../inspection.js';
import { fromStorable } from '../storable-text.js';
import type { Header } from './entry.js';

/** Keys asked of SCAN per step, and so entries described per script call. */
const BATCH = 500;

export interface InspectIo {
  readonly prefix: string;
  /** One SCAN step: [next cursor, keys]. */
  scan(cursor: string, match: string, count: number): Promise<[string, string[]]>;
  /** Runs the inspect script over a batch of entry keys. */
  describe(keys: readonly string[]): Promise<unknown[]>;
}

/** Escapes SCAN's glob characters. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * SCANs the entry keys of the prefix (`P e:*`) and describes each batch with one script call, atomically per batch
 * (as with any SCAN, an entry written meanwhile may or may not be seen, and one may be seen twice; duplicates are
 * dropped here). Only keys that are entries of this prefix are kept: their remainder is a key the core makes (it
 * starts with a JSON string, `llm"` or the storable() escape), so a longer prefix that begins with this one and
 * then `e:` is not mistaken for it.
 */
export async function* inspectRedis(io: InspectIo, options: InspectOptions): AsyncGenerator<EntryInfo> {
  const entryPrefix = `${io.prefix}e:`;
  const match = `${globEscape(entryPrefix)}*`;
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await io.scan(cursor, match, BATCH);
    cursor = next;
    const keys = found.filter((k) => !seen.has(k) && isEntryKey(k.slice(entryPrefix.length)));
    if (keys.length === 0) continue;
    for (const k of keys) seen.add(k);
    const reply = await io.describe(keys);
    for (let i = 0; i < keys.length; i++) {
      const text = reply[3 * i];
      if (typeof text !== 'string' && !Buffer.isBuffer(text)) continue; // gone meanwhile, or not an entry
      const stale = Number(reply[3 * i + 2]) === 1;
      if (stale && !options.stale) continue;
      const header = JSON.parse(String(text)) as Header;
      yield describeEntry({
        key: fromStorable(keys[i]!.slice(entryPrefix.length)),
        tags: header[1].map(fromStorable),
        sessionId: header[3] === null ? undefined : fromStorable(header[3]),
        bytes: Number(reply[3 * i + 1]),
        createdAt: header[4] ?? 0,
        expiresAt: header[0],
        durationMs: header[5] ?? 0,
        stale,
      });
    }
  } while (cursor !== '0');
}

function isEntryKey(rest: string): boolean {
  return rest.startsWith('"') || rest.startsWith('\0') || rest.startsWith('llm"');
}
