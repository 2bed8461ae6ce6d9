import { AgentCacheTypeError } from '../errors.js';
import {
  canonicalDigest,
  type DigestHandle,
  digestStillValid,
  emptyLeafSlots,
  firstSlotMismatch,
  isImmutable,
  type LeafSlots,
  lastDigestHandle,
  leafSlotsPrefix,
  pushLeafSlot,
  setLeafSlot,
  truncateLeafSlots,
} from '../key/digest.js';
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

/**
 * How a prefix content is re-checked: undefined for a primitive (never changes), a digest handle (checked
 * against its snapshot, no hashing), or null (no snapshot: the digest is worked out again).
 */
type Check = DigestHandle | null | undefined;

/**
 * Append-only storage shared by a chain of layouts, each extending the one before (one per turn): a layout sees
 * the first entries of these arrays, so extending a layout copies nothing. Only the newest layout of the chain
 * (the one holding the id index) appends, and entries below `pinned` never change again (`checks` entries are
 * only ever replaced by an equivalent handle).
 */
interface Store {
  readonly segments: PromptSegment[];
  readonly ids: string[];
  /** The prefix segments' contents (segments in a store are frozen: read once, kept side by side). */
  readonly contents: unknown[];
  /** Canonical digests of the prefix segments' contents (the prefix is the first `digests.length` segments). */
  readonly digests: string[];
  readonly checks: Check[];
  /** The prefix contents' snapshots laid out in order, when they are plain leaf objects (chat messages). */
  readonly slots: LeafSlots;
  /** The longest segment / prefix view that an earlier layout still reads from this store. */
  pinnedSegments: number;
  pinnedPrefix: number;
}

interface Parts {
  store: Store;
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
 * identity and their contents re-checked against their digest snapshots, only the new segments are processed, and
 * the id and digest lists are shared with the earlier layout (the public arrays are made on first read).
 */
export class PromptCacheLayout {
  #store: Store;
  /** This layout's segments: the first `#sharedCount` of the store, then `#tailIds` (set once extended). */
  #count: number;
  #prefixCount: number;
  #sharedCount: number;
  #sharedPrefix: number;
  #tailIds: string[] | undefined;
  #tailDigests: string[] | undefined;
  readonly #misplacedAt: readonly number[];
  readonly #prefixImmutable: boolean;
  #idIndex: Map<string, number> | undefined;
  /** The segments this layout is registered under in `bySegment`. */
  readonly #registeredAt: PromptSegment[] = [];
  #fingerprint: string | undefined;
  #segmentIds: readonly string[] | undefined;
  #prefixIds: readonly string[] | undefined;
  #prefixDigests: readonly string[] | undefined;
  #misplacedIds: readonly string[] | undefined;

  private constructor(parts: Parts) {
    this.#store = parts.store;
    this.#count = parts.store.segments.length;
    this.#prefixCount = parts.store.digests.length;
    this.#sharedCount = this.#count;
    this.#sharedPrefix = this.#prefixCount;
    this.#misplacedAt = parts.misplacedAt;
    this.#prefixImmutable = parts.prefixImmutable;
    this.#idIndex = parts.idIndex;
  }

  /** Ids of the cacheable segments before the first non-cacheable one, in order. */
  get prefixIds(): readonly string[] {
    this.#prefixIds ??= this.#view(this.#store.ids, this.#sharedCount, this.#tailIds, this.#prefixCount);
    return this.#prefixIds;
  }

  /** Every segment id, in order. */
  get segmentIds(): readonly string[] {
    this.#segmentIds ??= this.#view(this.#store.ids, this.#sharedCount, this.#tailIds, this.#count);
    return this.#segmentIds;
  }

  /** Canonical digest of each prefix segment's content, parallel to `prefixIds`. */
  get prefixDigests(): readonly string[] {
    this.#prefixDigests ??= this.#view(
      this.#store.digests,
      this.#sharedPrefix,
      this.#tailDigests,
      this.#prefixCount,
    );
    return this.#prefixDigests;
  }

