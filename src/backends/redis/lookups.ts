import type { BackendEntry } from '../contract.js';
import type { Sink } from './breaker.js';
import { type EntryHeader, hasTags, readHeader, readTags } from './entry.js';
import type { KeyLayout } from './layout.js';
import type { RedisLink } from './link.js';

/** Lookups answered by one MGET at most; more wait for the next one. */
const MAX_BATCH = 256;

/** One get() on its way to Redis. The backend makes it, the batch answers it through `deliver`. */
export interface Lookup {
  /** The key as the core gave it, and in its storable() form. */
  readonly key: string;
  readonly k: string;
  /** The tags the caller expects the entry to have (the core's forms), when it knows them. */
  readonly tags: readonly string[] | undefined;
  /** The L1's epoch when the lookup started (see L1Cache.put). */
  readonly epoch: number;
  readonly resolve: (entry: BackendEntry | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** A stored entry whose generations were found current, not yet decoded. */
export interface Found {
  readonly blob: Buffer;
  readonly header: EntryHeader;
  /** The entry's tags in the core's forms (the expected array itself when they matched). */
  readonly tags: readonly string[];
}

/** What a lookup found: a current entry, nothing current (a miss), or a value that is not an entry. */
export type Verdict = Found | undefined | 'damaged';

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
  readonly #deliver: (lookup: Lookup, verdict: Verdict) => void;
  #queue: Lookup[] = [];
  #scheduled = false;

  constructor(
    link: RedisLink,
    layout: KeyLayout,
    snapshots: WeakMap<readonly string[], readonly number[]>,
    deliver: (lookup: Lookup, verdict: Verdict) => void,
  ) {
    this.#link = link;
    this.#layout = layout;
    this.#snapshots = snapshots;
    this.#deliver = deliver;
  }

  add(lookup: Lookup): void {
    if (!this.#scheduled) {
      // The first lookup of a tick goes out at once (one call in flight waits for nothing); the ones that concurrent
      // callers issue during the rest of the tick go out together when it ends, after every microtask.
      this.#scheduled = true;
      process.nextTick(this.#endOfTick);
      new Sent(this, [lookup]);
      return;
    }
    this.#queue.push(lookup);
    if (this.#queue.length >= MAX_BATCH) this.#flush();
  }

  readonly #endOfTick = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    new Sent(this, batch);
  }

  /** Sends the MGET of a batch (Sent calls back here). */
  send(sent: Sent, keys: string[]): void {
    this.#link.mgetInto(keys, sent);
  }

  get layout(): KeyLayout {
    return this.#layout;
  }

  answer(
    lookup: Lookup,
    entryAt: number,
    tagsAt: readonly number[] | undefined,
    reply: readonly Reply[],
  ): void {
    const verdict = this.#verdict(lookup, entryAt, tagsAt, reply);
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => this.#deliver(lookup, v),
        (error: unknown) => lookup.reject(error),
      );
    } else {
      this.#deliver(lookup, verdict);
    }
  }

  #verdict(
    lookup: Lookup,
    entryAt: number,
    tagsAt: readonly number[] | undefined,
    reply: readonly Reply[],
  ): Verdict | Promise<Verdict> {
    const blob = reply[entryAt]!;
    const expected = tagsAt === undefined ? undefined : generationsFrom(tagsAt, reply);
    if (blob === null) return this.#missed(lookup, expected);
    let header: EntryHeader;
    try {
      header = readHeader(blob);
      if (header.expiresAt !== 0 && header.expiresAt <= Date.now()) return this.#missed(lookup, expected);
      if (lookup.tags !== undefined && hasTags(blob, header, lookup.tags)) {
        if (expected !== undefined && sameGenerations(header.gens, expected))
          return { blob, header, tags: lookup.tags };
        return this.#missed(lookup, expected);
      }
    } catch {
      return 'damaged';
    }
    // Tags other than expected (or none given): check the entry against its own tags.
    const own = readTags(blob, header);
    if (own.length === 0) return { blob, header, tags: own };
    const list = new KeyList();
    const positions = tagPositions(this.#layout, own, list);
    return this.#link.mget(list.keys).then((ownReply) => {
      const current = generationsFrom(positions, ownReply);
      return current !== undefined && sameGenerations(header.gens, current)
        ? { blob, header, tags: own }
        : this.#missed(lookup, expected);
    });
  }

  /** A miss: the generations read for its tags are kept for the generations() call that follows. */
  #missed(lookup: Lookup, expected: readonly number[] | undefined): undefined {
    if (expected !== undefined && lookup.tags !== undefined) this.#snapshots.set(lookup.tags, expected);
    return undefined;
  }
}

