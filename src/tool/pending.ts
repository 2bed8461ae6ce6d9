import { type Backend, isPromiseLike, type MaybePromise } from '../backends/contract.js';
import { getDefaults } from '../config.js';
import { AgentCacheError, AgentCacheTypeError } from '../errors.js';

/**
 * Invalidations that a backend could not record yet (it rejected, threw or did not answer in time: Redis down or
 * stalled, a SQLite file busy past its timeout). They stay pending in this process until recorded:
 *
 * - the read path serves and stores no entry of their tags (or keys) from that backend, whatever the backend
 *   (memory, SQLite, Redis, an L1 inside it, your own): `blocks()`;
 * - they are retried in the background with backoff, and removed only once a write issued after their last failure
 *   has succeeded, so on recovery they are written before any hit of theirs is served again.
 *
 * Other processes cannot know about them: they see the invalidation when it lands (see `docs/reliability.md`).
 * Pending marks live in this process's memory only; a process that exits first takes them with it, which is what
 * `flushInvalidations()` at shutdown and strict writes are for.
 */

/** First retry after about 50 ms, doubling up to 1 s (with jitter): a backend that answers again is written to
 * within about a second. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1_000;
/** One attempt at recording that has not answered by then counts as failed (a backend that hangs cannot hang a
 * write forever); a late success still counts. */
export const ATTEMPT_TIMEOUT_MS = 5_000;
/** Tags per bump when retrying, so a long outage does not end in one enormous command. */
const RETRY_BATCH = 1_000;
/** Beyond this many marks in one backend, everything of that backend is treated as pending, and its recovery is a
 * `clear()` (which makes every entry stale at once): memory stays bounded and still nothing is lost. */
const MAX_MARKS = 100_000;

/**
 * Read on the hit path: while `active` is 0 (nothing pending anywhere) the read path checks nothing else. `epoch`
 * moves whenever a mark is removed, so that an answer to a lookup issued while something was pending is not served
 * when the backend recovered in between (the answer may predate the recorded invalidation).
 */
export const pendingState = { active: 0, epoch: 0 };

const records = new Map<Backend, Unrecorded>();
/**
 * Advances on every failure, process-wide (so it never restarts with a new episode): a mark is removed only by a
 * success of an operation issued when this was at or past the mark's value.
 */
let seq = 0;

/** A lookup issued now: the token to pass to `answerBlocked()` with its answer (-1: nothing was pending). */
export function lookupToken(): number {
  return pendingState.active === 0 ? -1 : pendingState.epoch;
}

/** Whether an entry of `key` with `tags` must not be served from or stored into `backend` now. */
export function blocks(backend: Backend, key: string, tags: readonly string[]): boolean {
  const record = records.get(backend);
  return record?.blocks(key, tags) === true;
}

/** `blocks()` for the answer of a lookup issued with `token`: also true when the backend recovered meanwhile. */
export function answerBlocked(
  token: number,
  backend: Backend,
  key: string,
  tags: readonly string[],
): boolean {
  if (token !== -1 && token !== pendingState.epoch) return true;
  return pendingState.active !== 0 && blocks(backend, key, tags);
}

/**
 * Advances `tags` in `backend`, keeping them pending when that fails. Resolves (never rejects) to whether it was
 * recorded; `onError` sees each failure (the caller counts and reports it).
 */
export function recordBump(
  backend: Backend,
  tags: readonly string[],
  sessionId: string | undefined,
  onError: (error: unknown) => void,
): MaybePromise<boolean> {
  return attempt(
    backend,
    () => backend.bump(tags, sessionId),
    (record) => record.addTags(tags, sessionId),
    (record, issued) => record.recordedTags(tags, issued),
    onError,
  );
}

/** Drops the entry `key` from `backend`, keeping the drop pending when that fails. */
export function recordDelete(
  backend: Backend,
  key: string,
  onError: (error: unknown) => void,
): MaybePromise<boolean> {
  return attempt(
    backend,
    () => backend.delete(key),
    (record) => record.addKey(key),
    (record, issued) => record.recordedKey(key, issued),
    onError,
  );
}

/**
 * One invalidating operation. While the backend already has something pending (it is failing right now), the
 * caller does not wait for it: the invalidation is marked pending at once, and this operation, issued after the
 * mark, records it if it succeeds. Otherwise the caller waits for the answer (bounded), and a failure marks it.
 */
function attempt(
  backend: Backend,
  operation: () => MaybePromise<void>,
  mark: (record: Unrecorded) => void,
  recorded: (record: Unrecorded, issued: number) => void,
  onError: (error: unknown) => void,
): MaybePromise<boolean> {
  const outage = records.get(backend);
  if (outage !== undefined) mark(outage);
  const issued = seq;
  const failed = (error: unknown) => {
    onError(error);
    if (!isClosed(error)) mark(unrecorded(backend));
    return false;
  };
  const succeeded = () => {
    const record = records.get(backend);
    if (record !== undefined) recorded(record, issued);
    return true;
  };
  let done: MaybePromise<void>;
  try {
    done = operation();
  } catch (error) {
    return failed(error);
  }
  if (!isPromiseLike(done)) return succeeded();
  const answer = bounded(done, ATTEMPT_TIMEOUT_MS).then(succeeded, failed);
  return outage === undefined ? answer : false;
}

