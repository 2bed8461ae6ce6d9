import type { DatabaseSync } from 'node:sqlite';
import { AgentCacheError, AgentCacheTypeError, BackendClosedError, BackendFailedError } from '../errors.js';
import {
  type Backend,
  type BackendEntry,
  type BackendGetOptions,
  isPromiseLike,
  type MaybePromise,
} from './contract.js';
import { DiskEntry } from './disk/entry.js';
import { inspectFile } from './disk/inspect.js';
import { openExistingCacheFile } from './disk/open-existing.js';
import { openCacheFile } from './disk/open-file.js';
import { rollback } from './disk/schema.js';
import { sqlite } from './disk/sqlite.js';
import { prepareStatements, type Statements } from './disk/statements.js';
import { isBusy, WriteQueue } from './disk/write-queue.js';
import type { EntryInfo, InspectableBackend, InspectOptions } from './inspection.js';
import { unregisterBackend } from './registry.js';
import { encodeOrWarn, type Serializer, serializerOption } from './serializer.js';
import { storable } from './storable-text.js';

export interface DiskBackendOptions {
  /** The cache file. Its directory must exist and be writable; the file is created with mode 0600. */
  readonly path: string;
  /** Most entries kept; the least recently used go first. Default 100 000. */
  readonly maxEntries?: number;
  /** Most tag generations remembered; older ones are forgotten conservatively (spurious misses, never stale hits). Default 100 000. */
  readonly maxGenerations?: number;
  /**
   * How long a write waits for another process holding the write lock, in ms, before it gives up. Default 2 000.
   * The wait never blocks the event loop: after a few ms of synchronous waiting the write is retried
   * asynchronously. A store gives up after at most 100 ms of it (the result is returned without being stored); an
   * invalidation that gives up stays pending in the process and is retried (see docs/reliability.md).
   */
  readonly busyTimeout?: number;
  /**
   * `false`: open an existing cache file only. A missing file, or one that is not an agent-cache file, throws (an
   * `AgentCacheError`, code `E_BACKEND_OPEN` or `E_NOT_A_CACHE`) and is left as it is: never created, never moved
   * aside. Default true: create the file if needed, and move a file that is not a cache aside.
   */
  readonly create?: boolean;
  /**
   * Open the file read-only (implies `create: false`): for looking inside a cache (`inspect()`) without changing
   * it, even without write permission. Every write then throws.
   */
  readonly readOnly?: boolean;
  /**
   * How values become bytes and back. Default: v8's structured serialization (`v8Serializer`), which keeps Date,
   * Map, Set, bigint, typed arrays and undefined but turns class instances into plain objects. Every process
   * sharing the file must use the same one.
   */
  readonly serializer?: Serializer;
}

type Row = [
  value: Uint8Array,
  expiresAt: number,
  tags: string,
  gens: string,
  sessionId: string | null,
  createdAt: number,
  durationMs: number,
];

/** The synchronous part of a lock wait, in ms: enough for ordinary contention, short enough for the event loop. */
const SYNC_WAIT_MS = 10;
/** The longest a store waits for the lock, in ms: a result not stored is only a later miss. */
const STORE_WAIT_MS = 100;

/** Rows deleted per transaction by clear() and clearSession(): a few ms of work each. */
const DELETE_BATCH = 1_000;

/** Expired rows deleted per sweep: bounded so that a write never pays for a large backlog at once. */
const SWEEP_BATCH = 128;
/** A sweep runs every this many writes (and once at open). */
const SWEEP_EVERY = 64;
/** Recency updates of hits are batched: written at most this often, or when this many are pending. */
const TOUCH_FLUSH_MS = 1_000;
const TOUCH_FLUSH_MAX = 4_096;

/**
 * A SQLite file (node:sqlite, WAL) shared safely by every process of the machine that opens it.
 *
 * Writes are write-through and each one is a single BEGIN IMMEDIATE transaction: the generation check and the
 * insert of `set` are one SQL statement inside it, so an invalidation committed by another process can never be
 * overwritten by a slower writer. Reads are one statement (one snapshot) that checks expiry and generations in SQL.
 * Recency for LRU eviction is the one thing not written on the read path: hits are batched and flushed once a
 * second, so eviction order is approximate across processes — a hit stays a pure read.
 */
