import { canonicalDigest, isImmutable } from '../key/digest.js';
import { sha256Hex } from '../key/hash.js';

/** One piece of a prompt, in the order the provider sees it. */
export interface PromptSegment {
  readonly id: string;
  /** Meant to be served from the provider's prefix (KV) cache. */
  readonly cacheable: boolean;
  readonly role?: 'system' | 'tools' | 'instructions' | 'history' | 'volatile';
  /** Anything canonicalisable (a string, a message object, a tool list); compared by canonical digest. */
  readonly content?: unknown;
}

/** How far back from the end we look for a segment that ended an earlier layout (the previous turn's). */
const EXTEND_LOOKBACK = 32;
/** Layouts by their last segment and by their last prefix segment: how the next turn's layout finds its base. */
const bySegment = new WeakMap<PromptSegment, PromptCacheLayout>();

/** Set in the class's static block (it reads private fields of the layouts it inspects). */
let findBase: (segments: readonly PromptSegment[]) => { base: PromptCacheLayout; kept: number } | undefined;

interface Parts {
  segments: PromptSegment[];
  segmentIds: string[];
  prefixIds: string[];
  prefixDigests: string[];
  misplacedAt: number[];
  /** Every prefix content is a primitive or deep-frozen: re-checking it would find nothing. */
  prefixImmutable: boolean;
  /** id → position, to reject duplicates; handed over to the layout that extends this one. */
  idIndex: Map<string, number>;
}

/**
 * The cacheable prefix of a prompt: what a provider can serve from its KV cache. A provider caches a prefix, so
 * only the cacheable segments *before the first non-cacheable one* count; cacheable segments after it are
 * `misplacedIds` (marked cacheable, never served from the cache).
 *
 * Contents are compared by canonical digest (`canonicalDigest`), which re-checks but does not re-encode objects
 * seen before. When the segments are frozen (as `segmentsFromMessages` returns them) and begin with the segments
 * of an earlier layout (the previous turn), the layout extends that one: the common segments are compared by
 * identity and their contents re-checked, and only the new segments are processed.
 */
export class PromptCacheLayout {
  /** Ids of the cacheable segments before the first non-cacheable one, in order. */
  readonly prefixIds: readonly string[];
  /** Cacheable segments placed after a non-cacheable one. */
  readonly misplacedIds: readonly string[];
  /** Every segment id, in order. */
  readonly segmentIds: readonly string[];
  /** Canonical digest of each prefix segment's content, parallel to `prefixIds`. */
  readonly prefixDigests: readonly string[];
  /** Private and read only while this layout can be extended, so the layout that extends it takes it over. */
  readonly #segments: PromptSegment[];
  readonly #misplacedAt: readonly number[];
  readonly #prefixImmutable: boolean;
  #idIndex: Map<string, number> | undefined;
  /** The segments this layout is registered under in `bySegment`. */
  readonly #registeredAt: PromptSegment[] = [];
  #fingerprint: string | undefined;

  private constructor(parts: Parts) {
    this.#segments = parts.segments;
    this.segmentIds = parts.segmentIds;
    this.prefixIds = parts.prefixIds;
    this.prefixDigests = parts.prefixDigests;
    this.#misplacedAt = parts.misplacedAt;
    this.#prefixImmutable = parts.prefixImmutable;
    this.misplacedIds = parts.misplacedAt.map((i) => parts.segmentIds[i]!);
    this.#idIndex = parts.idIndex;
  }

