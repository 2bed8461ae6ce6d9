import type { Backend, BackendEntry, BackendGetOptions } from '../../backends/contract.js';
import { MemoryBackend } from '../../backends/memory.js';
import { unregisterBackend } from '../../backends/registry.js';

/** Bounds far above any trace: the replay must not evict (the replay rules know no LRU) nor forget generations. */
const UNBOUNDED = 2 ** 30;

/**
 * The replay's backend: a MemoryBackend without practical bounds, which also remembers which stored entries each
 * invalidation made stale. It answers that from the backend's own view — an entry counts when it was fresh just
 * before the bump and carries one of the bumped tags — so the report shows what the library did, not a model of it.
 */
export class RecordingBackend implements Backend {
  readonly #memory = new MemoryBackend({ maxEntries: UNBOUNDED, maxGenerations: UNBOUNDED });
  /** Keys of stored entries by tag, and what each key's entry is (for the report: its tool). */
  readonly #byTag = new Map<string, Set<string>>();
  readonly #labels = new Map<string, { readonly tags: readonly string[]; readonly label: string }>();
  /** Labels of the entries the last bump made stale; read (and reset) by the replay after each write. */
  invalidated: string[] = [];
  /** Label of the entries stored from now on (the replay sets it to the tool of the call being replayed). */
  label = '';

  get(key: string, options?: BackendGetOptions): BackendEntry | undefined {
    return this.#memory.get(key, options);
  }

  generations(tags: readonly string[]): readonly number[] {
    return this.#memory.generations(tags);
  }

  set(key: string, entry: BackendEntry): boolean {
    const stored = this.#memory.set(key, entry);
    if (stored) {
      this.#forget(key);
      this.#labels.set(key, { tags: entry.tags, label: this.label });
      for (const tag of entry.tags) {
        let keys = this.#byTag.get(tag);
        if (keys === undefined) {
          keys = new Set();
          this.#byTag.set(tag, keys);
        }
        keys.add(key);
      }
    }
    return stored;
  }

  bump(tags: readonly string[], sessionId?: string): void {
    const hit = new Set<string>();
    for (const tag of tags) for (const key of this.#byTag.get(tag) ?? []) hit.add(key);
    for (const key of hit) {
      if (this.#memory.get(key) !== undefined) this.invalidated.push(this.#labels.get(key)!.label);
    }
    this.#memory.bump(tags, sessionId);
    // Stale for good: generations only grow, so these entries can never be served again.
    for (const key of hit) this.#forget(key);
  }

  delete(key: string): void {
    this.#forget(key);
    this.#memory.delete(key);
  }

  clearSession(sessionId: string): void {
    this.#memory.clearSession(sessionId);
  }

  clear(): void {
    this.#byTag.clear();
    this.#labels.clear();
    this.#memory.clear();
  }

  async close(): Promise<void> {
    unregisterBackend(this);
    await this.#memory.close();
  }

  #forget(key: string): void {
    const known = this.#labels.get(key);
    if (known === undefined) return;
    this.#labels.delete(key);
    for (const tag of known.tags) {
      const keys = this.#byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.#byTag.delete(tag);
    }
  }
}
