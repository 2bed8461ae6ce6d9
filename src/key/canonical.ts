import { CanonicalWalk } from './walk.js';

/** The flat form keeps no state between calls that a nested call could disturb: one walker serves them all. */
const flat = new CanonicalWalk();

/**
 * The one canonical encoding of agent-cache (the grammar is described in walk.ts). Every key (tool arguments,
 * resource tags, LLM requests) comes from it, so that equal values give equal keys in every process and on every
 * restart. Throws NotCanonicalisableError (a TypeError) naming the path of a value that has no canonical form.
 */
export function canonicalEncode(value: unknown): string {
  return flat.encode(value);
}

/** `canonicalEncode` of a primitive that has a canonical form (a string, number, boolean, undefined or null). */
export function encodePrimitive(value: string | number | boolean | undefined | null): string {
  return flat.value(value, 0);
}
