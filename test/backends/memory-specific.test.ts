import { describe, expect, it, vi } from 'vitest';
import type { BackendEntry } from '../../src/index.js';
import { MemoryBackend } from '../../src/index.js';

type Keyed = BackendEntry & { readonly key: string };
const entry = (
  value: unknown,
  tags: readonly string[],
  gens: readonly number[],
  extra: Partial<BackendEntry> = {},
) => ({ value, expiresAt: 0, tags, gens, ...extra }) as BackendEntry;

function store(b: MemoryBackend, key: string, value: unknown = key, tags: string[] = ['r:x'], extra = {}) {
  expect(b.set(key, entry(value, tags, b.generations(tags), extra))).toBe(true);
  return b.get(key, { stale: true }) as Keyed; // a stale read does not count as a use
}

describe('MemoryBackend specifics', () => {
  it('evicts CLOCK-style: an entry used since the hand last passed is spared once', () => {
    const b = new MemoryBackend({ maxEntries: 4 });
    for (const k of ['a', 'b', 'c', 'd']) store(b, k);
    b.get('a');
    b.get('c');
    store(b, 'e'); // the hand spares a, evicts b
    expect(b.get('b')).toBeUndefined();
    store(b, 'f'); // spares c, evicts d
    expect(b.get('d')).toBeUndefined();
    for (const k of ['a', 'c', 'e', 'f']) expect(b.get(k)?.value).toBe(k);
    expect(b.size).toBe(4);
  });

  it('stays at its bound through any number of insertions, replacements and deletions', () => {
    const b = new MemoryBackend({ maxEntries: 100 });
    for (let i = 0; i < 5_000; i++) {
      store(b, `k${i % 300}`, i);
      if (i % 7 === 0) b.delete(`k${(i * 13) % 300}`);
      if (i % 3 === 0) b.get(`k${(i * 11) % 300}`);
      expect(b.size).toBeLessThanOrEqual(100);
    }
    for (let i = 0; i < 200; i++) store(b, `fill${i}`);
    expect(b.size).toBe(100);
  });

  it('current(): an entry it returned is current exactly while get() would return it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const b = new MemoryBackend({ maxEntries: 2 });
      const a = store(b, 'a', 1, ['r:a', 'r:shared']);
      expect(b.current(a)).toBe(true);
      b.bump(['r:other']);
      expect(b.current(a)).toBe(true);
      b.bump(['r:shared']);
      expect(b.current(a)).toBe(false);
      expect(b.get('a')).toBeUndefined();

      const c = store(b, 'c');
      b.delete('c');
      expect(b.current(c)).toBe(false);

      const d = store(b, 'd', 'old');
      store(b, 'd', 'new');
      expect(b.current(d)).toBe(false); // replaced
      expect(b.current(b.get('d') as Keyed)).toBe(true);

      const t = store(b, 't', 1, ['r:t'], { expiresAt: Date.now() + 1_000 });
      vi.advanceTimersByTime(999);
      expect(b.current(t)).toBe(true);
      vi.advanceTimersByTime(1);
      expect(b.current(t)).toBe(false);

      const e1 = store(b, 'e1');
      store(b, 'e2');
      store(b, 'e3'); // bound 2: e1 evicted
      expect(b.current(e1)).toBe(b.get('e1') !== undefined);

      const other = new MemoryBackend();
      const o = store(other, 'e3');
      expect(b.current(o)).toBe(false);
      expect(b.current({ key: 'e3', value: 1, expiresAt: 0, tags: [], gens: [] })).toBe(false);

      const s = store(b, 's', 1, ['s:1:r'], { sessionId: '1' });
      b.clearSession('1');
      expect(b.current(s)).toBe(false);

      const k = store(b, 'k');
      b.clear();
      expect(b.current(k)).toBe(false);
      const z = store(b, 'z');
      void b.close();
      expect(b.current(z)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('entries stored with the same tags and generations are checked together, each against its own tags', () => {
    const b = new MemoryBackend();
    for (let i = 0; i < 10; i++) store(b, `x${i}`, i, ['t:tool', 'r:x']);
    for (let i = 0; i < 10; i++) store(b, `y${i}`, i, ['t:tool', 'r:y']);
    for (let i = 0; i < 50; i++) b.bump([`r:unrelated${i}`]);
    for (let i = 0; i < 10; i++) expect(b.get(`x${i}`)?.value).toBe(i);
    b.bump(['r:x']);
    for (let i = 0; i < 10; i++) {
      expect(b.get(`x${i}`)).toBeUndefined();
      expect(b.get(`y${i}`)?.value).toBe(i);
    }
    // Stored after the bump, against the new generation: fresh.
    store(b, 'x0', 'again', ['t:tool', 'r:x']);
    expect(b.get('x0')?.value).toBe('again');
  });

  it('bounds the bytes of the values it holds (maxBytes), evicting as many entries as it takes', () => {
    const b = new MemoryBackend({ maxBytes: 1_000 });
    for (let i = 0; i < 50; i++) store(b, `k${i}`, 'x'.repeat(100));
    expect(b.bytes).toBeLessThanOrEqual(1_000);
    expect(b.size).toBeGreaterThan(0);
    store(b, 'big', 'y'.repeat(900));
    expect(b.bytes).toBeLessThanOrEqual(1_000);
    expect(b.get('big')?.value).toBe('y'.repeat(900));
    expect(b.set('huge', entry('z'.repeat(2_000), [], []))).toBe(false);
    b.clear();
    expect(b.bytes).toBe(0);
  });

  it('keeps what an entry recorded: value by reference, expiry, creation time and duration', () => {
    const b = new MemoryBackend();
    const value = { list: [1] };
    const got = store(b, 'k', value, ['r:a'], {
      expiresAt: 1e13,
      createdAt: 1_700_000_000_123,
      durationMs: 0.125,
    });
    expect(got.value).toBe(value);
    expect(got.key).toBe('k');
    expect([got.expiresAt, got.createdAt, got.durationMs]).toEqual([1e13, 1_700_000_000_123, 0.125]);
    expect([...got.tags]).toEqual(['r:a']);
    expect(got.sessionId).toBeUndefined();
  });

  it('reads back every duration exactly: whole µs, finer fractions, long, negative and odd values', () => {
    const b = new MemoryBackend();
    const durations = [0, 0.001, 12.345, 1_073_741.823, 0.0123456, 1 / 3, 2e6, 3.6e6 + 0.5, -1, 1e300];
    durations.forEach((durationMs, i) => {
      expect(store(b, `d${i}`, i, ['r:a'], { durationMs }).durationMs).toBe(durationMs);
    });
  });
});
