/**
 * What leaves a MemoryBackend leaves memory: entries of ended sessions, deleted, replaced or found stale must not
 * stay reachable (through their eviction slot) until the clock hand comes round, which at a large bound may be never;
 * with `maxBytes`, the values the process keeps are bounded by it, not only the live ones.
 */
import { expect, it } from 'vitest';
import type { BackendEntry } from '../../src/index.js';
import { MemoryBackend } from '../../src/index.js';

const entry = (value: unknown, tags: readonly string[], gens: readonly number[], sessionId?: string) =>
  ({ value, expiresAt: 0, tags, gens, sessionId }) as BackendEntry;

/** Collects garbage after the current job (a WeakRef deref'd in a job keeps its target for that job). */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (the vitest config passes it)');
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  gc();
}

const reachable = (refs: readonly WeakRef<object>[]) => refs.filter((r) => r.deref() !== undefined).length;

/** Stores `count` values (objects) in sessions of 10 entries each; returns weak references to the values. */
function fillSessions(b: MemoryBackend, count: number): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) {
    const value = { i, payload: `value ${i}` };
    const tags = [`r:${i % 10}`];
    expect(b.set(`s${i}`, entry(value, tags, b.generations(tags), `session-${Math.floor(i / 10)}`))).toBe(
      true,
    );
    refs.push(new WeakRef(value));
  }
  return refs;
}

it('the values of ended sessions are released when the sessions end, not when their slots are reused', async () => {
  const b = new MemoryBackend({ maxEntries: 100_000 });
  const kept = { payload: 'a global entry that stays' };
  expect(b.set('global', entry(kept, ['r:g'], b.generations(['r:g'])))).toBe(true);
  const refs = fillSessions(b, 1_000);
  await collect();
  expect(reachable(refs)).toBe(1_000);
  for (let s = 0; s < 100; s++) b.clearSession(`session-${s}`);
  await collect();
  expect(b.size).toBe(1);
  // Slots of entries that left are compacted away once they are more than half of the ring.
  expect(reachable(refs)).toBeLessThanOrEqual(b.size);
  expect(b.get('global')?.value).toBe(kept);
});

it('deleted, replaced and stale entries: those that left never outnumber the live ones', async () => {
  const b = new MemoryBackend({ maxEntries: 100_000 });
  const refs = fillSessions(b, 1_000);
  for (let i = 0; i < 500; i++) b.delete(`s${i}`);
  for (let i = 500; i < 700; i++) {
    const tags = [`r:${i % 10}`];
    b.set(`s${i}`, entry({ replacement: i }, tags, b.generations(tags), 'other'));
  }
  b.bump(['r:3']); // 30 of the remaining originals turn stale; reading them drops them
  for (let i = 700; i < 1_000; i++) b.get(`s${i}`);
  await collect();
  const liveOriginals = 300 - 30;
  expect(b.size).toBe(200 + liveOriginals);
  // Before, every one of the 1 000 stayed reachable through its slot.
  expect(reachable(refs)).toBeLessThanOrEqual(liveOriginals + b.size);
});

it('maxBytes bounds the values kept in memory, not only the live ones', async () => {
  const MB = 1 << 20;
  const b = new MemoryBackend({ maxBytes: 4 * MB });
  const refs: WeakRef<object>[] = [];
  (() => {
    for (let i = 0; i < 60; i++) {
      const value = new Uint8Array(MB / 2).fill(i);
      refs.push(new WeakRef(value));
      const tags = [`doc:${i % 3}`];
      expect(b.set(`doc${i % 3}`, entry(value, tags, b.generations(tags)))).toBe(true);
      if (i % 2 === 0) b.bump(tags); // invalidated: found stale and dropped by the next read
      b.get(`doc${i % 3}`);
    }
  })();
  await collect();
  expect(b.bytes).toBeLessThanOrEqual(4 * MB);
  // Live values take at most 4 MB (8 of these), those that left at most as much again.
  expect(reachable(refs)).toBeLessThanOrEqual(16);
});
