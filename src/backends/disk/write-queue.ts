import { AgentCacheError } from '../../errors.js';

/** The file stayed locked by another connection (another process's long write) for longer than the call's budget. */
export class BackendBusyError extends AgentCacheError {
  /** How long the call waited, in ms. */
  readonly waitedMs: number;

  constructor(backend: string, waitedMs: number) {
    super(
      'E_BACKEND_BUSY',
      `${backend}: the file stayed locked by another connection for ${Math.round(waitedMs)} ms; the write was not made`,
    );
    this.waitedMs = waitedMs;
  }
}

/** SQLITE_BUSY (5) and its extended codes: another connection holds the lock we need. */
export function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === 5;
}

/** One write transaction, tried now. `wait`: whether it may wait (briefly, synchronously) for the lock. */
export type Attempt = <T>(fn: () => T, wait: boolean) => T;

interface Job {
  readonly fn: () => unknown;
  readonly queuedAt: number;
  readonly deadline: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Pause before the next try while the lock is held: short at first, then every 50 ms. */
const RETRY_DELAYS_MS = [2, 5, 10, 20, 50];
/** Work done in one turn of the event loop when the lock frees up with many writes waiting. */
const DRAIN_SLICE_MS = 10;

/**
 * Writes to a SQLite file without blocking the event loop while another process holds its write lock.
 *
 * A write is tried at once, with a short synchronous busy wait (a few ms, enough for ordinary contention between
 * processes). If the lock is still held, it is queued and retried asynchronously until its budget runs out, then
 * rejected with `BackendBusyError` (the core keeps a rejected invalidation pending and retries it). While anything
 * is queued, later writes queue behind it, so this process's writes reach the file in the order they were made
 * (a delete never overtaken by the store it was meant to drop).
 */
export class WriteQueue {
  readonly #attempt: Attempt;
  readonly #label: string;
  #jobs: Job[] = [];
  #timer: NodeJS.Timeout | undefined;
  #tries = 0;

  constructor(attempt: Attempt, label: string) {
    this.#attempt = attempt;
    this.#label = label;
  }

  /** Writes queued behind a held lock. */
  get waiting(): number {
    return this.#jobs.length;
  }

  /** Runs `fn` in a write transaction now if it can, else answers with a promise; `budgetMs` bounds the wait. */
  run<T>(fn: () => T, budgetMs: number): T | Promise<T> {
    if (this.#jobs.length === 0) {
      try {
        return this.#attempt(fn, true);
      } catch (error) {
        if (!isBusy(error)) throw error;
      }
    }
    const now = performance.now();
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({
        fn,
        queuedAt: now,
        deadline: now + budgetMs,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.#timer === undefined) this.#schedule();
    });
  }

  /** Rejects everything still waiting (the backend is closing). */
  close(error: Error): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const jobs = this.#jobs;
    this.#jobs = [];
    for (const job of jobs) job.reject(error);
  }

  #schedule(): void {
    const delay = RETRY_DELAYS_MS[Math.min(this.#tries, RETRY_DELAYS_MS.length - 1)]!;
    this.#timer = setTimeout(() => this.#drain(), delay);
  }

  #drain(): void {
    this.#timer = undefined;
    const sliceEnd = performance.now() + DRAIN_SLICE_MS;
    while (this.#jobs.length > 0) {
      const job = this.#jobs[0]!;
      let value: unknown;
      try {
        value = this.#attempt(job.fn, false);
      } catch (error) {
        if (isBusy(error)) {
          this.#tries++;
          this.#expire();
          if (this.#jobs.length > 0) this.#schedule();
          return;
        }
        this.#jobs.shift();
        job.reject(error);
        continue;
      }
      this.#jobs.shift();
      this.#tries = 0;
      job.resolve(value);
      if (performance.now() > sliceEnd) {
        // Many writes were waiting: let the event loop breathe between slices.
        this.#timer = setTimeout(() => this.#drain(), 0);
        return;
      }
    }
  }

  /** Rejects the queued writes whose budget has run out (wherever they are in the queue). */
  #expire(): void {
    const now = performance.now();
    const kept: Job[] = [];
    for (const job of this.#jobs) {
      if (now >= job.deadline) job.reject(new BackendBusyError(this.#label, now - job.queuedAt));
      else kept.push(job);
    }
    this.#jobs = kept;
  }
}
