import { type StringDigests, stringRep } from './digest-strings.js';
import { sha256 } from './hash.js';
import { RecentLists } from './recent-lists.js';
import { CanonicalWalk, type Cuts, DIGEST_INLINE_LIMIT } from './walk.js';

/**
 * The Merkle form of digest.ts worked out without its memo: the canonical walker's own loops, with the three cuts
 * of the definition (a long string is its digest, a plain object or array whose body is longer than
 * DIGEST_INLINE_LIMIT is the digest of its body). Same rep for every value, by definition; nothing is remembered,
 * so a request whose objects are all new (the AI SDK builds the prompt and the tool definitions afresh for every
 * step) costs no snapshot and no WeakMap entry, which the garbage collector pays for. Errors are thrown as the
 * walk found them (the caller turns them into a NotCanonicalisableError).
 */
export class LeanDigest implements Cuts {
  readonly #walk: CanonicalWalk;
  readonly #strings: StringDigests;
  readonly #known: KnownArray | undefined;
  readonly #lists = new RecentLists();
  /** The `tools` array of the request being walked (see array()). */
  #tools: unknown;

  /** `known`: the rep of an array near the root when a memo of it still holds (see KnownArray). */
  constructor(strings: StringDigests, known?: KnownArray) {
    this.#strings = strings;
    this.#known = known;
    this.#walk = new CanonicalWalk(this);
  }

  /** The rep of `value`, the root of a request (its own fields' long strings are looked up in `strings`). */
  rep(value: unknown): string {
    this.#tools = undefined;
    return this.#walk.value(value, 0);
  }

  plain(o: Record<string, unknown>, depth: number): string {
    // The request, or the call options under a wrapper (`{ ..., call: { prompt, tools } }`): note its tool list.
    if (depth <= 2) {
      const tools = o.tools;
      if (Array.isArray(tools)) this.#tools = tools;
    }
    return cut(this.#walk.plain(o, depth));
  }

  array(a: readonly unknown[], depth: number): string {
    if (depth <= KNOWN_DEPTH && this.#known !== undefined) {
      const rep = this.#known(a, depth);
      if (rep !== undefined) return rep;
    }
    if (a !== this.#tools) return cut(this.#walk.array(a, depth));
    // A tool list: often new objects with the contents of one seen lately (see recent-lists.ts).
    this.#tools = undefined;
    const found = this.#lists.find(a);
    if (found !== undefined) return found;
    const rep = cut(this.#walk.array(a, depth));
    this.#lists.remember(rep);
    return rep;
  }

  longString(s: string, depth: number): string {
    // A request's direct fields (a system prompt) are the same strings turn after turn.
    return depth <= 1 ? this.#strings.rep(s) : stringRep(s);
  }
}

/**
 * The rep of array `a` (at `depth`) from the memo, or undefined: its own memo, re-checked (a caller that passes the
 * same tool list with every request has it re-checked, not encoded again), or the memo of an earlier array that it
 * extends (a conversation's messages: extended and remembered, so a conversation stays remembered while nothing
 * else of the requests around it is). Asked only for arrays this near the root (a request's `messages` and
 * `tools`, or `call.prompt` and `call.tools` under a wrapper): a few WeakMap lookups each, where deeper arrays (a
 * message's content parts) would cost them once per message.
 */
export type KnownArray = (a: readonly unknown[], depth: number) => string | undefined;

const KNOWN_DEPTH = 3;

function cut(body: string): string {
  return body.length > DIGEST_INLINE_LIMIT ? `H${sha256(body, 'base64url')}` : body;
}
