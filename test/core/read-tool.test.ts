import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentCache, getMetrics, MemoryBackend, resetMetrics } from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

describe('AgentCache: read tools', () => {
  beforeEach(() => {
    freshCache();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the function on a miss and serves the stored result on a hit', async () => {
    let calls = 0;
    const getCart = AgentCache({ resource: 'cart' })(async function getCart(userId: string) {
      calls++;
      return { userId, items: ['book'] };
    });
    const first = await getCart('u1');
    const second = await getCart('u1');
    expect(second).toEqual({ userId: 'u1', items: ['book'] });
    expect(second).toBe(first);
    expect(calls).toBe(1);
    await getCart('u2');
    expect(calls).toBe(2);
    const m = getMetrics();
    expect(m.hits).toBe(1);
    expect(m.misses).toBe(2);
    expect(m.hitRate).toBeCloseTo(1 / 3);
  });

  it('keeps the wrapped function name as the tool name', () => {
    const tool = AgentCache()(async function searchDocs(q: string) {
      return q;
    });
    expect(tool.toolName).toBe('searchDocs');
    const named = AgentCache({ name: 'docs.search' })(async (q: string) => q);
    expect(named.toolName).toBe('docs.search');
  });

  it('expires entries after a ttl in ms', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    let calls = 0;
    const tool = AgentCache({ ttl: 1000 })(async function ttlMs(x: number) {
      calls++;
      return x;
    });
    await tool(1);
    vi.setSystemTime(1_000_999);
    await tool(1);
    expect(calls).toBe(1);
    vi.setSystemTime(1_001_000);
    await tool(1);
    expect(calls).toBe(2);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ] as const)('parses ttl %s as %i ms', async (ttl, ms) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    let calls = 0;
    const tool = AgentCache({ ttl, name: `ttl-${ttl}` })(async () => ++calls);
    await tool();
    vi.setSystemTime(ms - 1);
    expect(await tool()).toBe(1);
    vi.setSystemTime(ms);
    expect(await tool()).toBe(2);
  });

  it('is bounded by the backend LRU', async () => {
    const backend = new MemoryBackend({ maxEntries: 3 });
    let calls = 0;
    const tool = AgentCache({ backend })(async function lru(x: number) {
      calls++;
      return x;
    });
    for (const x of [1, 2, 3]) await tool(x);
    await tool(1); // 1 is now the most recently used... or recent enough
    await tool(4); // evicts one entry
    expect(backend.size).toBe(3);
    calls = 0;
    await tool(4);
    expect(calls).toBe(0);
  });

  it('never caches errors', async () => {
    let calls = 0;
    const flaky = AgentCache()(async function flaky() {
      calls++;
      if (calls === 1) throw new Error('boom');
      return 'ok';
    });
    await expect(flaky()).rejects.toThrow('boom');
    expect(await flaky()).toBe('ok');
    expect(await flaky()).toBe('ok');
    expect(calls).toBe(2);
    expect(getMetrics().errors).toBe(1);
  });

  it('caches undefined like any other value', async () => {
    let calls = 0;
    const lookup = AgentCache()(async function lookup(_id: string) {
      calls++;
      return undefined;
    });
    expect(await lookup('missing')).toBeUndefined();
    expect(await lookup('missing')).toBeUndefined();
    expect(calls).toBe(1);
    expect(getMetrics().hits).toBe(1);
  });

  it('returns but does not store results rejected by shouldCache', async () => {
    let calls = 0;
    const search = AgentCache({ shouldCache: (r) => (r as string[]).length > 0 })(async function search(
      q: string,
    ) {
      calls++;
      return q === 'none' ? [] : [q];
    });
    expect(await search('none')).toEqual([]);
    expect(await search('none')).toEqual([]);
    expect(calls).toBe(2);
    await search('x');
    await search('x');
    expect(calls).toBe(3);
  });

  it('keys by a custom key function', async () => {
    let calls = 0;
    const fetchUser = AgentCache({ key: (req) => (req as { id: string }).id })(async function fetchUser(req: {
      id: string;
      traceId: string;
    }) {
      calls++;
      return req.id;
    });
    await fetchUser({ id: 'a', traceId: 't1' });
    await fetchUser({ id: 'a', traceId: 't2' });
    expect(calls).toBe(1);
  });

  it('treats argument objects by value: key order does not matter, mutation does', async () => {
    let calls = 0;
    const query = AgentCache()(async function query(q: Record<string, unknown>) {
      calls++;
      return { ...q };
    });
    const q = { a: 1, b: [1, 2] };
    await query(q);
    await query({ b: [1, 2], a: 1 });
    expect(calls).toBe(1);
    (q.b as number[]).push(3);
    expect(await query(q)).toEqual({ a: 1, b: [1, 2, 3] });
    expect(calls).toBe(2);
  });

  it('invalidate(...args) drops only that entry', async () => {
    let calls = 0;
    const tool = AgentCache()(async function inv(x: string) {
      calls++;
      return x;
    });
    await tool('a');
    await tool('b');
    await tool.invalidate('a');
    await tool('a');
    await tool('b');
    expect(calls).toBe(3);
  });

  it('clear() drops every entry of the tool and no other', async () => {
    let a = 0;
    let b = 0;
    const toolA = AgentCache()(async function clearA(x: number) {
      a++;
      return x;
    });
    const toolB = AgentCache()(async function clearB(x: number) {
      b++;
      return x;
    });
    await toolA(1);
    await toolA(2);
    await toolB(1);
    await toolA.clear();
    await toolA(1);
    await toolA(2);
    await toolB(1);
    expect(a).toBe(4);
    expect(b).toBe(1);
  });

  it('counts per tool and resets global metrics', async () => {
    const t1 = AgentCache()(async function metricsOne() {
      return 1;
    });
    const t2 = AgentCache()(async function metricsTwo() {
      return 2;
    });
    await t1();
    await t1();
    await t2();
    const m = getMetrics();
    expect(m.tools.metricsOne).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5 });
    expect(m.tools.metricsTwo).toMatchObject({ hits: 0, misses: 1, hitRate: 0 });
    expect(m).toMatchObject({ hits: 1, misses: 2 });
    resetMetrics();
    const z = getMetrics();
    expect(z).toMatchObject({ hits: 0, misses: 0, hitRate: 0, coalesced: 0, bypassed: 0, errors: 0 });
    expect(z.tools.metricsOne?.hits).toBe(0);
  });

  it('preserves `this` for wrapped methods called on an object', async () => {
    const api = {
      base: 'https://x',
      get: AgentCache({ name: 'api.get' })(async function (this: { base: string }, path: string) {
        return `${this.base}${path}`;
      }),
    };
    expect(await api.get('/a')).toBe('https://x/a');
  });

  it('a backend that fails makes the call run uncached, never fail', async () => {
    const broken = new MemoryBackend();
    broken.get = () => {
      throw new Error('disk on fire');
    };
    let calls = 0;
    const tool = AgentCache({ backend: broken })(async function brokenBackend() {
      calls++;
      return 'value';
    });
    expect(await tool()).toBe('value');
    expect(await tool()).toBe('value');
    expect(calls).toBe(2);
    expect(getMetrics().backendErrors).toBe(2);
  });

  it('an asynchronous backend that rejects on store still returns the result', async () => {
    const backend = new MemoryBackend();
    backend.set = (() => Promise.reject(new Error('write failed'))) as never;
    const tool = AgentCache({ backend })(async function rejectsOnStore() {
      return 42;
    });
    expect(await tool()).toBe(42);
    expect(getMetrics().backendErrors).toBe(1);
  });
});