/**
 * Resolves to true once none of `tags` is pending in any of `backends` (retrying them right away), or to false when
 * `timeoutMs` passes first.
 */
export function whenRecorded(
  backends: readonly Backend[],
  tags: readonly string[] | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const involved = backends.flatMap((b) => {
    const record = records.get(b);
    return record === undefined ? [] : [record];
  });
  const done = () => involved.every((r) => !r.holdsAny(tags));
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      finish(true);
    };
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      for (const r of involved) r.waiters.delete(check);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(done()), timeoutMs);
    for (const r of involved) {
      r.waiters.add(check);
      r.retrySoon();
    }
  });
}

export interface FlushInvalidationsOptions {
  /** How long to wait, in ms. Default 5 000. */
  readonly timeout?: number;
}

/**
 * Retries every pending invalidation now and resolves to true once none is left, or to false when `timeout` passes
 * first. Call it before a process exits (pending invalidations live in memory) or before anything that must see
 * every write of this process reflected in the shared cache.
 */
export function flushInvalidations(options: FlushInvalidationsOptions = {}): Promise<boolean> {
  const timeout = options.timeout ?? 5_000;
  if (!Number.isFinite(timeout) || timeout < 0) {
    return Promise.reject(
      new AgentCacheTypeError(
        `flushInvalidations: option \`timeout\` must be a non-negative number of ms, got ${String(timeout)}`,
      ),
    );
  }
  return whenRecorded([...records.keys()], undefined, timeout);
}

export interface PendingInvalidations {
  /** Invalidations (resource tags and entry drops) not recorded yet, over every backend. */
  readonly count: number;
  /** Backends with at least one of them. */
  readonly backends: number;
  /** Age of the oldest, in ms (0 when none): how long this process has been serving around them. */
  readonly oldestMs: number;
}

/** A health signal: what this process could not record yet. All zero in a healthy process. */
export function pendingInvalidations(): PendingInvalidations {
  let count = 0;
  let since = Number.POSITIVE_INFINITY;
  for (const record of records.values()) {
    count += record.size;
    if (record.since < since) since = record.since;
  }
  return { count, backends: records.size, oldestMs: records.size === 0 ? 0 : Date.now() - since };
}

function unrecorded(backend: Backend): Unrecorded {
  let record = records.get(backend);
  if (record === undefined) {
    record = new Unrecorded(backend);
    records.set(backend, record);
    pendingState.active++;
  }
  return record;
}

function forget(record: Unrecorded): void {
  if (records.get(record.backend) !== record) return;
  records.delete(record.backend);
  pendingState.active--;
  pendingState.epoch++;
}

interface TagMark {
  seq: number;
  readonly sessionId: string | undefined;
}

