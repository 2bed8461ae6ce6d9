import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  channelNames,
  getMetrics,
  invalidateResource,
  MemoryBackend,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';
import { listen } from './helpers.js';

let active: ReturnType<typeof listen> | undefined;
afterEach(() => {
  active?.stop();
  active = undefined;
});
const events = (...names: Parameters<typeof listen>) => {
  active = listen(...names);
  return active;
};

describe('diagnostics_channel events', () => {
  it('names every channel agent-cache:<event>', () => {
    expect(Object.values(channelNames).sort()).toEqual(
      [
        'hit',
        'miss',
        'invalidate',
        'loop',
        'bypass',
        'backend-error',
        'response-hit',
        'response-miss',
        'prefix-break',
      ]
        .map((e) => `agent-cache:${e}`)
        .sort(),
    );
  });

  it('publishes a miss with its execution time, then hits with what they saved, under one key hash', async () => {
    freshCache();
    const on = events('hit', 'miss');
    const getTicket = AgentCache({ resource: 'ticket' })(async function getTicket(id: string) {
      await sleep(30);
      return { id };
    });
    await getTicket('T-100');
    await getTicket('T-100');
    await getTicket('T-100');
    const [miss] = on.of('miss');
    const hits = on.of('hit');
    expect(on.seen.map((s) => s.event)).toEqual(['miss', 'hit', 'hit']);
    expect(miss).toMatchObject({ tool: 'getTicket', sessionId: undefined });
    expect(miss!.durationMs).toBeGreaterThanOrEqual(20);
    expect(miss!.key).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(miss!.key).not.toContain('T-100');
    for (const hit of hits) {
      expect(hit).toMatchObject({
        tool: 'getTicket',
        key: miss!.key,
        coalesced: false,
        sessionId: undefined,
      });
      expect(hit.savedMs).toBe(miss!.durationMs);
      expect(hit.durationMs).toBeGreaterThanOrEqual(0);
      expect(hit.durationMs).toBeLessThan(miss!.durationMs);
    }
    await getTicket('T-200');
    expect(on.of('miss')[1]!.key).not.toBe(miss!.key);
  });

  it('carries the session id, and keys the same arguments in two sessions apart', async () => {
    freshCache();
    const on = events('miss', 'hit');
    const getCart = AgentCache({ resource: 'cart', scope: 'session' })(async function getCart(id: string) {
      return [id];
    });
    await AgentCacheSession.run({ sessionId: 'A' }, async () => {
      await getCart('u1');
      await getCart('u1');
    });
    await AgentCacheSession.run({ sessionId: 'B' }, () => getCart('u1'));
    const misses = on.of('miss');
    expect(misses.map((m) => m.sessionId)).toEqual(['A', 'B']);
    expect(misses[0]!.key).not.toBe(misses[1]!.key);
    expect(on.of('hit')).toMatchObject([{ sessionId: 'A', key: misses[0]!.key }]);
  });

  it('publishes coalesced callers as hits that saved the execution they joined', async () => {
    freshCache();
    const on = events('hit', 'miss');
    let runs = 0;
    const search = AgentCache({ resource: 'docs' })(async function search(q: string) {
      runs++;
      await sleep(20);
      return [q];
    });
    await Promise.all([search('x'), search('x'), search('x')]);
    expect(runs).toBe(1);
    const [miss] = on.of('miss');
    const hits = on.of('hit');
    expect(hits).toHaveLength(2);
    for (const hit of hits) {
      expect(hit).toMatchObject({ coalesced: true, key: miss!.key, savedMs: miss!.durationMs });
    }
    expect(getMetrics().tools.search).toMatchObject({ hits: 2, misses: 1, coalesced: 2 });
    expect(getMetrics().tools.search!.savedMs).toBe(2 * miss!.durationMs);
  });

  it('publishes a failed execution as a miss with its error, and stores nothing', async () => {
    freshCache();
    const on = events('miss', 'hit');
    const boom = new Error('down');
    const flaky = AgentCache({ resource: 'x' })(async function flaky() {
      throw boom;
    });
    await expect(flaky()).rejects.toBe(boom);
    await expect(flaky()).rejects.toBe(boom);
    expect(on.of('miss')).toMatchObject([{ error: boom }, { error: boom }]);
    expect(on.of('hit')).toEqual([]);
  });

  it('publishes bypasses with their reason; a session-scoped tool outside a session warns once', async () => {
    const { logger } = freshCache();
    const on = events('bypass');
    const getCart = AgentCache({ resource: 'cart', scope: 'session' })(async function getCart(id: string) {
      return [id];
    });
    const lookup = AgentCache({ resource: 'x' })(async function lookup(fn: () => number) {
      return fn();
    });
    await getCart('u1');
    await getCart('u1');
    await lookup(() => 1);
    expect(on.of('bypass')).toMatchObject([
      { tool: 'getCart', reason: 'no-session', key: undefined, sessionId: undefined },
      { tool: 'getCart', reason: 'no-session' },
      { tool: 'lookup', reason: 'uncacheable-arguments' },
    ]);
    const outside = logger.messages.filter((m) => m.includes('outside any AgentCacheSession'));
    expect(outside).toHaveLength(1);
    expect(outside[0]).toContain('getCart');
    expect(getMetrics().tools.getCart).toMatchObject({ bypassed: 2, hits: 0, misses: 0 });
  });

  it('a session-scoped write outside a session warns once and publishes a bypass', async () => {
    const { logger } = freshCache();
    const on = events('bypass', 'invalidate');
    const note = AgentCacheInvalidator({ resource: 'notes', scope: 'session' })(async function note() {
      return 1;
    });
    await note();
    await note();
    expect(on.of('bypass')).toMatchObject([{ tool: 'note', reason: 'no-session' }, { tool: 'note' }]);
    expect(on.of('invalidate')).toEqual([]);
    expect(logger.messages.filter((m) => m.includes('outside any AgentCacheSession'))).toHaveLength(1);
  });

  it('publishes one invalidate per write (with its error) and per invalidateResource', async () => {
    freshCache();
    const on = events('invalidate');
    const save = AgentCacheInvalidator({ resource: (id) => `ticket:${id}` })(async function save(
      id: string,
      fail: boolean,
    ) {
      await sleep(10);
      if (fail) throw new Error('rejected');
      return id;
    });
    await AgentCacheSession.run({ sessionId: 'S' }, () => save('T-1', false));
    await expect(save('T-2', true)).rejects.toThrow('rejected');
    await invalidateResource(['a', 'b']);
    const [first, second, third] = on.of('invalidate');
    expect(first).toMatchObject({ tool: 'save', resources: ['ticket:T-1'], scope: 'global', sessionId: 'S' });
    expect(first!.durationMs).toBeGreaterThanOrEqual(5);
    expect(first).not.toHaveProperty('error');
    expect(second).toMatchObject({ tool: 'save', resources: ['ticket:T-2'], sessionId: undefined });
    expect((second!.error as Error).message).toBe('rejected');
    expect(third).toMatchObject({ tool: undefined, resources: ['a', 'b'], scope: 'global' });
    expect(on.of('invalidate')).toHaveLength(3);
  });

  it('publishes every loop detection with its kind, count and mode', async () => {
    freshCache();
    const on = events('loop', 'hit');
    const get = AgentCache({ resource: 't' })(async function getStatus(id: string) {
      return id;
    });
    await AgentCacheSession.run(
      { sessionId: 'L', loopDetection: true, onLoop: 'warn', logger: { warn() {} } },
      async () => {
        for (let i = 0; i < 7; i++) await get('job-1');
      },
    );
    const loops = on.of('loop');
    expect(loops).toMatchObject([
      { tool: 'getStatus', sessionId: 'L', kind: 'repeat', count: 6, mode: 'warn' },
      { tool: 'getStatus', sessionId: 'L', kind: 'repeat', count: 7, mode: 'warn' },
    ]);
    expect(loops[0]!.key).toBe(on.of('hit')[0]!.key);
  });

  it('publishes backend errors with the failing operation; the call still answers', async () => {
    freshCache();
    const on = events('backend-error', 'bypass');
    const failure = new Error('disk gone');
    const broken: Backend = Object.assign(new MemoryBackend(), {
      get() {
        throw failure;
      },
    });
    const read = AgentCache({ resource: 'r', backend: broken })(async function readFile(p: string) {
      return p.length;
    });
    expect(await read('/a')).toBe(2);
    expect(on.of('backend-error')).toMatchObject([
      { tool: 'readFile', operation: 'get', error: failure, sessionId: undefined },
    ]);
    expect(on.of('backend-error')[0]!.key).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('stops publishing when unsubscribed', async () => {
    freshCache();
    const on = listen('miss');
    const f = AgentCache({ resource: 'x' })(async function quiet(n: number) {
      return n;
    });
    await f(1);
    on.stop();
    await f(2);
    expect(on.of('miss')).toHaveLength(1);
  });
});

describe('savedMs', () => {
  it('adds the stored execution time of each hit, per tool, in total, per session and globally', async () => {
    freshCache();
    const on = listen('miss');
    active = on;
    const slow = AgentCache({ resource: 'a' })(async function slowRead(id: string) {
      await sleep(15);
      return id;
    });
    const other = AgentCache({ resource: 'b' })(async function otherRead(id: string) {
      await sleep(5);
      return id;
    });
    const session = new AgentCacheSession();
    await slow('1');
    await other('1');
    await session.run(async () => {
      await slow('1');
      await slow('1');
      await other('1');
    });
    const [slowMiss, otherMiss] = on.of('miss').map((m) => m.durationMs);
    const global = getMetrics();
    expect(global.tools.slowRead!.savedMs).toBe(2 * slowMiss!);
    expect(global.tools.otherRead!.savedMs).toBe(otherMiss!);
    expect(global.savedMs).toBeCloseTo(2 * slowMiss! + otherMiss!, 9);
    const own = session.getMetrics();
    expect(own.savedMs).toBeCloseTo(2 * slowMiss! + otherMiss!, 9);
    expect(own.tools.slowRead!.savedMs).toBe(2 * slowMiss!);
    expect(slowMiss!).toBeGreaterThanOrEqual(10);
    await session.end();
  });

  it('comes from the entry, so a hit in a later process saves what the first execution cost', async () => {
    freshCache();
    const backend = new MemoryBackend();
    const first = AgentCache({ resource: 'kb', backend })(async function answer(q: string) {
      await sleep(12);
      return q;
    });
    await first('refunds');
    // Another wrapper (a restarted process) reading the same backend.
    const again = AgentCache({ resource: 'kb', backend })(async function answer(q: string) {
      return q;
    });
    await again('refunds');
    expect(getMetrics().tools.answer!.savedMs).toBeGreaterThanOrEqual(8);
  });
});
