import type { BackendEntry } from '../contract.js';
import { fromStorable } from '../storable-text.js';

/**
 * An entry is one Redis string: a JSON header `[expiresAt, tags, gens, sessionId, createdAt, durationMs]` (tags and
 * session id in their
 * storable() form), a newline, then the serialized value. JSON never contains a raw newline, so the first one ends
 * the header. One string (not a hash) is what lets a hit be a single MGET of the entry and its tags' generations.
 */
export type Header = [
  expiresAt: number,
  tags: string[],
  gens: number[],
  sessionId: string | null,
  createdAt?: number,
  durationMs?: number,
];

const NEWLINE = 0x0a;

export function encodeEntry(header: Header, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), value]);
}

/** Throws for a blob that is not an entry (no header line, or a header of another shape). */
export function splitEntry(blob: Buffer): { header: Header; value: Buffer } {
  const nl = blob.indexOf(NEWLINE);
  if (nl === -1) throw new TypeError('not an entry: no header');
  const header = JSON.parse(blob.toString('utf8', 0, nl)) as unknown;
  if (
    !Array.isArray(header) ||
    typeof header[0] !== 'number' ||
    !Array.isArray(header[1]) ||
    !Array.isArray(header[2]) ||
    header[1].length !== header[2].length
  )
    throw new TypeError('not an entry: bad header');
  return { header: header as Header, value: blob.subarray(nl + 1) };
}

/** A plain, immutable entry (it may sit in the L1 and be read many times, so no lazy getters). */
export function toEntry(header: Header, value: unknown): BackendEntry {
  return {
    value,
    expiresAt: header[0],
    tags: header[1].map(fromStorable),
    gens: header[2],
    sessionId: header[3] === null ? undefined : fromStorable(header[3]),
    createdAt: header[4] ?? 0,
    durationMs: header[5] ?? 0,
  };
}