  /** Throws a TypeError for a segment without an id, a duplicate id, or content that cannot be canonicalised. */
  static fromSegments(segments: readonly PromptSegment[]): PromptCacheLayout {
    if (!Array.isArray(segments))
      throw new TypeError('PromptCacheLayout.fromSegments: expected an array of segments');
    const found = findBase(segments);
    const parts = found === undefined ? emptyParts() : found.base.#handOver(found.kept);
    // A base's segments were all frozen (else it would not have been registered).
    let frozen = true;
    for (let i = parts.segments.length; i < segments.length; i++) {
      const segment = segments[i]!;
      addSegment(parts, segment, i);
      frozen &&= Object.isFrozen(segment);
    }
    const layout = new PromptCacheLayout(parts);
    // Only immutable segments can be trusted by identity next time (their contents are still re-checked).
    if (frozen && segments.length > 0) {
      layout.#registeredAt.push(segments[segments.length - 1]!);
      if (parts.prefixIds.length > 0) layout.#registeredAt.push(segments[parts.prefixIds.length - 1]!);
      for (const segment of layout.#registeredAt) bySegment.set(segment, layout);
    }
    return layout;
  }

  /** SHA-256 (hex) of the ordered prefix ids and their contents; computed on first use. */
  get fingerprint(): string {
    if (this.#fingerprint === undefined) {
      let material = '';
      for (let i = 0; i < this.prefixIds.length; i++) {
        material += `${JSON.stringify(this.prefixIds[i])}:${this.prefixDigests[i]};`;
      }
      this.#fingerprint = sha256Hex(material);
    }
    return this.#fingerprint;
  }

  /**
   * This prefix begins with every segment of `other`'s prefix, same ids and contents, in order: it is equal, or
   * extended by more cacheable segments. A conversation that grew is not a break; providers cache it the same way.
   */
  isPrefixStableAgainst(other: PromptCacheLayout): boolean {
    return firstDifference(other, this) === -1;
  }

  /** Whether `segments` starts with this layout's first `kept` segments, contents unchanged. */
  #sharesStart(segments: readonly PromptSegment[], kept: number): boolean {
    if (this.#idIndex === undefined || this.#segments.length < kept) return false;
    const own = this.#segments;
    for (let i = 0; i < kept; i++) if (segments[i] !== own[i]) return false;
    if (this.#prefixImmutable) return true;
    const checked = Math.min(kept, this.prefixIds.length);
    for (let i = 0; i < checked; i++) {
      if (canonicalDigest(own[i]!.content) !== this.prefixDigests[i]) return false;
    }
    return true;
  }

  /** The parts of the first `kept` segments, taking over this layout's id index (it cannot be extended again). */
  #handOver(kept: number): Parts {
    const idIndex = this.#idIndex!;
    this.#idIndex = undefined;
    // It cannot be extended again: unregister it, so a long conversation does not keep every turn's layout alive.
    for (const segment of this.#registeredAt) if (bySegment.get(segment) === this) bySegment.delete(segment);
    for (let i = kept; i < this.#segments.length; i++) {
      const id = this.#segments[i]!.id;
      if (idIndex.get(id) === i) idIndex.delete(id);
    }
    const prefix = Math.min(kept, this.prefixIds.length);
    return {
      // This layout never reads its segments again (its id index is gone): truncate and hand them over, no copy.
      segments: truncated(this.#segments, kept),
      segmentIds: this.segmentIds.slice(0, kept),
      prefixIds: this.prefixIds.slice(0, prefix),
      prefixDigests: this.prefixDigests.slice(0, prefix),
      misplacedAt: this.#misplacedAt.filter((i) => i < kept),
      prefixImmutable: this.#prefixImmutable,
      idIndex,
    };
  }

  static {
    findBase = (segments) => {
      const stop = Math.max(0, segments.length - 1 - EXTEND_LOOKBACK);
      for (let j = segments.length - 1; j >= stop; j--) {
        const segment = segments[j];
        const base = typeof segment === 'object' && segment !== null ? bySegment.get(segment) : undefined;
        if (base === undefined) continue;
        if (base.#sharesStart(segments, j + 1)) return { base, kept: j + 1 };
      }
      return undefined;
    };
  }
}

function truncated<T>(array: T[], length: number): T[] {
  array.length = length;
  return array;
}

function emptyParts(): Parts {
  return {
    segments: [],
    segmentIds: [],
    prefixIds: [],
    prefixDigests: [],
    misplacedAt: [],
    prefixImmutable: true,
    idIndex: new Map(),
  };
}

function addSegment(parts: Parts, segment: PromptSegment | undefined, i: number): void {
  const id = segment?.id;
  if (typeof id !== 'string' || id === '') {
    throw new TypeError(
      `PromptCacheLayout.fromSegments: segment ${i} has no id (a non-empty string is required)`,
    );
  }
  const earlier = parts.idIndex.get(id);
  if (earlier !== undefined) {
    throw new TypeError(
      `PromptCacheLayout.fromSegments: duplicate segment id ${JSON.stringify(id)} (segments ${earlier} and ${i})`,
    );
  }
  parts.idIndex.set(id, i);
  parts.segments.push(segment!);
  parts.segmentIds.push(id);
  const inPrefix = parts.prefixIds.length === i;
  if (segment!.cacheable !== true) return;
  if (inPrefix) {
    parts.prefixIds.push(id);
    parts.prefixDigests.push(canonicalDigest(segment!.content));
    if (parts.prefixImmutable && !isImmutable(segment!.content)) parts.prefixImmutable = false;
  } else {
    parts.misplacedAt.push(i);
  }
}

/** Index of the first prefix segment of `before` that `after` does not keep (id or content), or -1. */
export function firstDifference(before: PromptCacheLayout, after: PromptCacheLayout): number {
  const { prefixIds: ids, prefixDigests: digests } = before;
  for (let i = 0; i < ids.length; i++) {
    if (after.prefixIds[i] !== ids[i] || after.prefixDigests[i] !== digests[i]) return i;
  }
  return -1;
}
