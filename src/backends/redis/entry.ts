import { AgentCacheError } from '../../errors.js';
import type { BackendEntry } from '../contract.js';
import { fromStorable, storable } from '../storable-text.js';

/**
 * An entry is one Redis string: a header, then the serialized value. One string (not a hash) is what lets a hit be
 * a single MGET of the entry and its tags' generations.
 *
 * The header is plain text that a hit reads without building anything it does not return:
 *
 *     A<n>:<expiresAt>,<createdAt>,<durationUs>,<tag count>,<gen>,…,<session>,<tag>…
 *
 * `<n>` is the byte length of everything after the colon up to the value; numbers are decimal integers; the session
 * is `-` (none) or `<bytes>:<text>`, each tag `<bytes>:<text>` (storable() forms, UTF-8). Length prefixes instead of
 * quoting mean that no character of a tag needs escaping and that comparing the stored tags with the ones a lookup
 * expects is a byte comparison.
 */
export interface EntryHeader {
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly durationMs: number;
  readonly gens: readonly number[];
  /** storable() form. */
  readonly sessionId: string | undefined;
  /** Where the tags begin in the blob, and how many there are. */
  readonly tagsAt: number;
  readonly tagCount: number;
  /** Where the value begins. */
  readonly valueAt: number;
}

const A = 0x41;
const COLON = 0x3a;
const COMMA = 0x2c;
const DASH = 0x2d;

/** `tags` and `sessionId` in the core's forms; the value already serialized. */
export function encodeEntry(
  meta: {
    readonly expiresAt: number;
    readonly createdAt: number;
    readonly durationMs: number;
    readonly gens: readonly number[];
    readonly sessionId: string | undefined;
    readonly tags: readonly string[];
  },
  value: Buffer,
): Buffer {
  let header = `${meta.expiresAt},${Math.round(meta.createdAt)},${Math.round(meta.durationMs * 1_000)},${meta.tags.length},`;
  for (const gen of meta.gens) header += `${gen},`;
  header += meta.sessionId === undefined ? '-' : text(storable(meta.sessionId));
  for (const tag of meta.tags) header += text(storable(tag));
  const body = Buffer.from(header, 'utf8');
  return Buffer.concat([Buffer.from(`A${body.length}:`, 'latin1'), body, value]);
}

function text(s: string): string {
  return `${Buffer.byteLength(s, 'utf8')}:${s}`;
}

/** Reads a blob's header; throws for a blob that is not an entry. */
export function readHeader(blob: Buffer): EntryHeader {
  const r = new Reader(blob);
  if (blob[0] !== A) throw notAnEntry('not an entry');
  r.at = 1;
  const length = r.int(COLON);
  const valueAt = r.at + length;
  if (valueAt > blob.length) throw notAnEntry('not an entry: truncated header');
  const expiresAt = r.int(COMMA);
  const createdAt = r.int(COMMA);
  const durationMs = r.int(COMMA) / 1_000;
  const tagCount = r.int(COMMA);
  const gens = new Array<number>(tagCount);
  for (let i = 0; i < tagCount; i++) gens[i] = r.int(COMMA);
  let sessionId: string | undefined;
  if (blob[r.at] === DASH) r.at++;
  else sessionId = r.text();
  const tagsAt = r.at;
  for (let i = 0; i < tagCount; i++) r.skipText();
  if (r.at !== valueAt) throw notAnEntry('not an entry: bad header');
  return { expiresAt, createdAt, durationMs, gens, sessionId, tagsAt, tagCount, valueAt };
}

/** The entry's tags (the core's forms). */
export function readTags(blob: Buffer, header: EntryHeader): string[] {
  const r = new Reader(blob);
  r.at = header.tagsAt;
  const tags = new Array<string>(header.tagCount);
  for (let i = 0; i < header.tagCount; i++) tags[i] = fromStorable(r.text());
  return tags;
}

/** Whether the entry's tags are `tags` (the core's forms), without decoding them. */
export function hasTags(blob: Buffer, header: EntryHeader, tags: readonly string[]): boolean {
  if (header.tagCount !== tags.length) return false;
  const r = new Reader(blob);
  r.at = header.tagsAt;
  for (const tag of tags) {
    const length = r.int(COLON);
    const start = r.at;
    r.at += length;
    if (!sameText(blob, start, length, tag)) return false;
  }
  return true;
}

/** blob[start, start + length) holds storable(tag) in UTF-8. */
function sameText(blob: Buffer, start: number, length: number, tag: string): boolean {
  if (length === tag.length) {
    let ascii = true;
    for (let i = 0; i < length; i++) {
      const c = tag.charCodeAt(i);
      if (c >= 0x80 || (i === 0 && c === 0)) {
        ascii = false;
        break;
      }
      if (blob[start + i] !== c) return false;
    }
    if (ascii) return true;
  }
  const expected = Buffer.from(storable(tag), 'utf8');
  return expected.length === length && expected.equals(blob.subarray(start, start + length));
}

/** A plain, immutable entry (it may sit in the L1 and be read many times, so no lazy getters). */
export function toEntry(header: EntryHeader, value: unknown, tags: readonly string[]): BackendEntry {
  return {
    value,
    expiresAt: header.expiresAt,
    tags,
    gens: header.gens,
    sessionId: header.sessionId === undefined ? undefined : fromStorable(header.sessionId),
    createdAt: header.createdAt,
    durationMs: header.durationMs,
  };
}

/** A cursor over the header's bytes. */
class Reader {
  readonly #blob: Buffer;
  at = 0;

  constructor(blob: Buffer) {
    this.#blob = blob;
  }

  /** A non-negative decimal integer ending with `end` (consumed). */
  int(end: number): number {
    const blob = this.#blob;
    let n = 0;
    let i = this.at;
    const start = i;
    for (; i < blob.length; i++) {
      const c = blob[i]!;
      if (c === end) break;
      const digit = c - 48;
      if (digit < 0 || digit > 9) throw notAnEntry('not an entry: bad number');
      n = n * 10 + digit;
    }
    if (i === start || i === blob.length) throw notAnEntry('not an entry: bad number');
    this.at = i + 1;
    return n;
  }

  /** `<bytes>:<text>` */
  text(): string {
    const length = this.int(COLON);
    const start = this.at;
    this.at += length;
    if (this.at > this.#blob.length) throw notAnEntry('not an entry: truncated text');
    return this.#blob.toString('utf8', start, this.at);
  }

  skipText(): void {
    const length = this.int(COLON);
    this.at += length;
    if (this.at > this.#blob.length) throw notAnEntry('not an entry: truncated text');
  }
}

/** A value under the prefix that is not an entry (written by something else, or damaged): read as a miss. */
function notAnEntry(message: string): AgentCacheError {
  return new AgentCacheError('E_NOT_A_CACHE', message);
}
