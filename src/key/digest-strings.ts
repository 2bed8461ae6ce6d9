import { sha256 } from './hash.js';

/** The long-string pieces of the digest form (see digest.ts). */

/**
 * A long string is hashed on its own, straight from its characters: cheaper than escaping it to JSON first, and
 * its digest then stands in the parent's body. A well-formed string is `h` + SHA-256 of its UTF-8 bytes (lossless
 * for well-formed text); one with a lone surrogate (which UTF-8 would replace) is `H` + SHA-256 of its JSON form.
 */
export const LONG_STRING = 512;

/** ES2024 (Node >= 20); the project's TypeScript lib is ES2023. */
type WellFormedCheck = { isWellFormed(): boolean };

export function stringRep(value: string): string {
  return (value as string & WellFormedCheck).isWellFormed()
    ? `h${sha256(value, 'base64url')}`
    : `H${sha256(JSON.stringify(value), 'base64url')}`;
}

/**
 * Digests of long strings met at the top of a request, by string: a Map lookup by a string the engine has seen
 * hashes nothing again (V8 keeps a string's hash in the string), and different strings with equal contents still
 * compare equal, so the cache cannot be wrong, only missed. Bounded, oldest first.
 */
const MAX_STRINGS = 256;
/** The strings are held strongly: bound their total size too (characters). */
const MAX_STRING_CHARS = 4_000_000;
const stringReps = new Map<string, string>();
let stringChars = 0;

export function cachedStringRep(value: string): string {
  const known = stringReps.get(value);
  if (known !== undefined) return known;
  const result = stringRep(value);
  if (value.length > MAX_STRING_CHARS / 4) return result;
  while (stringReps.size >= MAX_STRINGS || stringChars + value.length > MAX_STRING_CHARS) {
    const oldest = stringReps.keys().next().value as string;
    stringReps.delete(oldest);
    stringChars -= oldest.length;
  }
  stringReps.set(value, result);
  stringChars += value.length;
  return result;
}