export class DiskBackend implements Backend, InspectableBackend {
  readonly path: string;
  readonly readOnly: boolean;
  readonly maxEntries: number;
  readonly maxGenerations: number;
  #db: DatabaseSync | undefined;
  readonly #s: Statements;
  readonly #warned = new Set<string>();
  #touches = new Map<string, number>();
  #touchTimer: NodeJS.Timeout | undefined;
  #writes = 0;
  #lastStamp = 0;
  readonly #busyTimeout: number;
  readonly #serializer: Serializer;
  readonly #queue: WriteQueue;

  constructor(options: string | DiskBackendOptions) {
    const opts = typeof options === 'string' ? { path: options } : options;
    if (typeof opts?.path !== 'string' || opts.path === '') {
      throw new AgentCacheTypeError(
        'DiskBackend: a file path is required: new DiskBackend(path) or new DiskBackend({ path })',
      );
    }
    this.maxEntries = positiveInteger(opts.maxEntries ?? 100_000, 'maxEntries');
    this.maxGenerations = positiveInteger(opts.maxGenerations ?? 100_000, 'maxGenerations');
    const busyTimeout = opts.busyTimeout ?? 2_000;
    if (!Number.isFinite(busyTimeout) || busyTimeout < 0) {
      throw new AgentCacheTypeError(
        `DiskBackend: option \`busyTimeout\` must be a non-negative number of ms, got ${busyTimeout}`,
      );
    }
    this.path = opts.path;
    sqlite(); // before anything touches the file: on a Node.js without node:sqlite, a clear error and no file
    this.readOnly = opts.readOnly === true;
    this.#busyTimeout = busyTimeout;
    this.#serializer = serializerOption(opts.serializer, 'DiskBackend');
    this.#db =
      opts.create === false || this.readOnly
        ? openExistingCacheFile(opts.path, { busyTimeout: SYNC_WAIT_MS, readOnly: this.readOnly })
        : // A file whose tables hold other columns (a damaged schema) is not a cache either: moved aside.
          openCacheFile(opts.path, { busyTimeout, busyWait: SYNC_WAIT_MS, validate: prepareStatements });
    this.#s = prepareStatements(this.#db);
    this.#queue = new WriteQueue((fn, wait) => this.#transaction(fn, wait), `DiskBackend(${opts.path})`);
    // Housekeeping only: if the file is busy right now, the next writes sweep instead.
    if (!this.readOnly) this.#quietly(() => this.#write(() => this.#sweep(Date.now()), 0));
  }

