import { describe, expect, it, vi } from 'vitest';
import {
  cacheKey,
  configure,
  defaultCachePolicy,
  InMemoryResponseCache,
  type ResponseCacheEvent,
  withResponseCache,
} from '../../src/index.js';

interface Req {
  model: string;
  messages: { role: string; content: unknown }[];
  cachePolicy?: { responseCacheEnabled?: boolean };
  metadata?: unknown;
}

function fakeModel() {
  let calls = 0;
  const model = vi.fn(async (request: Req) => {
    calls++;
    return {
      text: `answer ${calls} to ${JSON.stringify(request.messages.at(-1)?.content)}`,
      toolCalls: [] as string[],
    };
  });
  return { model, calls: () => calls };
}

const ask = (content: unknown, extra: Partial<Req> = {}): Req => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('withResponseCache', () => {
  it('answers an identical request from the cache, with hit and miss events', async () => {
    const { model } = fakeModel();
    const events: ResponseCacheEvent[] = [];
    const call = withResponseCache(model, {
      cache: new InMemoryResponseCache(),
      onEvent: (e) => events.push(e),
    });
    const first = await call(ask('hi'));
    const second = await call({ messages: [{ content: 'hi', role: 'user' }], model: 'm' });
    expect(second).toEqual(first);
    expect(model).toHaveBeenCalledTimes(1);
    const key = cacheKey(ask('hi'));
    expect(events).toEqual([
      { type: 'cache.miss', key },
      { type: 'cache.hit', key, coalesced: false },
    ]);
    await call(ask('other'));
    expect(model).toHaveBeenCalledTimes(2);
  });

  it('resolves the policy: request cachePolicy > wrapper policy > enabled with a cache', async () => {
    const { model } = fakeModel();
    const cache = new InMemoryResponseCache<{ text: string }>();
    const off = withResponseCache(model, { cache, policy: defaultCachePolicy });
    await off(ask('a'));
    await off(ask('a'));
    expect(model).toHaveBeenCalledTimes(2);
    await off(ask('a', { cachePolicy: { responseCacheEnabled: true } }));
    await off(ask('a', { cachePolicy: { responseCacheEnabled: true } }));
    expect(model).toHaveBeenCalledTimes(3);

    const on = withResponseCache(model, { cache });
    await on(ask('b'));
    await on(ask('b', { cachePolicy: { responseCacheEnabled: false } }));
    expect(model).toHaveBeenCalledTimes(5);
    // the cachePolicy field is not part of the key: an enabled request hits what another stored
    await on(ask('b', { cachePolicy: { responseCacheEnabled: true } }));
    expect(model).toHaveBeenCalledTimes(5);
  });

  it('calls the model once for identical concurrent requests', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const model = vi.fn(async (_: Req) => {
      await gate;
      return { text: 'slow' };
    });
    const events: ResponseCacheEvent[] = [];
    const call = withResponseCache(model, {
      cache: new InMemoryResponseCache(),
      onEvent: (e) => events.push(e),
    });
    const all = Promise.all([call(ask('x')), call(ask('x')), call(ask('x'))]);
    release();
    expect(await all).toEqual([{ text: 'slow' }, { text: 'slow' }, { text: 'slow' }]);
    expect(model).toHaveBeenCalledTimes(1);
    expect(events.filter((e) => e.type === 'cache.hit' && e.coalesced)).toHaveLength(2);
  });

  it('never stores a failed call, and the failure reaches every waiter', async () => {
    let fail = true;
    const model = vi.fn(async (_: Req) => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('rate limited');
      return { text: 'ok' };
    });
    const cache = new InMemoryResponseCache<{ text: string }>();
    const call = withResponseCache(model, { cache });
    const results = await Promise.allSettled([call(ask('q')), call(ask('q'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(model).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
    fail = false;
    expect(await call(ask('q'))).toEqual({ text: 'ok' });
    expect(model).toHaveBeenCalledTimes(2);
  });

  it('lets a response opt out of storage with shouldCache', async () => {
    let n = 0;
    const model = async (_: Req) => ({ text: `r${++n}`, toolCalls: n === 1 ? ['deleteUser'] : [] });
    const call = withResponseCache(model, {
      cache: new InMemoryResponseCache(),
      shouldCache: (response) => response.toolCalls.length === 0,
    });
    expect((await call(ask('q'))).text).toBe('r1'); // has a tool call: not stored
    expect((await call(ask('q'))).text).toBe('r2'); // stored
    expect((await call(ask('q'))).text).toBe('r2');
  });

  it('calls an uncacheable request (function, cycle) uncached with one warning through the configured logger', async () => {
    const warn = vi.fn();
    configure({ logger: { warn } });
    try {
      const { model } = fakeModel();
      const call = withResponseCache(model, { cache: new InMemoryResponseCache() });
      const bad = ask('x', { metadata: { onToken: () => {} } });
      await call(bad);
      await call(bad);
      expect(model).toHaveBeenCalledTimes(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![1])).toMatch(/\$\.metadata\.onToken/);
    } finally {
      configure({ logger: console });
    }
  });

  it('uses exclude and a custom key', async () => {
    const { model } = fakeModel();
    const call = withResponseCache(model, { cache: new InMemoryResponseCache(), exclude: ['metadata'] });
    await call(ask('q', { metadata: { traceId: 1 } }));
    await call(ask('q', { metadata: { traceId: 2 } }));
    expect(model).toHaveBeenCalledTimes(1);
    const byModel = withResponseCache(model, { cache: new InMemoryResponseCache(), key: (r) => r.model });
    await byModel(ask('a'));
    await byModel(ask('b'));
    expect(model).toHaveBeenCalledTimes(2);
  });

  it('falls back to the model when the cache fails, and passes extra arguments through', async () => {
    const warn = vi.fn();
    const model = vi.fn(async (_request: Req, signal?: AbortSignal) => ({
      text: 'x',
      aborted: signal?.aborted ?? null,
    }));
    const broken = {
      get: async () => {
        throw new Error('redis down');
      },
      put: async () => {},
    };
    const call = withResponseCache(model, { cache: broken, logger: { warn } });
    expect(await call(ask('q'), new AbortController().signal)).toEqual({ text: 'x', aborted: false });
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
