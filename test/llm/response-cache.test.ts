import { describe, expect, it } from 'vitest';
import { BackendResponseCache, configure, InMemoryResponseCache, MemoryBackend } from '../../src/index.js';

describe('InMemoryResponseCache', () => {
  it('stores, returns and evicts the least recently used', async () => {
    const cache = new InMemoryResponseCache<string>({ maxEntries: 2 });
    await cache.put('a', 'A');
    await cache.put('b', 'B');
    expect(await cache.get('a')).toBe('A'); // a is now the most recent
    await cache.put('c', 'C');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('A');
    expect(await cache.get('c')).toBe('C');
    expect(cache.size).toBe(2);
  });

  it('expires entries after ttl (injected clock)', async () => {
    let now = 1_000;
    const cache = new InMemoryResponseCache<number>({ ttl: '30s', now: () => now });
    await cache.put('k', 1);
    now += 29_999;
    expect(await cache.get('k')).toBe(1);
    now += 1;
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('rejects bad options', () => {
    expect(() => new InMemoryResponseCache({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => new InMemoryResponseCache({ ttl: 'soon' as never })).toThrow(TypeError);
  });
});

describe('BackendResponseCache', () => {
  it('stores responses in a Backend, apart from tool entries, per namespace', async () => {
    const backend = new MemoryBackend();
    const a = new BackendResponseCache<{ text: string }>(backend, { namespace: 'app-a' });
    const b = new BackendResponseCache<{ text: string }>(backend, { namespace: 'app-b' });
    await a.put('k', { text: 'hello' });
    expect(await a.get('k')).toEqual({ text: 'hello' });
    expect(await b.get('k')).toBeUndefined();
    expect(backend.size).toBe(1);
    const stored = backend.get('llm"app-a"k');
    expect(stored?.tags).toEqual([]);
  });

  it('uses the configured namespace by default, read at each call', async () => {
    const backend = new MemoryBackend();
    const cache = new BackendResponseCache<string>(backend);
    try {
      configure({ namespace: 'ns1' });
      await cache.put('k', 'v1');
      configure({ namespace: 'ns2' });
      expect(await cache.get('k')).toBeUndefined();
      configure({ namespace: 'ns1' });
      expect(await cache.get('k')).toBe('v1');
    } finally {
      configure({ namespace: '' });
    }
  });

  it('honours ttl through the backend expiry', async () => {
    const backend = new MemoryBackend();
    const cache = new BackendResponseCache<string>(backend, { ttl: 5_000 });
    const before = Date.now();
    await cache.put('k', 'v');
    const entry = backend.get('llm""k');
    expect(entry?.expiresAt).toBeGreaterThanOrEqual(before + 5_000);
    expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('works over an asynchronous backend too (only the Backend interface is used)', async () => {
    const inner = new MemoryBackend();
    const asyncBackend = {
      get: async (key: string) => inner.get(key),
      set: async (key: string, entry: Parameters<MemoryBackend['set']>[1]) => inner.set(key, entry),
      generations: async (tags: readonly string[]) => inner.generations(tags),
      bump: async (tags: readonly string[]) => inner.bump(tags),
      delete: async (key: string) => inner.delete(key),
      clearSession: async (id: string) => inner.clearSession(id),
      clear: async () => inner.clear(),
      close: async () => inner.close(),
    };
    const cache = new BackendResponseCache<number[]>(asyncBackend);
    await cache.put('k', [1, 2]);
    expect(await cache.get('k')).toEqual([1, 2]);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('rejects something that is not a backend', () => {
    expect(() => new BackendResponseCache({} as never)).toThrow(TypeError);
  });
});
