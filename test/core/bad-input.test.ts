import { beforeEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  configure,
  getMetrics,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';
import type { recordingLogger } from '../helpers/logger.js';

describe('bad input', () => {
  let logger: ReturnType<typeof recordingLogger>;
  beforeEach(() => {
    ({ logger } = freshCache());
  });

  it('arguments with no canonical form run uncached, counted in bypassed, with one warning per tool', async () => {
    let calls = 0;
    const tool = AgentCache()(async function withCallback(x: unknown) {
      calls++;
      return typeof x;
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await tool(() => 1)).toBe('function');
    expect(await tool(Symbol('s'))).toBe('symbol');
    expect(await tool(cyclic)).toBe('object');
    expect(await tool(() => 1)).toBe('function');
    expect(calls).toBe(4);
    expect(getMetrics().bypassed).toBe(4);
    expect(getMetrics().misses).toBe(0);
    expect(logger.messages.filter((m) => m.includes('withCallback'))).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/uncached/);
  });

  it('a key or resource function that throws makes the call run uncached, never fail', async () => {
    let calls = 0;
    const badKey = AgentCache({
      key: () => {
        throw new Error('bad key');
      },
    })(async function badKey() {
      return ++calls;
    });
    expect(await badKey()).toBe(1);
    expect(await badKey()).toBe(2);
    const badResource = AgentCache({
      resource: () => {
        throw new Error('bad resource');
      },
    })(async function badResource() {
      return ++calls;
    });
    expect(await badResource()).toBe(3);
    expect(await badResource()).toBe(4);
    expect(getMetrics().bypassed).toBe(4);
  });

  it('a shouldCache that throws is reported and the result is returned unstored', async () => {
    let calls = 0;
    const tool = AgentCache({
      shouldCache: () => {
        throw new Error('oops');
      },
    })(async function throwingPredicate() {
      return ++calls;
    });
    expect(await tool()).toBe(1);
    expect(await tool()).toBe(2);
  });

  it('invalid options are a TypeError at wrap time naming the option', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => AgentCache({ ttl: '5 parsecs' as never }), /`ttl`/],
      [() => AgentCache({ ttl: -1 }), /`ttl`/],
      [() => AgentCache({ ttl: Number.NaN }), /`ttl`/],
      [() => AgentCache({ scope: 'galaxy' as never }), /`scope`/],
      [() => AgentCache({ resource: '' }), /`resource`/],
      [() => AgentCache({ resource: [1] as never }), /`resource`/],
      [() => AgentCache({ name: '' }), /`name`/],
      [() => AgentCache({ key: 'id' as never }), /`key`/],
      [() => AgentCache({ shouldCache: true as never }), /`shouldCache`/],
      [() => AgentCache({ backend: {} as never }), /`backend`/],
      [() => AgentCacheInvalidator({} as never), /`resource`/],
      [() => AgentCacheInvalidator({ resource: 'x', scope: 'galaxy' as never }), /`scope`/],
      [() => AgentCache()(async () => 1), /`name`/],
      [() => AgentCacheInvalidator({ resource: 'x' })(async () => 1), /`name`/],
      [() => AgentCache()('not a function' as never), /function/],
      [() => configure({ namespace: 5 as never }), /`namespace`/],
      [() => new AgentCacheSession({ sessionId: '' }), /`sessionId`/],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(message);
    }
  });

  it('a resource function returning something that is not a resource makes reads run uncached', async () => {
    let calls = 0;
    const tool = AgentCache({ resource: () => 42 as never })(async function weirdResource() {
      return ++calls;
    });
    expect(await tool()).toBe(1);
    expect(await tool()).toBe(2);
    expect(logger.messages.some((m) => m.includes('weirdResource'))).toBe(true);
  });

  it('a write whose resource function throws still runs, with a warning', async () => {
    const write = AgentCacheInvalidator({
      resource: () => {
        throw new Error('no resource');
      },
    })(async function blindWrite() {
      return 'written';
    });
    expect(await write()).toBe('written');
    expect(logger.messages.some((m) => m.includes('blindWrite'))).toBe(true);
  });
});