/** One MGET on its way: where each lookup's keys are in it, and what to do with the answer. */
class Sent implements Sink<Reply[]> {
  readonly #batch: LookupBatch;
  readonly #lookups: readonly Lookup[];
  readonly #entries: number[];
  readonly #tags: (readonly number[] | undefined)[];

  constructor(batch: LookupBatch, lookups: readonly Lookup[]) {
    this.#batch = batch;
    this.#lookups = lookups;
    const layout = batch.layout;
    const list = new KeyList();
    this.#entries = new Array<number>(lookups.length);
    this.#tags = new Array(lookups.length);
    for (let i = 0; i < lookups.length; i++) {
      const lookup = lookups[i]!;
      this.#entries[i] = list.at(layout.entryKey(lookup.k));
      this.#tags[i] = lookup.tags === undefined ? undefined : tagPositions(layout, lookup.tags, list);
    }
    batch.send(this, list.keys);
  }

  answer(reply: Reply[]): void {
    for (let i = 0; i < this.#lookups.length; i++)
      this.#batch.answer(this.#lookups[i]!, this.#entries[i]!, this.#tags[i], reply);
  }

  fail(error: unknown): void {
    for (const lookup of this.#lookups) lookup.reject(error);
  }
}

/** The keys of one read, each once (a linear search: a read has a handful of keys, or one batch's). */
export class KeyList {
  readonly keys: string[] = [];
  #index: Map<string, number> | undefined;

  /** The position of `key` in `keys`, added if new. */
  at(key: string): number {
    const keys = this.keys;
    if (this.#index === undefined) {
      for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
      keys.push(key);
      if (keys.length > 16) this.#index = new Map(keys.map((k, i) => [k, i]));
      return keys.length - 1;
    }
    let i = this.#index.get(key);
    if (i === undefined) {
      i = keys.length;
      keys.push(key);
      this.#index.set(key, i);
    }
    return i;
  }
}

/** For each tag, the positions of its shard's floor and of its generation key in `list`. */
export function tagPositions(layout: KeyLayout, tags: readonly string[], list: KeyList): number[] {
  const out: number[] = [];
  for (let i = 0; i < tags.length; i++) {
    const tag = layout.tagKey(tags[i]!);
    out.push(list.at(layout.floorKey(tag.shard)), list.at(tag.key));
  }
  return out;
}

/**
 * The current generation of each tag from a reply: its key's value, or its shard's floor when the key is missing or
 * below the floor. undefined when a shard has no floor yet (first use, or a Redis that lost its data).
 */
export function generationsFrom(positions: readonly number[], reply: readonly Reply[]): number[] | undefined {
  const n = positions.length >> 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const floorBytes = reply[positions[2 * i]!];
    if (floorBytes === null || floorBytes === undefined) return undefined;
    const floor = integerOf(floorBytes);
    const bytes = reply[positions[2 * i + 1]!];
    const stored = bytes === null || bytes === undefined ? -1 : integerOf(bytes);
    out[i] = stored > floor ? stored : floor;
  }
  return out;
}

/** A generation as Redis holds it: decimal digits (exact below 2^53, as every generation is). */
function integerOf(bytes: Buffer): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return Number(bytes.toString('latin1'));
    n = n * 10 + digit;
  }
  return n;
}

function sameGenerations(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
