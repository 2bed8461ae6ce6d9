/**
 * Keys, tags and session ids reach a backend as arbitrary JavaScript strings, but SQLite and Redis store UTF-8:
 * Node encodes a lone surrogate as U+FFFD, so two different ill-formed strings would become the same stored key,
 * and SQLite's JSON functions decode an escaped lone surrogate differently again. Every such string therefore goes
 * through `storable()`: well-formed strings (all of the core's keys in practice) pass unchanged, anything else is
 * escaped with JSON.stringify behind a NUL marker. The mapping is injective because a string that itself starts
 * with NUL is always escaped.
 */
export function storable(text: string): string {
  return (text as unknown as WellFormedCheck).isWellFormed() && text.charCodeAt(0) !== 0
    ? text
    : `\0${JSON.stringify(text)}`;
}

/** The inverse of `storable()`. */
export function fromStorable(text: string): string {
  return text.charCodeAt(0) === 0 ? (JSON.parse(text.slice(1)) as string) : text;
}

/** `String.prototype.isWellFormed` (Node 20+, ES2024; the project's lib is ES2023). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}
