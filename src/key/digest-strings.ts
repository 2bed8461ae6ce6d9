import { sha256 } from './hash.js';

/**
 * A long string is hashed on its own, straight from its characters: cheaper than escaping it to JSON first, and
 * its digest then stands in the parent's body. A well-formed string is `h` + SHA-256 of its UTF-8 bytes (lossless
 * for well-formed text); one with a lone surrogate (which UTF-8 would replace) is `H` + SHA-256 of its JSON form.
 */
export function stringRep(value: string): string {
  return (value as string & WellFormedCheck).isWellFormed()
    ? `h${sha256(value, 'base64url')}`
    : `H${sha256(JSON.stringify(value), 'base64url')}`;
}

/** ES2024 (Node >= 20); the project's TypeScript lib is ES2023. */
type WellFormedCheck = { isWellFormed(): boolean };

/** At most this many strings are remembered… */
const MAX_STRINGS = 256;
/** …and at most this many characters in all (the strings are held strongly). */
const MAX_STRING_CHARS = 4_000_000;

/**
 * Digests of long strings met at the top of a request, by string: a Map lookup by a string the engine has seen
 * hashes nothing again (V8 keeps a string's hash in the string), and different strings with equal contents still
 * compare equal, so the cache cannot be wrong, only missed. Bounded, oldest first.
 */
export class StringDigests {
  readonly #reps = new Map<string, string>();
  #chars = 0;

  rep(value: string): string {
    const known = this.#reps.get(value);
    if (known !== undefined) return known;
    const result = stringRep(value);
    if (value.length > MAX_STRING_CHARS / 4) return result;
    while (this.#reps.size >= MAX_STRINGS || this.#chars + value.length > MAX_STRING_CHARS) {
      const oldest = this.#reps.keys().next().value as string;
      this.#reps.delete(oldest);
      this.#chars -= oldest.length;
    }
    this.#reps.set(value, result);
    this.#chars += value.length;
    return result;
  }
}
