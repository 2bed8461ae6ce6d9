/**
 * The Redis key layout: prefixes that begin with one another never touch each other's keys (clear(), session end,
 * SCAN patterns, pub/sub channels), bad prefixes are refused, and a session of 100 000 entries ends in short
 * batches that never hold up other clients of the Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendEntry } from '../../src/backends/contract.js';
import { encodeEntry } from '../../src/backends/redis/entry.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { KeyLayout, SHARDS } from '../../src/backends/redis/layout.js';
import { keySlot } from '../../src/backends/redis/slots.js';
import { encodeValue } from '../../src/backends/serializer.js';
import { dropPrefix, OwnRedis, REDIS_URL, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend key layout');
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const entry = (value: unknown, tags: readonly string[], gens: readonly number[], sessionId?: string) =>
  ({ value, expiresAt: 0, tags, gens, sessionId }) as BackendEntry;

const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};

async function keysOf(raw: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

describe('RedisBackend prefixes', () => {
  it('refuses a prefix with "{" (the layout uses it to keep prefixes apart), naming the option', () => {
    expect(() => new RedisBackend({ prefix: 'app:{tenant}:', url: REDIS_URL })).toThrow(TypeError);
    expect(() => new RedisBackend({ prefix: 'app:{tenant}:', url: REDIS_URL })).toThrow(/prefix.*"\{"/);
    expect(() => new RedisBackend({ prefix: 42 as unknown as string, url: REDIS_URL })).toThrow(/prefix/);
  });

  it('starts every key with the prefix and "{", so one prefix’s pattern never matches another’s keys', () => {
    const outer = new KeyLayout('app:');
    const inner = new KeyLayout('app:tenant2:');
    const innerKeys = [
      inner.entryKey('k'),
      inner.sessionKey('S'),
      inner.tagKey('r"cart"').key,
      inner.clockKey(0),
      inner.floorKey(SHARDS - 1),
    ];
    const matches = (pattern: string, key: string) =>
      new RegExp(
        `^${pattern
          .replace(/\\(.)/g, '$1')
          .replace(/[.+^$()|[\]]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      ).test(key);
    for (const key of innerKeys) {
      expect(key.startsWith('app:tenant2:{')).toBe(true);
      expect(matches(outer.pattern, key)).toBe(false);
      expect(outer.kindOf(key)).toBe('foreign');
    }
    expect(outer.channel).not.toBe(inner.channel);
    expect(inner.channel.startsWith(outer.channel)).toBe(false);
  });

  it('places entries by their whole key and tags on 256 shards spread evenly over the slot space', () => {
    const layout = new KeyLayout('agent-cache:');
    const slots = new Set(Array.from({ length: 1_000 }, (_, i) => keySlot(layout.entryKey(`k${i}`))));
    expect(slots.size).toBeGreaterThan(950); // 1 000 keys over 16 384 slots: nearly all distinct
    for (let shard = 0; shard < SHARDS; shard++) {
      const slot = keySlot(layout.floorKey(shard));
      expect(Math.floor(slot / 64)).toBe(shard);
      expect(keySlot(layout.clockKey(shard))).toBe(slot);
    }
    const shards = new Set(Array.from({ length: 2_000 }, (_, i) => layout.tagKey(`r"item:${i}"`).shard));
    expect(shards.size).toBe(SHARDS);
    for (let i = 0; i < 50; i++) {
      const tag = layout.tagKey(`r"cart:${i}"`);
      expect(keySlot(tag.key)).toBe(keySlot(layout.floorKey(tag.shard)));
    }
  });
});

describe.runIf(available)('RedisBackend with nested prefixes on one Redis', () => {
  const pair = (l1: boolean) => {
    const base = `agent-cache-test:${randomUUID()}:`;
    const outer = new RedisBackend({ url: REDIS_URL, prefix: `${base}app:`, l1 });
    const inner = new RedisBackend({ url: REDIS_URL, prefix: `${base}app:tenant2:`, l1 });
    cleanup.push(async () => {
      await Promise.all([outer.close(), inner.close()]);
      await dropPrefix(base);
    });
    return { base, outer, inner };
  };

  /** Entries, a bumped tag, a session with an entry and a session tag, in `b`. */
  const fill = async (b: RedisBackend) => {
    const tags = ['t:tool', 'r:cart'];
    await b.bump(['r:bumped']);
    await b.bump(['s:r'], 'S');
    expect(await b.set('g', entry('global', tags, await b.generations(tags)))).toBe(true);
    expect(await b.set('s', entry('session', ['s:r'], await b.generations(['s:r']), 'S'))).toBe(true);
    return { before: await b.generations([...tags, 'r:bumped', 's:r']) };
  };

  it('clear() and session end of `app:` leave every key of `app:tenant2:` alone, and the reverse', async () => {
    const { base, outer, inner } = pair(false);
    const raw = new Redis(REDIS_URL);
    cleanup.push(() => raw.disconnect());
    await fill(outer);
    const { before } = await fill(inner);
    const innerKeys = await keysOf(raw, `${base}app:tenant2:*`);
    expect(innerKeys.length).toBeGreaterThan(SHARDS); // entries, generations, and every shard's clock and floor

    await outer.clearSession('S');
    await outer.clear();
    expect(await keysOf(raw, `${base}app:tenant2:*`)).toEqual(innerKeys);
    expect((await inner.get('g'))?.value).toBe('global');
    expect((await inner.get('s'))?.value).toBe('session');
    // Its generations did not move: a snapshot taken before the other prefix's clear() still stores.
    expect(await inner.generations(['t:tool', 'r:cart', 'r:bumped', 's:r'])).toEqual(before);
    expect(await outer.get('g')).toBeUndefined();

    // And the other way round.
    await fill(outer);
    const outerKeys = await keysOf(raw, `${base}app:{*`);
    await inner.clearSession('S');
    await inner.clear();
    expect(await keysOf(raw, `${base}app:{*`)).toEqual(outerKeys);
    expect((await outer.get('s'))?.value).toBe('session');
    expect(await inner.get('s')).toBeUndefined();
  });

  it('keeps invalidation messages apart: `app:` clearing or deleting never empties the L1 of `app:tenant2:`', async () => {
    const { outer, inner } = pair(true);
    await until(() => outer.l1Active && inner.l1Active, 'both subscriptions');
    await fill(inner);
    await fill(outer);
    expect((await inner.get('g'))?.value).toBe('global'); // brought into inner's L1
    await until(() => inner.l1Size === 1 || !(inner.get('g') instanceof Promise), 'the entry in the L1');
    const size = inner.l1Size;
    expect(size).toBeGreaterThan(0);
    await outer.delete('g');
    await outer.clearSession('S');
    await outer.clear();
    // A message of ours would have arrived by now (messages come in publish order): a bump of inner's own proves it.
    await inner.bump(['r:unrelated']);
    const probe = new RedisBackend({ url: REDIS_URL, prefix: inner.prefix });
    cleanup.push(() => probe.close());
    await probe.bump(['r:other-process']);
    await new Promise((r) => setTimeout(r, 100));
    expect(inner.l1Size).toBe(size);
    const hit = inner.get('g');
    expect(hit).not.toBeInstanceOf(Promise);
    expect((hit as BackendEntry).value).toBe('global');
  });
});

