/**
 * Invalidations that a real backend could not record: a SQLite file whose write lock another process holds, and a
 * Redis (our own redis-server) that is stalled with SIGSTOP or killed. The writer's process must never serve or
 * store the pre-write value while the invalidation is pending, and must record it as soon as the backend answers;
 * other processes see it when it lands.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  configure,
  DiskBackend,
  flushInvalidations,
  pendingInvalidations,
} from '../../src/index.js';
import { holdWriteLock, type LockHolder } from './fixtures/children.js';
import { OwnRedis, redisOrSkip } from './fixtures/redis.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const warnings: string[] = [];
configure({ logger: { warn: (message: string) => void warnings.push(message) } });

/** A cached read and an invalidating write of one item, over a source of truth in memory. */
function tools(backend: DiskBackend | RedisBackend, name: string) {
  const truth = { version: 1, reads: 0 };
  const read = AgentCache({ name: `read${name}`, resource: 'item', backend })(async () => {
    truth.reads++;
    return truth.version;
  });
  const write = AgentCacheInvalidator({ name: `write${name}`, resource: 'item', backend })(
    async (version: number) => {
      truth.version = version;
    },
  );
  return { truth, read, write };
}

async function holdLock(path: string): Promise<LockHolder> {
  const holder = await holdWriteLock(path);
  cleanup.push(() => holder.kill());
  return holder;
}

describe('DiskBackend whose write lock another process holds', () => {
  it('keeps the invalidation pending: never serves the old value here, records it once the lock is free', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend({ path, busyTimeout: 150 });
    const elsewhere = new DiskBackend(path); // another process's view of the same file (its own connection)
    cleanup.push(
      () => backend.close(),
      () => elsewhere.close(),
    );
    const { truth, read, write } = tools(backend, 'Disk');
    const other = tools(elsewhere, 'Disk'); // the same tool, as another process has it
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    expect(await other.read()).toBe(1); // a hit on the entry stored by the first process
    expect(truth.reads + other.truth.reads).toBe(1);

    const holder = await holdLock(path);
    await write(2); // both invalidations (before and after the mutation) are refused: the file is busy
    expect(truth.version).toBe(2);
    expect(pendingInvalidations().count).toBe(1);
    other.truth.version = 2;

    // The writer's process: the file still holds version 1 as fresh, but it is not served, nor replaced.
    expect(await read()).toBe(2);
    expect(await read()).toBe(2);
    // Another process cannot know yet: it sees the invalidation when it lands (the documented window).
    expect(await other.read()).toBe(1);

    await holder.release();
    expect(await flushInvalidations({ timeout: 5_000 })).toBe(true);
    expect(await read()).toBe(2);
    expect(await other.read()).toBe(2);
    const reads = truth.reads;
    expect(await read()).toBe(2);
    expect(truth.reads).toBe(reads); // caching resumed
  });
});

const redisAvailable = await redisOrSkip('pending invalidations on Redis');

describe.runIf(redisAvailable).each([
  ['strict (no L1)', false],
  ['with an L1', true],
])('RedisBackend %s, on our own redis-server', (_name, l1) => {
  async function setup() {
    const server = await OwnRedis.start();
    cleanup.push(() => server.stop());
    const prefix = `agent-cache-pending:${randomUUID()}:`;
    const backend = new RedisBackend({
      url: server.url,
      prefix,
      l1,
      timeout: 150,
      breaker: { cooldown: 100 },
    });
    const elsewhere = new RedisBackend({ url: server.url, prefix, timeout: 150, breaker: { cooldown: 100 } });
    cleanup.push(
      () => backend.close(),
      () => elsewhere.close(),
    );
    if (l1) {
      for (let i = 0; i < 200 && !backend.l1Active; i++) await new Promise((r) => setTimeout(r, 10));
      expect(backend.l1Active).toBe(true);
    }
    return { server, backend, elsewhere };
  }

  it('stalled with SIGSTOP: the writer serves no old value during or after the stall; the invalidation lands on SIGCONT', async () => {
    const { server, backend, elsewhere } = await setup();
    const { truth, read, write } = tools(backend, `Stall${l1}`);
    const other = tools(elsewhere, `Stall${l1}`);
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    expect(truth.reads).toBe(1);

    server.signal('SIGSTOP');
    cleanup.push(() => {
      try {
        server.signal('SIGCONT');
      } catch {
        // already stopped for good
      }
    });
    await write(2);
    expect(truth.version).toBe(2);
    expect(pendingInvalidations().count).toBe(1);
    // During the stall: with an L1 its entry is still there (the subscription looks open), yet never served.
    for (let i = 0; i < 3; i++) expect(await read()).toBe(2);

    server.signal('SIGCONT');
    expect(await flushInvalidations({ timeout: 5_000 })).toBe(true);
    // After the stall: the old value is stale in Redis, in the L1, and for every other process.
    other.truth.version = 2;
    expect(await read()).toBe(2);
    expect(await other.read()).toBe(2);
    const reads = truth.reads;
    for (let i = 0; i < 5 && truth.reads === reads; i++) await read();
    expect(truth.reads - reads).toBeLessThanOrEqual(1); // caching resumed
    expect(await read()).toBe(2);
  });

  it('killed and restarted: calls never fail, the pending invalidation is recorded once it is back', async () => {
    const { server, backend } = await setup();
    const { truth, read, write } = tools(backend, `Kill${l1}`);
    expect(await read()).toBe(1);
    await server.stop();
    await write(2);
    expect(pendingInvalidations().count).toBe(1);
    expect(await read()).toBe(2);
    await server.start();
    expect(await flushInvalidations({ timeout: 10_000 })).toBe(true);
    expect(await read()).toBe(2);
    const reads = truth.reads;
    for (let i = 0; i < 20 && truth.reads !== reads + 1; i++) {
      await read();
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await read()).toBe(2);
  });
});
