import { fromStorable } from '../storable-text.js';
import { type Header, splitEntry } from './entry.js';
import type { KeyLayout } from './layout.js';
import type { RedisLink } from './link.js';

/** Lookups answered by one MGET at most; more wait for the next one. */
const MAX_BATCH = 256;

export interface Lookup {
  /** The entry's key, storable() form. */
  readonly k: string;
  /** The tags the caller expects the entry to have (the core's form), when it knows them. */
  readonly tags: readonly string[] | undefined;
  /** A current entry, a miss, or `'damaged'` (a value under the key that is not an entry). */
  resolve(found: Found | undefined | 'damaged'): void;
  reject(error: unknown): void;
}

/** A stored entry whose generations were found current, not yet decoded. */
export interface Found {
  readonly header: Header;
  readonly value: Buffer;
}

type Reply = Buffer | null;

/**
 * The lookups of one tick, answered together: the entries and the current generations of their expected tags (with
 * their shards' floors) come back from one MGET on a standalone Redis (one command for any number of concurrent
 * hits), one command per slot on a cluster. A hit is an entry whose recorded generations equal the current ones; an
 * entry that turns out to have other tags than expected is checked against its own tags with a second read.
 *
 * Reading the entry and the generations in one atomic command is not what makes this safe (on a cluster they are
 * separate commands): every read happens after the lookup started, so an invalidation completed before it is seen,
 * whichever is read first. Generations read for a lookup that missed are kept for the `generations()` call of the
 * same miss (`snapshots`): read before the execution starts, they are as good as a fresh read, or older, which can
 * only make the store refuse.
 */
export class LookupBatch {
  readonly #link: RedisLink;
  readonly #layout: KeyLayout;
  readonly #snapshots: WeakMap<readonly string[], readonly number[]>;
  #queue: Lookup[] = [];
  #scheduled = false;

  constructor(link: RedisLink, layout: KeyLayout, snapshots: WeakMap<readonly string[], readonly number[]>) {
    this.#link = link;
    this.#layout = layout;
    this.#snapshots = snapshots;
  }

  add(lookup: Lookup): void {
    this.#queue.push(lookup);
    if (this.#queue.length >= MAX_BATCH) {
      this.#flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      // After every microtask of this tick: the lookups that concurrent callers issue now go out together.
      process.nextTick(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const layout = this.#layout;
    const list = new KeyList();
    const plans = batch.map((lookup) => ({
      entry: list.at(layout.entryKey(lookup.k)),
      tags: lookup.tags === undefined ? undefined : tagPositions(layout, lookup.tags, list),
    }));
    this.#link.mget(list.keys).then(
      (reply) => {
        for (let i = 0; i < batch.length; i++) this.#answer(batch[i]!, plans[i]!, reply);
      },
      (error: unknown) => {
        for (const lookup of batch) lookup.reject(error);
      },
    );
  }

  #answer(lookup: Lookup, plan: Plan, reply: Reply[]): void {
    const verdict = this.#verdict(lookup, plan, reply);
    if (verdict instanceof Promise) verdict.then(lookup.resolve, lookup.reject);
    else lookup.resolve(verdict);
  }

  #verdict(
    lookup: Lookup,
    plan: Plan,
    reply: Reply[],
  ): Found | 'damaged' | undefined | Promise<Found | undefined> {
    const blob = reply[plan.entry]!;
    const expected = plan.tags === undefined ? undefined : generationsFrom(plan.tags, reply);
    if (blob === null) return this.#missed(lookup, expected);
    let found: Found;
    try {
      found = splitEntry(blob);
    } catch {
      return 'damaged';
    }
    const { header } = found;
    if (header[0] !== 0 && header[0] <= Date.now()) return this.#missed(lookup, expected);
    if (lookup.tags !== undefined && sameTags(header[1], lookup.tags)) {
      if (expected !== undefined && sameGenerations(header[2], expected)) return found;
      return this.#missed(lookup, expected);
    }
    // Tags other than expected (or none given): check the entry against its own tags.
    const own = header[1].map(fromStorable);
    if (own.length === 0) return found;
    const ownList = new KeyList();
    const positionsOfOwn = tagPositions(this.#layout, own, ownList);
    return this.#link.mget(ownList.keys).then((ownReply) => {
      const current = generationsFrom(positionsOfOwn, ownReply);
      return current !== undefined && sameGenerations(header[2], current)
        ? found
        : this.#missed(lookup, expected);
    });
  }

  /** A miss: the generations read for its tags are kept for the generations() call that follows. */
  #missed(lookup: Lookup, expected: readonly number[] | undefined): undefined {
    if (expected !== undefined && lookup.tags !== undefined) this.#snapshots.set(lookup.tags, expected);
    return undefined;
  }
}

/** Where one lookup's keys are in the batch's MGET. */
interface Plan {
  readonly entry: number;
  readonly tags: Int32Array | undefined;
}

/** The keys of one read, each once. */
export class KeyList {
  readonly keys: string[] = [];
  readonly #positions = new Map<string, number>();

  /** The position of `key` in `keys`, added if new. */
  at(key: string): number {
    let i = this.#positions.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push(key);
      this.#positions.set(key, i);
    }
    return i;
  }
}

/** For each tag, the positions of its shard's floor and of its generation key in `list`. */
export function tagPositions(layout: KeyLayout, tags: readonly string[], list: KeyList): Int32Array {
  const out = new Int32Array(tags.length * 2);
  for (let i = 0; i < tags.length; i++) {
    const tag = layout.tagKey(tags[i]!);
    out[2 * i] = list.at(layout.floorKey(tag.shard));
    out[2 * i + 1] = list.at(tag.key);
  }
  return out;
}

/**
 * The current generation of each tag from a reply: its key's value, or its shard's floor when the key is missing or
 * below the floor. undefined when a shard has no floor yet (first use, or a Redis that lost its data).
 */
export function generationsFrom(positions: Int32Array, reply: readonly Reply[]): number[] | undefined {
  const n = positions.length >> 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const floorBytes = reply[positions[2 * i]!];
    if (floorBytes === null || floorBytes === undefined) return undefined;
    const floor = Number(floorBytes.toString('latin1'));
    const bytes = reply[positions[2 * i + 1]!];
    const stored = bytes === null || bytes === undefined ? -1 : Number(bytes.toString('latin1'));
    out[i] = stored > floor ? stored : floor;
  }
  return out;
}

/** `stored` (storable() forms, from a header) are the tags `tags` (the core's forms). */
function sameTags(stored: readonly string[], tags: readonly string[]): boolean {
  if (stored.length !== tags.length) return false;
  for (let i = 0; i < tags.length; i++) {
    const s = stored[i]!;
    if (s !== tags[i] && (s.charCodeAt(0) !== 0 || fromStorable(s) !== tags[i])) return false;
  }
  return true;
}

function sameGenerations(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