  /** Number of entries in the file (all processes), expired ones not yet swept included. */
  get size(): number {
    this.#open();
    return Number((this.#s.count.get() as unknown as [number, number])[0]);
  }

  get(key: string, options?: BackendGetOptions): BackendEntry | undefined {
    this.#open();
    const k = storable(key);
    let row: Row | undefined;
    try {
      row = (options?.stale ? this.#s.getAny.get(k) : this.#s.getFresh.get(k, Date.now())) as unknown as
        | Row
        | undefined;
    } catch (error) {
      // The freshness check reads the row's tags and gens as JSON: a row whose JSON is damaged fails it on every
      // call. Such a row is a miss and is dropped, like a value that does not decode; any other error is real.
      if (this.#damagedRow(k)) return undefined;
      throw this.#failure(error);
    }
    if (row === undefined) return undefined;
    let value: unknown;
    try {
      value = this.#serializer.decode(row[0]);
    } catch {
      // A value that no longer decodes (written by an incompatible Node, damaged on disk) is a miss, and is
      // dropped so that the next result can take its place instead of failing on every call.
      this.#drop(k);
      return undefined;
    }
    if (!options?.stale && !this.readOnly) this.#touched(k);
    return new DiskEntry(value, row[1], row[2], row[3], row[4], row[5], row[6]);
  }

  /** Whether the row under `k` has tags and gens that are not two JSON arrays of one length (then dropped). */
  #damagedRow(k: string): boolean {
    const row = this.#s.getAny.get(k) as unknown as Row | undefined;
    if (row === undefined) return false;
    try {
      const tags: unknown = JSON.parse(row[2]);
      const gens: unknown = JSON.parse(row[3]);
      if (Array.isArray(tags) && Array.isArray(gens) && tags.length === gens.length) return false;
    } catch {
      // not JSON: damaged
    }
    this.#drop(k);
    return true;
  }

  #drop(k: string): void {
    if (!this.readOnly) this.#quietly(() => this.#write(() => this.#s.deleteEntry.run(k)));
  }

  generations(tags: readonly string[]): readonly number[] {
    this.#open();
    if (tags.length === 0) return [];
    try {
      const rows = this.#s.generations.all(JSON.stringify(tags.map(storable))) as unknown as [number][];
      return rows.map((row) => row[0]);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  set(key: string, entry: BackendEntry): MaybePromise<boolean> {
    this.#open();
    const bytes = encodeOrWarn(entry.value, 'DiskBackend', entry.tags, this.#warned, this.#serializer);
    if (bytes === undefined) return false;
    const k = storable(key);
    const tags = JSON.stringify(entry.tags.map(storable));
    const gens = JSON.stringify(entry.gens);
    const sid = entry.sessionId === undefined ? null : storable(entry.sessionId);
    return this.#write(
      () => {
        const { changes } = this.#s.setIfCurrent.run(
          k,
          bytes,
          entry.expiresAt,
          tags,
          gens,
          sid,
          this.#stamp(),
          entry.createdAt ?? 0,
          entry.durationMs ?? 0,
        );
        if (changes === 0) return false;
        this.#touches.delete(k);
        this.#enforceBounds();
        if (++this.#writes % SWEEP_EVERY === 0) this.#sweep(Date.now());
        return true;
      },
      Math.min(this.#busyTimeout, STORE_WAIT_MS),
    );
  }

  bump(tags: readonly string[], sessionId?: string): MaybePromise<void> {
    this.#open();
    if (tags.length === 0) return;
    const json = JSON.stringify(tags.map(storable));
    const sid = sessionId === undefined ? null : storable(sessionId);
    return this.#write(() => {
      // One clock for every tag: generations only ever grow, even for a tag that was forgotten and comes back.
      const [clock] = this.#s.advanceClock.get(tags.length) as unknown as [number];
      this.#s.bumpTags.run(json, clock - tags.length + 1, sid);
      this.#enforceBounds();
    });
  }

  delete(key: string): MaybePromise<void> {
    this.#open();
    const k = storable(key);
    this.#touches.delete(k);
    return this.#write(() => {
      this.#s.deleteEntry.run(k);
    });
  }

  /** Drops the session's generations, then its entries, in bounded transactions (a large session never holds the
   * lock, or the event loop, for long). */
  clearSession(sessionId: string): Promise<void> {
    this.#writable();
    const sid = storable(sessionId);
    return (async () => {
      await this.#inBatches(() => this.#s.clearSessionGens.run(sid, DELETE_BATCH).changes);
      await this.#inBatches(() => this.#s.clearSessionEntries.run(sid, DELETE_BATCH).changes);
    })();
  }

  /**
   * Everything becomes stale at once: one small transaction raises the floor above every generation handed out and
   * marks every older generation as read-as-floor (see statements.ts). The old generations and the entries are then
   * deleted in bounded transactions; a generation advanced after the clear started is kept.
   */
  clear(): Promise<void> {
    this.#writable();
    this.#touches.clear();
    return (async () => {
      const floor = await this.#write(() => {
        const [clock] = this.#s.advanceClock.get(1) as unknown as [number];
        this.#s.raiseFloor.run(clock);
        this.#s.markCleared.run(clock);
        return clock;
      });
      await this.#inBatches(() => this.#s.deleteOldGens.run(floor, DELETE_BATCH).changes);
      const [entries] = this.#s.count.get() as unknown as [number, number];
      // Bounded: other processes may keep storing while we delete (what they store after the clear is fresh).
      await this.#inBatches(
        () => this.#s.deleteSomeEntries.run(DELETE_BATCH).changes,
        entries / DELETE_BATCH + 2,
      );
    })();
  }

  /** Runs a deleting step in its own transaction until it deletes less than a batch, yielding in between. */
  async #inBatches(step: () => number | bigint, maxRounds = Number.POSITIVE_INFINITY): Promise<void> {
    for (let round = 0; round < maxRounds; round++) {
      if (Number(await this.#write(step)) < DELETE_BATCH) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Every entry of the file, in key order, read in batches (see `InspectableBackend`). */
  inspect(options: InspectOptions = {}): AsyncIterable<EntryInfo> {
    return inspectFile(() => this.#open(), options);
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    unregisterBackend(this);
    // Recency is advisory: if the file is busy, losing the last second of it must not keep the file from closing.
    if (this.#queue.waiting === 0) this.#flushTouchesQuietly();
    if (this.#touchTimer) clearTimeout(this.#touchTimer);
    this.#queue.close(new BackendClosedError(`DiskBackend(${this.path})`));
    this.#db = undefined;
    db.close();
  }

  #open(): DatabaseSync {
    if (this.#db === undefined) throw new BackendClosedError(`DiskBackend(${this.path})`);
    return this.#db;
  }

  /** Throws (synchronously) what any write would: the backend is closed or read-only. */
  #writable(): void {
    this.#open();
    if (this.readOnly)
      throw new AgentCacheError('E_BACKEND_READ_ONLY', `DiskBackend(${this.path}) is read-only`);
  }

  /** Runs `fn` in a write transaction now, or (the file is busy) later in order, within `budgetMs`. */
  #write<T>(fn: () => T, budgetMs = this.#busyTimeout): MaybePromise<T> {
    this.#open();
    return this.#queue.run(fn, budgetMs);
  }

  /**
   * One BEGIN IMMEDIATE transaction: the write lock is taken up front, so no upgrade can fail later. `wait`: the
   * connection's short synchronous busy wait applies; otherwise a held lock fails at once (a queued retry).
   */
  #transaction<T>(fn: () => T, wait: boolean): T {
    this.#writable();
    const db = this.#db!;
    try {
      if (wait) {
        db.exec('BEGIN IMMEDIATE');
      } else {
        db.exec('PRAGMA busy_timeout = 0');
        try {
          db.exec('BEGIN IMMEDIATE');
        } finally {
          db.exec(`PRAGMA busy_timeout = ${SYNC_WAIT_MS}`);
        }
      }
    } catch (error) {
      throw this.#failure(error);
    }
    try {
      const result = fn();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      rollback(db);
      throw this.#failure(error);
    }
  }

  /** What a failed SQLite call throws: a busy file stays itself (the write queue retries it), anything else of
   * SQLite's becomes a BackendFailedError carrying it. */
  #failure(error: unknown): unknown {
    return isBusy(error) || AgentCacheError.isInstance(error)
      ? error
      : new BackendFailedError(`DiskBackend(${this.path})`, error);
  }

  /**
   * A write nobody waits for (housekeeping): its failure is dropped, whether it throws at once (a damaged page
   * met by the sweep at open must not make the constructor throw) or later.
   */
  #quietly(write: () => MaybePromise<unknown>): void {
    try {
      const done = write();
      if (isPromiseLike(done)) done.catch(() => {});
    } catch {
      // The next write meets the same problem and reports it.
    }
  }

  /** Called inside a write transaction: evicts LRU entries and forgets the oldest generations beyond the bounds. */
  #enforceBounds(): void {
    const [entries, gens] = this.#s.count.get() as unknown as [number, number];
    if (entries > this.maxEntries) {
      this.#applyTouches();
      this.#s.evictLru.run(entries - this.maxEntries);
    }
    if (gens > this.maxGenerations) {
      const forgotten = this.#s.forgetOldestGens.all(gens - this.maxGenerations) as unknown as [number][];
      let highest = 0;
      for (const [gen] of forgotten) if (gen > highest) highest = gen;
      // Tags not in the table read as the floor: raising it to the highest forgotten generation means an entry
      // recorded against a forgotten tag can only turn stale, never fresh again.
      this.#s.raiseFloor.run(highest);
    }
  }

  #sweep(now: number): void {
    this.#s.sweepExpired.run(now, SWEEP_BATCH);
  }

  #touched(key: string): void {
    this.#touches.set(key, this.#stamp());
    if (this.#touches.size >= TOUCH_FLUSH_MAX) {
      this.#flushTouchesQuietly();
    } else if (this.#touchTimer === undefined) {
      this.#touchTimer = setTimeout(() => this.#flushTouchesQuietly(), TOUCH_FLUSH_MS);
      this.#touchTimer.unref();
    }
  }

  /** Writes the batched recency updates if the file is free now; busy or closed, they are dropped (advisory). */
  #flushTouchesQuietly(): void {
    if (this.#touchTimer) clearTimeout(this.#touchTimer);
    this.#touchTimer = undefined;
    if (this.#touches.size === 0 || this.#db === undefined) return;
    if (this.#queue.waiting > 0) {
      this.#touches.clear(); // the file is busy: do not queue behind the writes that matter
      return;
    }
    this.#quietly(() => this.#write(() => this.#applyTouches(), 0));
  }

  #applyTouches(): void {
    const touches = this.#touches;
    this.#touches = new Map();
    for (const [key, stamp] of touches) this.#s.touch.run(key, stamp);
  }

  /** A recency stamp: wall-clock microseconds (comparable across processes), strictly increasing in this one. */
  #stamp(): number {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    this.#lastStamp = now > this.#lastStamp ? now : this.#lastStamp + 1;
    return this.#lastStamp;
  }
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new AgentCacheTypeError(
      `DiskBackend: option \`${option}\` must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}
