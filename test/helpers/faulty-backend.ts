import type { Backend, BackendEntry, BackendGetOptions } from '../../src/index.js';
import { MemoryBackend } from '../../src/index.js';

export type Fault = 'none' | 'throw' | 'reject' | 'hang';
type Op = 'get' | 'generations' | 'set' | 'bump' | 'delete' | 'clearSession' | 'clear';

/**
 * A backend double over a real MemoryBackend whose operations can be made to fail one kind at a time: thrown
 * synchronously, rejected asynchronously, or never answered — like a SQLite file whose write lock another process
 * holds (reads fine, writes fail) or a Redis that is down. Every operation that reached the store is logged, so a
 * test can check the order of what happened (the invalidation written before the first hit).
 */
export class FaultyBackend implements Backend {
  readonly inner = new MemoryBackend();
  readonly faults: Partial<Record<Op, Fault>> = {};
  /** Answer asynchronously (a promise) even when healthy, like Redis. */
  async = false;
  readonly log: string[] = [];

  fail(ops: readonly Op[], fault: Fault): void {
    for (const op of ops) this.faults[op] = fault;
  }

  heal(): void {
    for (const op of Object.keys(this.faults) as Op[]) delete this.faults[op];
  }

  get(key: string, options?: BackendGetOptions) {
    return this.#run('get', () => {
      const entry = this.inner.get(key, options);
      this.log.push(`get ${key} ${entry === undefined ? 'miss' : 'hit'}`);
      return entry;
    });
  }

  generations(tags: readonly string[]) {
    return this.#run('generations', () => this.inner.generations(tags));
  }

  set(key: string, entry: BackendEntry) {
    return this.#run('set', () => {
      const stored = this.inner.set(key, entry);
      this.log.push(`set ${key} ${stored}`);
      return stored;
    });
  }

  bump(tags: readonly string[], sessionId?: string) {
    return this.#run('bump', () => {
      this.inner.bump(tags, sessionId);
      this.log.push(`bump ${tags.join(',')}`);
    });
  }

  delete(key: string) {
    return this.#run('delete', () => {
      this.inner.delete(key);
      this.log.push(`delete ${key}`);
    });
  }

  clearSession(sessionId: string) {
    return this.#run('clearSession', () => this.inner.clearSession(sessionId));
  }

  clear() {
    return this.#run('clear', () => {
      this.inner.clear();
      this.log.push('clear');
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #run<T>(op: Op, fn: () => T): T | Promise<T> {
    const fault = this.faults[op] ?? 'none';
    if (fault === 'throw') throw new Error(`${op}: backend down`);
    if (fault === 'reject') return Promise.reject(new Error(`${op}: backend down`));
    if (fault === 'hang') return new Promise<T>(() => {});
    return this.async ? Promise.resolve().then(fn) : fn();
  }
}
