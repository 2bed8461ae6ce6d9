/**
 * The hit path keeps, for each argument set, the entry it last found and asks the backend whether it is still
 * current instead of looking its key up again. These tests hold it to what a lookup would answer: every way an
 * entry stops being served (invalidation, deletion, eviction, expiry, clear, session end, another backend) is seen
 * on the very next call.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AgentCache,
  AgentCacheSession,
  canonicalEncode,
  configure,
  getMetrics,
  invalidateResource,
  MemoryBackend,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

describe('the hit path: an entry kept from the last call is served only while a lookup would serve it', () => {
  let backend: MemoryBackend;
  let runs: number;
  const tool = () =>
    AgentCache({ name: 'getDoc', resource: (q: { id: string }) => [`doc:${q.id}`, 'docs'], ttl: '1m' })(
      async (q: { id: string }) => ({ id: q.id, run: ++runs }),
    );

  beforeEach(() => {
    ({ backend } = freshCache());
    runs = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves repeated calls from the kept entry, with equal arguments in new objects', async () => {
    const getDoc = tool();
    const first = await getDoc({ id: 'a' });
    for (let i = 0; i < 5; i++) expect(await getDoc(JSON.parse('{"id":"a"}'))).toBe(first);
    expect(runs).toBe(1);
    expect(getMetrics().hits).toBe(5);
  });

  it('an invalidation of one of its resources is seen by the next call', async () => {
    const getDoc = tool();
    await getDoc({ id: 'a' });
    await getDoc({ id: 'a' });
    await invalidateResource('doc:a');
    expect((await getDoc({ id: 'a' })).run).toBe(2);
    await invalidateResource('docs');
    expect((await getDoc({ id: 'a' })).run).toBe(3);
    await invalidateResource('doc:b'); // another resource: still a hit
    expect((await getDoc({ id: 'a' })).run).toBe(3);
  });

  it('so are tool.invalidate, tool.clear, clearing the backend and a replaced entry', async () => {
    const getDoc = tool();
    await getDoc({ id: 'a' });
    await getDoc({ id: 'a' });
    await getDoc.invalidate({ id: 'a' });
    expect((await getDoc({ id: 'a' })).run).toBe(2);
    await getDoc.clear();
    expect((await getDoc({ id: 'a' })).run).toBe(3);
    backend.clear();
    expect((await getDoc({ id: 'a' })).run).toBe(4);
    const key = `"""getDoc"g${canonicalEncode([{ id: 'a' }])}`;
    const entry = backend.get(key)!;
    backend.set(key, {
      value: { id: 'a', run: 99 },
      expiresAt: entry.expiresAt,
      tags: entry.tags,
      gens: entry.gens,
    });
    expect((await getDoc({ id: 'a' })).run).toBe(99);
  });

  it('eviction is seen by the next call', async () => {
    ({ backend } = freshCache({ maxEntries: 3 }));
    const getDoc = tool();
    await getDoc({ id: 'a' });
    await getDoc({ id: 'a' });
    // Used once more than the others, so the clock spares it once: enough new entries evict it anyway.
    for (const id of ['b', 'c', 'd', 'e', 'f', 'g']) await getDoc({ id });
    expect(backend.size).toBe(3);
    expect((await getDoc({ id: 'a' })).run).toBe(8);
  });

  it('expiry is seen by the next call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const getDoc = tool();
    await getDoc({ id: 'a' });
    await getDoc({ id: 'a' });
    vi.advanceTimersByTime(59_000);
    expect((await getDoc({ id: 'a' })).run).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect((await getDoc({ id: 'a' })).run).toBe(2);
  });

  it('an entry of another backend is never served: a new default backend starts empty', async () => {
    const getDoc = tool();
    await getDoc({ id: 'a' });
    await getDoc({ id: 'a' });
    const other = new MemoryBackend();
    configure({ backend: other });
    expect((await getDoc({ id: 'a' })).run).toBe(2);
    configure({ backend });
    expect((await getDoc({ id: 'a' })).run).toBe(1);
    await backend.close();
    expect((await getDoc({ id: 'a' })).run).toBe(3); // closed: runs uncached
    expect(getMetrics().backendErrors).toBe(1);
  });

  it('session-scoped entries stay in their session, and are gone when it ends', async () => {
    const getDoc = AgentCache({ name: 'getSessionDoc', resource: 'docs', scope: 'session' })(
      async (q: { id: string }) => ({ id: q.id, run: ++runs }),
    );
    const one = new AgentCacheSession({ sessionId: 'one' });
    const two = new AgentCacheSession({ sessionId: 'two' });
    expect(await one.run(async () => (await getDoc({ id: 'a' })).run)).toBe(1);
    expect(await one.run(async () => (await getDoc({ id: 'a' })).run)).toBe(1);
    expect(await two.run(async () => (await getDoc({ id: 'a' })).run)).toBe(2);
    expect(await two.run(async () => (await getDoc({ id: 'a' })).run)).toBe(2);
    await one.end();
    const again = new AgentCacheSession({ sessionId: 'one' });
    expect(await again.run(async () => (await getDoc({ id: 'a' })).run)).toBe(3);
    expect(await two.run(async () => (await getDoc({ id: 'a' })).run)).toBe(2);
    await Promise.all([two.end(), again.end()]);
  });
});
