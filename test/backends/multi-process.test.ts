/**
 * Several processes sharing one DiskBackend file, and separately one Redis: shared hits, invalidations seen by the
 * other processes' next read, and the freshness property across processes. Everything goes through the public API
 * (AgentCache, AgentCacheInvalidator) in child processes.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from './fixtures/children.js';
import { dropPrefix, REDIS_URL, redisOrSkip } from './fixtures/redis.js';
import {
  freshnessProperty,
  overlappingReadIsNotStored,
  seedTruth,
  sharedHitsAndInvalidation,
} from './fixtures/scenarios.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const items = ['a', 'b', 'c', 'g', 'x'];
seedTruth(dir, items);
const redisAvailable = await redisOrSkip('RedisBackend multi-process');

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.close()));
  workers = [];
});

async function start(n: number, args: readonly string[]): Promise<Worker[]> {
  workers = Array.from({ length: n }, () => new Worker(args));
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

describe('DiskBackend shared by several processes', () => {
  it('shares hits, and an invalidation in one is seen by the next read of another', async () => {
    seedTruth(dir, items);
    await sharedHitsAndInvalidation(await start(2, ['disk', cacheFile(dir), dir]));
  });

  it('does not store a read that overlapped a write made by another process', async () => {
    seedTruth(dir, items);
    await overlappingReadIsNotStored(await start(2, ['disk', cacheFile(dir), dir]), dir);
  });

  it('never returns data older than a completed write (freshness property, 3 processes)', async () => {
    seedTruth(dir, items);
    const hits = await freshnessProperty(await start(3, ['disk', cacheFile(dir), dir]), ['a', 'b', 'c']);
    expect(hits).toBeGreaterThan(0);
  });
});

describe.runIf(redisAvailable)('RedisBackend shared by several processes', () => {
  const prefixes: string[] = [];
  const prefix = () => {
    const p = `agent-cache-test:${randomUUID()}:`;
    prefixes.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of prefixes.splice(0)) await dropPrefix(p);
  });

  it('shares hits, and an invalidation in one is seen by the next read of another (l1 off)', async () => {
    seedTruth(dir, items);
    await sharedHitsAndInvalidation(await start(2, ['redis', REDIS_URL, dir, prefix(), 'strict']));
  });

  it('does not store a read that overlapped a write made by another process (l1 off and on)', async () => {
    for (const mode of ['strict', 'l1']) {
      seedTruth(dir, items);
      await overlappingReadIsNotStored(await start(2, ['redis', REDIS_URL, dir, prefix(), mode]), dir);
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('never returns data older than a completed write (freshness property, l1 off, 3 processes)', async () => {
    seedTruth(dir, items);
    const hits = await freshnessProperty(await start(3, ['redis', REDIS_URL, dir, prefix(), 'strict']), [
      'a',
      'b',
      'c',
    ]);
    expect(hits).toBeGreaterThan(0);
  });

  it('with l1 on, an invalidation in one process reaches the other through pub/sub', async () => {
    seedTruth(dir, items);
    const [a, b] = await start(2, ['redis', REDIS_URL, dir, prefix(), 'l1']);
    expect(await a!.read('x')).toBe(0);
    // b reads until the value comes from its L1 (its subscription is live once a read is served locally).
    expect(await b!.read('x')).toBe(0);
    await a!.write('x', 1);
    let seen = 0;
    for (let i = 0; i < 200 && seen !== 1; i++) {
      seen = await b!.read('x');
      if (seen !== 1) await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toBe(1);
  });
});