/** What one backend has not recorded yet, and its retry loop. */
class Unrecorded {
  readonly backend: Backend;
  readonly since = Date.now();
  readonly waiters = new Set<() => void>();
  readonly #tags = new Map<string, TagMark>();
  readonly #keys = new Map<string, number>();
  /** Too many marks: everything of this backend is pending until a clear() issued at or after this seq succeeds. */
  #overflowSeq = -1;
  #overflowCount = 0;
  #attempts = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  get size(): number {
    return this.#overflowSeq !== -1 ? this.#overflowCount : this.#tags.size + this.#keys.size;
  }

  blocks(key: string, tags: readonly string[]): boolean {
    if (this.#overflowSeq !== -1 || this.#keys.has(key)) return true;
    for (let i = 0; i < tags.length; i++) if (this.#tags.has(tags[i]!)) return true;
    return false;
  }

  /** Whether any of `tags` (undefined: anything at all) is still pending. */
  holdsAny(tags: readonly string[] | undefined): boolean {
    if (records.get(this.backend) !== this) return false;
    if (tags === undefined || this.#overflowSeq !== -1) return true;
    return tags.some((tag) => this.#tags.has(tag));
  }

  addTags(tags: readonly string[], sessionId: string | undefined): void {
    seq++;
    if (this.#overflowSeq !== -1) {
      this.#overflowSeq = seq;
      this.#overflowCount += tags.length;
    } else {
      for (const tag of tags) {
        const mark = this.#tags.get(tag);
        if (mark === undefined) this.#tags.set(tag, { seq, sessionId });
        else mark.seq = seq;
      }
      this.#checkOverflow();
    }
    this.#schedule();
  }

  addKey(key: string): void {
    seq++;
    if (this.#overflowSeq !== -1) {
      this.#overflowSeq = seq;
      this.#overflowCount++;
    } else {
      this.#keys.set(key, seq);
      this.#checkOverflow();
    }
    this.#schedule();
  }

  /** A bump of `tags` issued when `seq` was `issued` succeeded. */
  recordedTags(tags: readonly string[], issued: number): void {
    let removed = false;
    for (const tag of tags) {
      const mark = this.#tags.get(tag);
      if (mark !== undefined && mark.seq <= issued) {
        this.#tags.delete(tag);
        removed = true;
      }
    }
    if (removed) this.#afterRemoval();
  }

  recordedKey(key: string, issued: number): void {
    const seq = this.#keys.get(key);
    if (seq !== undefined && seq <= issued) {
      this.#keys.delete(key);
      this.#afterRemoval();
    }
  }

  /** Someone waits on this backend: try again now rather than after the backoff. */
  retrySoon(): void {
    if (this.#running) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#schedule(0);
  }

  #checkOverflow(): void {
    if (this.#tags.size + this.#keys.size <= MAX_MARKS) return;
    this.#overflowSeq = seq;
    this.#overflowCount = this.#tags.size + this.#keys.size;
    this.#tags.clear();
    this.#keys.clear();
  }

  #afterRemoval(): void {
    pendingState.epoch++;
    if (this.size === 0) this.#finish();
  }

  #finish(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    forget(this);
    getDefaults().logger.info(
      `agent-cache: ${describeBackend(this.backend)} recorded every pending invalidation after ${Date.now() - this.since} ms; caching of the affected entries resumes`,
    );
    this.#notify();
  }

  /** A closed backend serves nothing any more: its pending invalidations no longer matter. */
  #forgetIfClosed(error: unknown): boolean {
    if (!isClosed(error)) return false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    forget(this);
    this.#notify();
    return true;
  }

  #schedule(delay?: number): void {
    if (this.#timer !== undefined || this.#running || records.get(this.backend) !== this) return;
    const backoff = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#attempts);
    const ms = delay ?? (this.waiters.size > 0 ? RETRY_FIRST_MS : backoff * (0.5 + Math.random() * 0.5));
    // Unref'd: a retry loop must not keep a process alive (flushInvalidations() is how to wait for it).
    this.#timer = setTimeout(() => void this.#attempt(), ms);
    this.#timer.unref();
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    this.#running = true;
    const issued = seq;
    try {
      if (this.#overflowSeq !== -1) {
        await bounded(this.backend.clear(), ATTEMPT_TIMEOUT_MS);
        if (this.#overflowSeq <= issued) {
          this.#overflowSeq = -1;
          this.#overflowCount = 0;
          this.#afterRemoval();
        }
      } else {
        await this.#retryTags(issued);
        for (const [key, seq] of [...this.#keys]) {
          if (seq > issued) continue;
          await bounded(this.backend.delete(key), ATTEMPT_TIMEOUT_MS);
          this.recordedKey(key, issued);
        }
      }
      this.#attempts = 0;
    } catch (error) {
      this.#forgetIfClosed(error);
      this.#attempts++;
    } finally {
      this.#running = false;
      this.#notify();
      if (records.get(this.backend) === this) this.#schedule();
    }
  }

  async #retryTags(issued: number): Promise<void> {
    const bySession = new Map<string | undefined, string[]>();
    for (const [tag, mark] of this.#tags) {
      if (mark.seq > issued) continue;
      const group = bySession.get(mark.sessionId);
      if (group === undefined) bySession.set(mark.sessionId, [tag]);
      else group.push(tag);
    }
    for (const [sessionId, tags] of bySession) {
      for (let i = 0; i < tags.length; i += RETRY_BATCH) {
        const batch = tags.slice(i, i + RETRY_BATCH);
        await bounded(this.backend.bump(batch, sessionId), ATTEMPT_TIMEOUT_MS);
        this.recordedTags(batch, issued);
        if (records.get(this.backend) !== this) return;
      }
    }
  }

  #notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A backend's answer, or a rejection once `ms` passed without one. */
function bounded<T>(answer: MaybePromise<T>, ms: number): Promise<T> {
  if (!isPromiseLike(answer)) return Promise.resolve(answer);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AgentCacheError('E_BACKEND_TIMEOUT', `the backend did not answer within ${ms} ms`)),
      ms,
    );
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function isClosed(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'E_BACKEND_CLOSED';
}

function describeBackend(backend: Backend): string {
  const name = (backend as { constructor?: { name?: unknown } }).constructor?.name;
  const where = (backend as { path?: unknown }).path ?? (backend as { prefix?: unknown }).prefix ?? undefined;
  const label = typeof name === 'string' && name !== '' ? name : 'a backend';
  return typeof where === 'string' ? `${label}(${where})` : label;
}
