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

/** How many strings are remembered (a miss compares a new string with each, so they stay few). */
const RECENT = 8;
/** Longer strings are not held (hashing them costs far more than a lookup saves). */
const MAX_HELD = 1_000_000;

/**
 * Digests of the last long strings met at the top of a request (a system prompt, which sits in a new request
 * object every turn), compared by `===`: the same string object is found by one pointer comparison, and a new
 * one is told apart by its length or first characters, so a request seen for the first time pays almost nothing
 * for asking (a Map would hash every new string's characters to look it up). Most recently used first.
 */
export class StringDigests {
  readonly #strings: string[] = [];
  readonly #reps: string[] = [];

  rep(value: string): string {
    const strings = this.#strings;
    const reps = this.#reps;
    for (let i = 0; i < strings.length; i++) {
      if (strings[i] !== value) continue;
      const rep = reps[i]!;
      if (i > 0) {
        strings.splice(i, 1);
        reps.splice(i, 1);
        strings.unshift(value);
        reps.unshift(rep);
      }
      return rep;
    }
    const result = stringRep(value);
    if (value.length > MAX_HELD) return result;
    if (strings.length >= RECENT) {
      strings.pop();
      reps.pop();
    }
    strings.unshift(value);
    reps.unshift(result);
    return result;
  }
}
