/**
 * The storage contract every backend implements (memory, SQLite, Redis, or one of your own).
 *
 * Freshness is decided with per-tag generation counters rather than by scanning keys: an entry records the
 * generations of its tags as they were when the execution that produced it *started*, and it is served only while
 * every one of those tags still has that generation. A write tool advances the generations of its tags before the
 * mutation and again when it settles, so a read that overlapped the mutation can never be stored or served as
 * fresh. `set` must compare and write in one atomic step (a transaction, a Lua script) for the same reason.
 *
 * Methods may answer synchronously (the memory backend does, which keeps a hit to one map lookup) or with a
 * promise.
 */
export type MaybePromise<T> = T | Promise<T>;

export interface BackendEntry {
  readonly value: unknown;
  /** Absolute expiry in ms since the epoch; 0 means the entry never expires. */
  readonly expiresAt: number;
  /** The generation tags this entry depends on (its tool, its resources). */
  readonly tags: readonly string[];
  /** The generation of each tag, in the same order, when the execution that produced the value started. */
  readonly gens: readonly number[];
  /** Set for session-scoped entries, so that ending the session can drop them. */
  readonly sessionId?: string | undefined;
  /** When the value was stored, in ms since the epoch (0 or absent: unknown). Shown by the `agent-cache` command. */
  readonly createdAt?: number;
  /** How long the execution that produced the value took, in ms: what a hit on this entry saves (`savedMs`). */
  readonly durationMs?: number;
}

export interface BackendGetOptions {
  /** Return the entry even when it has expired or one of its tags moved on (loop short-circuit needs it). */
  readonly stale?: boolean;
  /**
   * The tags the caller will give the entry, computed on demand: call it synchronously inside get(), at most once
   * (the read path passes this to a backend with `tagsOnGet`; undefined: unknown). Such a backend may read the entry and their generations in one round trip,
   * and answer the `generations(tags)` call that follows a miss (the same array) from that read: generations read
   * before the execution starts are as good as a fresh read, or older, which can only make the store refuse.
   */
  readonly tags?: () => readonly string[] | undefined;
}

export interface Backend {
  /** Optional: true when get() makes use of `options.tags`. */
  readonly tagsOnGet?: boolean;
  /** The entry under `key` if it exists, has not expired and all its tags still have its generations. */
  get(key: string, options?: BackendGetOptions): MaybePromise<BackendEntry | undefined>;
  /** The current generation of each tag, in order (a tag never advanced has the backend's base generation). */
  generations(tags: readonly string[]): MaybePromise<readonly number[]>;
  /**
   * Stores the entry only if every tag still has the generation recorded in `entry.gens`; compare and write are one
   * atomic step. Resolves to whether it stored. A value the backend cannot serialize is not stored (false).
   */
  set(key: string, entry: BackendEntry): MaybePromise<boolean>;
  /** Advances the generation of every tag, which makes every entry depending on one of them stale. */
  bump(tags: readonly string[], sessionId?: string): MaybePromise<void>;
  /** Drops one entry. */
  delete(key: string): MaybePromise<void>;
  /** Drops every entry and session tag generation that belongs to the session. */
  clearSession(sessionId: string): MaybePromise<void>;
  /** Drops everything this backend holds for this cache (entries and generations). */
  clear(): MaybePromise<void>;
  close(): Promise<void>;
  /**
   * Optional, for backends that hold their entries in this process: whether `entry`, returned by an earlier
   * synchronous get() of this backend (and carrying its `key`), is still what get(key) would return now; when it
   * is, that counts as a use of the entry, as a get would. The read path keeps the entry it last found for each
   * argument set and asks this instead of looking the key up again.
   */
  current?(entry: BackendEntry & { readonly key: string }): boolean;
  /** The most entries the backend holds, when it bounds them itself (the read path sizes its key memo by it). */
  readonly maxEntries?: number;
}

/** `x` is a promise-like (the cheap test used on the hot path). */
export function isPromiseLike<T>(x: MaybePromise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}
