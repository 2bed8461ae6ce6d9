/**
 * Deliberate faults, to show that the freshness check catches a real stale read. They are built from outside the
 * library, as any user could: a Backend that wraps the real one. Nothing in agent-cache knows about them.
 *
 * - `skip-second-bump`: the invalidation a write makes when its mutation has settled is dropped (the one before
 *   the mutation still happens). A read that read the generations after the first one and the source before the
 *   mutation then stores its old result as fresh.
 * - `stale-entry`: a lookup returns, now and then, the first entry this process ever saw under that key, whatever
 *   happened since (a backend that ignores generations).
 * - `drop-failed-bump`: an invalidation the backend could not record is reported as recorded (what agent-cache did
 *   before pending invalidations: the failure was logged and the invalidation dropped). Used by the Redis faults
 *   scenario, where a stalled or restarted Redis makes bumps fail.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Backend, BackendEntry, BackendGetOptions, MaybePromise } from '../../src/index.js';

export type Fault = 'none' | 'skip-second-bump' | 'stale-entry' | 'drop-failed-bump';

/** Entered around each write call by the load; its mutation sets `mutated` when it has run. */
export const writeCall = new AsyncLocalStorage<{ mutated: boolean }>();

/** How often `stale-entry` answers with the remembered entry. */
const STALE_SHARE = 0.05;

export function withFault(backend: Backend, fault: Fault): Backend {
  return fault === 'none' ? backend : new FaultyWrapper(backend, fault);
}

class FaultyWrapper implements Backend {
  readonly tagsOnGet: boolean | undefined;
  readonly #inner: Backend;
  readonly #fault: Fault;
  readonly #first = new Map<string, BackendEntry>();
  /** A wrapper stays in the process's list of backends in use after close (a user backend cannot leave it), so
   * writes that come later must find it quiet rather than failing on the closed backend inside. */
  #closed = false;

  constructor(inner: Backend, fault: Fault) {
    this.#inner = inner;
    this.#fault = fault;
    this.tagsOnGet = inner.tagsOnGet;
  }

  get(key: string, options?: BackendGetOptions): MaybePromise<BackendEntry | undefined> {
    const found = this.#inner.get(key, options);
    if (this.#fault !== 'stale-entry') return found;
    const pick = (entry: BackendEntry | undefined) => {
      if (entry !== undefined && !this.#first.has(key)) this.#first.set(key, entry);
      return Math.random() < STALE_SHARE ? (this.#first.get(key) ?? entry) : entry;
    };
    return found instanceof Promise ? found.then(pick) : pick(found as BackendEntry | undefined);
  }

  generations(tags: readonly string[]): MaybePromise<readonly number[]> {
    return this.#inner.generations(tags);
  }

  set(key: string, entry: BackendEntry): MaybePromise<boolean> {
    return this.#inner.set(key, entry);
  }

  bump(tags: readonly string[], sessionId?: string): MaybePromise<void> {
    if (this.#closed) return;
    if (this.#fault === 'skip-second-bump' && writeCall.getStore()?.mutated === true) return;
    if (this.#fault === 'drop-failed-bump')
      return Promise.resolve()
        .then(() => this.#inner.bump(tags, sessionId))
        .catch(() => {});
    return this.#inner.bump(tags, sessionId);
  }

  delete(key: string): MaybePromise<void> {
    return this.#inner.delete(key);
  }

  clearSession(sessionId: string): MaybePromise<void> {
    return this.#inner.clearSession(sessionId);
  }

  clear(): MaybePromise<void> {
    return this.#inner.clear();
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#inner.close();
  }
}
