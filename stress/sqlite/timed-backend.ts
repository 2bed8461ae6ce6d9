import type { Backend, BackendEntry, BackendGetOptions } from '../../src/index.js';

/**
 * A backend wrapper that measures the synchronous part of every call: how long the call kept the event loop
 * before it returned (a value, or a promise for one). That is the figure "no backend call blocks the event loop
 * for longer than about 100 ms" is about; the event loop's own delay is measured beside it.
 */
export class TimedBackend implements Backend {
  readonly inner: Backend;
  longestMs = 0;
  longestOp = '';
  calls = 0;

  constructor(inner: Backend) {
    this.inner = inner;
  }

  get(key: string, options?: BackendGetOptions) {
    return this.#timed('get', () => this.inner.get(key, options));
  }
  generations(tags: readonly string[]) {
    return this.#timed('generations', () => this.inner.generations(tags));
  }
  set(key: string, entry: BackendEntry) {
    return this.#timed('set', () => this.inner.set(key, entry));
  }
  bump(tags: readonly string[], sessionId?: string) {
    return this.#timed('bump', () => this.inner.bump(tags, sessionId));
  }
  delete(key: string) {
    return this.#timed('delete', () => this.inner.delete(key));
  }
  clearSession(sessionId: string) {
    return this.#timed('clearSession', () => this.inner.clearSession(sessionId));
  }
  clear() {
    return this.#timed('clear', () => this.inner.clear());
  }
  close() {
    return this.inner.close();
  }

  #timed<T>(op: string, fn: () => T): T {
    const started = performance.now();
    try {
      return fn();
    } finally {
      const ms = performance.now() - started;
      this.calls++;
      if (ms > this.longestMs) {
        this.longestMs = ms;
        this.longestOp = op;
      }
    }
  }
}
