/**
 * Anyone who can publish on a prefix's invalidation channel can send anything. A message the L1 cannot parse must
 * never throw inside ioredis' socket callback (that would take the process down); the L1 forgets everything
 * instead, and later invalidations still apply.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { AgentCache, AgentCacheInvalidator } from '../../src/index.js';
import { dropPrefix, REDIS_URL, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend invalidation channel');
const prefix = `agent-cache-test:${randomUUID()}:`;
afterAll(() => dropPrefix(prefix));

it.runIf(available)('garbage on the invalidation channel flushes the L1 and never throws', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  const backend = new RedisBackend({ url: REDIS_URL, prefix, l1: true });
  const other = new RedisBackend({ url: REDIS_URL, prefix });
  const publisher = new Redis(REDIS_URL);
  try {
    let runs = 0;
    const read = AgentCache({ name: 'garbage.read', backend, resource: (i: number) => `r${i}` })(
      async function read(i: number) {
        runs++;
        return i;
      },
    );
    const write = AgentCacheInvalidator({ name: 'garbage.write', backend: other, resource: 'r0' })(
      async function write() {},
    );
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => backend.l1Active);
    for (let i = 0; i < 3; i++) await read(i);
    await read(0); // a hit, now held in the L1
    expect(backend.l1Size).toBe(3);
    for (const message of ['b', 'bx', 'b1:not json', 'b1:null', 'b1:[1]', 'bNaN:["a"]', 'd\0{', '😀']) {
      await publisher.publish(`${prefix}{}inv`, message);
      await until(() => backend.l1Size === 0);
      expect(backend.l1Size, message).toBe(0);
      for (let i = 0; i < 3; i++) await read(i); // served from Redis, held again
    }
    // A real invalidation from another process still reaches the L1.
    const before = runs;
    await write();
    for (let i = 0; i < 200 && runs === before; i++) {
      expect(await read(0)).toBe(0);
      if (runs === before) await new Promise((r) => setTimeout(r, 10));
    }
    expect(runs).toBe(before + 1);
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    publisher.disconnect();
    await backend.close();
    await other.close();
  }
});