  /** Cacheable segments placed after a non-cacheable one. */
  get misplacedIds(): readonly string[] {
    if (this.#misplacedIds === undefined) {
      const ids = this.segmentIds;
      this.#misplacedIds = this.#misplacedAt.map((i) => ids[i]!);
    }
    return this.#misplacedIds;
  }

  /** The first `length` entries of this layout's view of a store array. */
  #view(
    items: readonly string[],
    shared: number,
    tail: readonly string[] | undefined,
    length: number,
  ): string[] {
    if (length <= shared) return items.slice(0, length);
    return items.slice(0, shared).concat(tail!.slice(0, length - shared));
  }

  /** Throws a TypeError for a segment without an id, a duplicate id, or content that cannot be canonicalised. */
  static fromSegments(segments: readonly PromptSegment[]): PromptCacheLayout {
    if (!Array.isArray(segments))
      throw new AgentCacheTypeError('PromptCacheLayout.fromSegments: expected an array of segments');
    const found = findBase(segments);
    const parts = found === undefined ? emptyParts() : found.base.#handOver(found.kept);
    // A base's segments were all frozen (else it would not have been registered).
    let frozen = true;
    for (let i = parts.store.segments.length; i < segments.length; i++) {
      const segment = segments[i]!;
      addSegment(parts, segment, i);
      frozen &&= immutableSegment(segment);
    }
    const layout = new PromptCacheLayout(parts);
    // Only immutable segments can be trusted by identity next time (their contents are still re-checked).
    if (frozen && segments.length > 0) {
      layout.#registeredAt.push(segments[segments.length - 1]!);
      if (layout.#prefixCount > 0) layout.#registeredAt.push(segments[layout.#prefixCount - 1]!);
      for (const segment of layout.#registeredAt) bySegment.set(segment, layout);
    }
    return layout;
  }

  /** SHA-256 (hex) of the ordered prefix ids and their contents; computed on first use. */
  get fingerprint(): string {
    if (this.#fingerprint === undefined) {
      const ids = this.prefixIds;
      const digests = this.prefixDigests;
      let material = '';
      for (let i = 0; i < ids.length; i++) {
        material += `${JSON.stringify(ids[i])}:${digests[i]};`;
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

  /**
   * Whether `segments` starts with this layout's first `kept` segments, contents unchanged. Only a layout that
   * still holds its id index is asked: the newest of its store, which therefore sees the whole store.
   */
  #sharesStart(segments: readonly PromptSegment[], kept: number): boolean {
    if (this.#idIndex === undefined || this.#count < kept) return false;
    const { segments: own, contents, digests, checks, slots } = this.#store;
    for (let i = 0; i < kept; i++) if (segments[i] !== own[i]) return false;
    if (this.#prefixImmutable) return true;
    const checked = Math.min(kept, this.#prefixCount);
    const slotKeys = slots.keys;
    for (let i = 0; i < checked; i++) {
      // Immutable contents (primitives, deep-frozen messages) are skipped; runs of plain messages are checked
      // against their slots in one tight loop.
      if (checks[i] === undefined) continue;
      if (slotKeys[i] !== undefined) {
        i = firstSlotMismatch(contents, undefined, slots, i, checked);
        if (i >= checked) break;
      }
      const check = checks[i];
      if (check === undefined) continue;
      const content = contents[i];
      if (check !== null && digestStillValid(content, check)) continue;
      // No snapshot, or it no longer matches: the digest decides (an edit that was undone still matches).
      if (canonicalDigest(content, true) !== digests[i]) return false;
      checks[i] = checkOf(content);
      setLeafSlot(slots, i, checks[i]);
    }
    return true;
  }

  /**
   * The parts of the first `kept` segments, taking over this layout's store and id index (it cannot be extended
   * again). The store is handed over, not copied: this layout keeps its own few entries past `kept` aside.
   */
  #handOver(kept: number): Parts {
    const idIndex = this.#idIndex!;
    this.#idIndex = undefined;
    // It cannot be extended again: unregister it, so a long conversation does not keep every turn's layout alive.
    for (const segment of this.#registeredAt) if (bySegment.get(segment) === this) bySegment.delete(segment);
    const store = this.#store;
    for (let i = kept; i < this.#count; i++) {
      const id = store.ids[i]!;
      if (idIndex.get(id) === i) idIndex.delete(id);
    }
    const prefix = Math.min(kept, this.#prefixCount);
    const parts: Parts = {
      store,
      misplacedAt: this.#misplacedAt.filter((i) => i < kept),
      prefixImmutable: this.#prefixImmutable,
      idIndex,
    };
    if (kept < store.pinnedSegments || prefix < store.pinnedPrefix) {
      // An earlier layout still reads entries that the new one would overwrite (a branch from further back).
      parts.store = {
        segments: store.segments.slice(0, kept),
        ids: store.ids.slice(0, kept),
        contents: store.contents.slice(0, prefix),
        digests: store.digests.slice(0, prefix),
        checks: store.checks.slice(0, prefix),
        slots: leafSlotsPrefix(store.slots, prefix),
        pinnedSegments: 0,
        pinnedPrefix: 0,
      };
      return parts;
    }
    // This layout is the newest of its store, so it sees all of it: keep what lies past `kept` aside, then pin.
    this.#tailIds = store.ids.slice(kept, this.#count);
    this.#tailDigests = store.digests.slice(prefix, this.#prefixCount);
    this.#sharedCount = kept;
    this.#sharedPrefix = prefix;
    store.segments.length = kept;
    store.ids.length = kept;
    store.contents.length = prefix;
    store.digests.length = prefix;
    store.checks.length = prefix;
    truncateLeafSlots(store.slots, prefix);
    store.pinnedSegments = kept;
    store.pinnedPrefix = prefix;
    return parts;
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

/** Frozen, with data properties (a getter could answer differently next time): trusted by identity. */
function immutableSegment(segment: PromptSegment): boolean {
  if (!Object.isFrozen(segment)) return false;
  for (const name of ['id', 'cacheable', 'content']) {
    if (Object.getOwnPropertyDescriptor(segment, name)?.get !== undefined) return false;
  }
  return true;
}

function emptyParts(): Parts {
  return {
    store: {
      segments: [],
      ids: [],
      contents: [],
      digests: [],
      checks: [],
      slots: emptyLeafSlots(),
      pinnedSegments: 0,
      pinnedPrefix: 0,
    },
    misplacedAt: [],
    prefixImmutable: true,
    idIndex: new Map(),
  };
}

/** How `content`, whose digest was just worked out, is re-checked next time. */
function checkOf(content: unknown): Check {
  if (typeof content !== 'object' || content === null) return undefined;
  return lastDigestHandle() ?? null;
}

function addSegment(parts: Parts, segment: PromptSegment | undefined, i: number): void {
  const id = segment?.id;
  if (typeof id !== 'string' || id === '') {
    throw new AgentCacheTypeError(
      `PromptCacheLayout.fromSegments: segment ${i} has no id (a non-empty string is required)`,
    );
  }
  const earlier = parts.idIndex.get(id);
  if (earlier !== undefined) {
    throw new AgentCacheTypeError(
      `PromptCacheLayout.fromSegments: duplicate segment id ${JSON.stringify(id)} (segments ${earlier} and ${i})`,
    );
  }
  const { store } = parts;
  parts.idIndex.set(id, i);
  store.segments.push(segment!);
  store.ids.push(id);
  const inPrefix = store.digests.length === i;
  if (segment!.cacheable !== true) return;
  if (inPrefix) {
    const content = segment!.content;
    store.digests.push(canonicalDigest(content));
    store.contents.push(content);
    // A deep-frozen content never changes: nothing to re-check (and no memo to read again).
    const check = isImmutable(content) ? undefined : checkOf(content);
    store.checks.push(check);
    pushLeafSlot(store.slots, check);
    if (check !== undefined) parts.prefixImmutable = false;
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