describe.runIf(available)('RedisBackend session end at 100 000 entries', () => {
  it('deletes in short batches: no script, no command over 500 keys; other sessions and global entries stay', async () => {
    // Our own server, so that MONITOR sees only this test's commands. (How long a command takes is the machine's
    // business; what the backend controls is how much one command does.)
    const server = await OwnRedis.start();
    cleanup.push(() => server.stop());
    const raw = new Redis(server.url);
    cleanup.push(() => raw.disconnect());
    const prefix = 'agent-cache-test:';
    const b = new RedisBackend({ url: server.url, prefix, timeout: 5_000 });
    cleanup.push(() => b.close());
    const layout = new KeyLayout(prefix);

    // A few entries through the backend (real generations), the bulk written the way set() lays them out.
    const tags = ['t"notes"', 's"big""notes"'];
    const gens = await b.generations(tags);
    for (let i = 0; i < 10; i++) expect(await b.set(`real${i}`, entry(i, tags, gens, 'big'))).toBe(true);
    await b.bump(['s"big""other"'], 'big');
    expect(await b.set('kept', entry('other session', tags, gens, 'small'))).toBe(true);
    expect(await b.set('global', entry('global', tags, gens))).toBe(true);
    const blob = encodeEntry(
      { expiresAt: 0, createdAt: 0, durationMs: 0, gens, sessionId: 'big', tags },
      encodeValue({ note: 'x'.repeat(40) }),
    );
    const index = layout.sessionKey('big');
    for (let start = 0; start < 100_000; start += 5_000) {
      const pipeline = raw.pipeline();
      const members: string[] = [];
      for (let i = start; i < start + 5_000; i++) {
        const key = layout.entryKey(`bulk${i}`);
        pipeline.set(key, blob);
        members.push(key);
      }
      pipeline.sadd(index, ...members);
      await pipeline.exec();
    }
    expect(await raw.scard(index)).toBe(100_011); // 100 010 entries and one session tag
    expect((await b.get('bulk99999', { tags: () => tags }))?.value).toEqual({ note: 'x'.repeat(40) });

    const monitor = await raw.monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => void commands.push(args));
    await b.clearSession('big');
    await b.bump(['r:after']); // its script marks the end of the session's commands in the stream
    await until(() => commands.some((args) => /^eval/i.test(args[0]!)), 'the monitor to catch up');
    monitor.disconnect();

    const ending = commands.slice(
      0,
      commands.findIndex((args) => /^eval/i.test(args[0]!)),
    );
    expect(ending.length).toBeGreaterThan(3 * (100_011 / 500)); // SRANDMEMBER, UNLINK, SREM per batch
    expect(ending.filter((args) => args[0]!.toLowerCase() === 'srandmember').length).toBeGreaterThanOrEqual(
      200,
    );
    expect(Math.max(...ending.map((args) => args.length))).toBeLessThanOrEqual(502);
    expect(await raw.exists(index)).toBe(0);
    expect(await keysOf(raw, `${prefix}{}e:bulk*`)).toEqual([]);
    expect(await b.get('real0')).toBeUndefined();
    expect((await b.get('kept'))?.value).toBe('other session');
    expect((await b.get('global'))?.value).toBe('global');
    // The session's own tag generation outlives the end for a grace period (then Redis drops it).
    const ttl = await raw.pttl(layout.tagKey('s"big""other"').key);
    expect(ttl).toBeGreaterThan(0);
  }, 120_000);
});
