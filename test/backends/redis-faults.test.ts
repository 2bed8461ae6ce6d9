/**
 * RedisBackend under the faults of issue "reliability under faults", each on a redis-server of our own: a stalled
 * Redis (SIGSTOP, connections open) counts as down within the command timeout and every operation reports failure
 * instead of hanging or pretending; the L1 is served only while heartbeats prove its subscription delivers, so a
 * stall or a silent subscription empties it, and caching resumes afterwards without serving what an invalidation
 * made stale; a killed connection never turns an invalidation into a silent success.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendEntry } from '../../src/backends/contract.js';
import { RedisBackend, type RedisBackendOptions } from '../../src/backends/redis/index.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  configure,
  flushInvalidations,
  pendingInvalidations,
} from '../../src/index.js';
import { FreezableProxy } from './fixtures/freezable-proxy.js';
import { OwnRedis, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend under faults');
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
configure({ logger: { warn: () => {} } }); // failures are expected here; they are counted, not logged

const TIMEOUT = 200;
const HEARTBEAT = 200;

const until = async (condition: () => boolean | Promise<boolean>, what: string, tries = 400) => {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};
const entry = (value: unknown, tags: readonly string[], gens: readonly number[]): BackendEntry => ({
  value,
  expiresAt: 0,
  tags,
  gens,
});

/** How an operation ended and how long it took (ms). */
async function settle(op: () => unknown): Promise<{ ok: boolean; ms: number; error?: unknown }> {
  const started = performance.now();
  try {
    await op();
    return { ok: true, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, ms: performance.now() - started, error };
  }
}

async function ownServer(): Promise<OwnRedis> {
  const server = await OwnRedis.start();
  cleanup.push(() => server.stop());
  return server;
}

function stall(server: OwnRedis): void {
  server.signal('SIGSTOP');
  cleanup.push(() => {
    try {
      server.signal('SIGCONT');
    } catch {
      // stopped for good already
    }
  });
}

function open(url: string, prefix: string, options: Partial<RedisBackendOptions> = {}): RedisBackend {
  const b = new RedisBackend({ url, prefix, timeout: TIMEOUT, breaker: { cooldown: 100 }, ...options });
  cleanup.push(() => b.close());
  return b;
}

/** Whether `key` is served from the L1 (synchronously); a lookup that goes to Redis instead is left to fail quietly. */
const l1Served = (b: RedisBackend, key: string) => {
  const got = b.get(key);
  if (got instanceof Promise) {
    got.catch(() => {});
    return false;
  }
  return got !== undefined;
};

describe.runIf(available)('RedisBackend when Redis stalls (SIGSTOP, connections stay open)', () => {
  it('counts it as down within the command timeout: every operation rejects, none hangs or succeeds silently', async () => {
    const server = await ownServer();
    const b = open(server.url, `agent-cache-test:${randomUUID()}:`, {
      breaker: { threshold: 100, cooldown: 100 },
    });
    const tags = ['r:doc'];
    expect(await b.set('k', entry('v', tags, await b.generations(tags)))).toBe(true);
    stall(server);
    const outcomes = await Promise.all([
      settle(() => b.get('k', { tags: () => tags })),
      settle(() => b.get('k', { stale: true })),
      settle(() => b.generations(['r:other'])),
      settle(() => b.set('k2', entry('w', tags, [1]))),
      settle(() => b.bump(tags)),
      settle(() => b.delete('k')),
      settle(() => b.clearSession('S')),
      settle(() => b.clear()),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      expect(outcome.ms).toBeLessThan(TIMEOUT + 1_000); // the timeout, plus a loaded machine's slack
      expect((outcome.error as { code?: string }).code).toBe('E_BACKEND_UNAVAILABLE');
    }
    server.signal('SIGCONT');
    // Back: the bump that was reported as failed may or may not have run; a new one does, and is seen.
    await until(async () => (await settle(() => b.bump(tags))).ok, 'Redis to answer again');
    expect(await b.get('k', { tags: () => tags })).toBeUndefined();
  });

  it('opens the circuit after repeated timeouts, then fails at once, and closes it when Redis answers again', async () => {
    const server = await ownServer();
    const b = open(server.url, `agent-cache-test:${randomUUID()}:`, {
      breaker: { threshold: 3, cooldown: 300 },
    });
    await b.generations(['r:x']);
    stall(server);
    for (let i = 0; i < 3; i++) expect((await settle(() => b.generations(['r:x']))).ok).toBe(false);
    expect(b.circuitOpen).toBe(true);
    const fast = await settle(() => b.bump(['r:x']));
    expect(fast.ok).toBe(false);
    expect(fast.ms).toBeLessThan(TIMEOUT);
    server.signal('SIGCONT');
    await until(async () => (await settle(() => b.generations(['r:x']))).ok, 'the circuit to close');
    expect(b.circuitOpen).toBe(false);
  });

  it('with an L1: stops serving it within the heartbeat bound, empties it, and serves no old value after SIGCONT', async () => {
    const server = await ownServer();
    const prefix = `agent-cache-test:${randomUUID()}:`;
    const writer = open(server.url, prefix, { l1: { heartbeat: HEARTBEAT } });
    const reader = open(server.url, prefix, { l1: { heartbeat: HEARTBEAT } }); // another process's view
    await until(() => writer.l1Active && reader.l1Active, 'both subscriptions to be proven');
    const tags = ['r:doc'];
    expect(await writer.set('doc', entry('old', tags, await writer.generations(tags)))).toBe(true);
    expect((await reader.get('doc', { tags: () => tags }))?.value).toBe('old');
    expect(l1Served(reader, 'doc')).toBe(true);

    stall(server);
    const stalledAt = performance.now();
    // The writer's invalidation cannot be recorded: it is reported as a failure, within the timeout.
    const bump = await settle(() => writer.bump(tags));
    expect(bump.ok).toBe(false);
    expect(bump.ms).toBeLessThan(TIMEOUT + 1_000);
    expect(l1Served(writer, 'doc')).toBe(false); // its own L1 drops what it could not invalidate
    // Neither L1 is served once no heartbeat came back within the bound; both are emptied.
    await until(() => !writer.l1Active && !reader.l1Active, 'the heartbeats to go missing');
    expect(performance.now() - stalledAt).toBeLessThan(HEARTBEAT * 1.25 + 1_000);
    expect(reader.l1Size).toBe(0);
    expect(writer.l1Size).toBe(0);
    const during = reader.get('doc', { tags: () => tags });
    expect(during).toBeInstanceOf(Promise); // goes to Redis (and fails there: it is stalled)
    await expect(during).rejects.toThrow();

    server.signal('SIGCONT');
    await until(() => writer.l1Active && reader.l1Active, 'heartbeats to come back');
    // The invalidation lands (the core's retry does this; here the writer retries by hand).
    await until(async () => (await settle(() => writer.bump(tags))).ok, 'the invalidation to be recorded');
    for (const b of [reader, writer]) {
      expect(await b.get('doc', { tags: () => tags })).toBeUndefined();
      expect(l1Served(b, 'doc')).toBe(false);
    }
    // Caching resumes in the L1.
    expect(await writer.set('doc', entry('new', tags, await writer.generations(tags)))).toBe(true);
    expect((await reader.get('doc', { tags: () => tags }))?.value).toBe('new');
    expect(l1Served(reader, 'doc')).toBe(true);
  });
});

describe.runIf(available)(
  'RedisBackend with a silent subscription (connection open, nothing arrives)',
  () => {
    it('stops serving the L1 while commands still work: hits come from Redis, invalidations are not missed', async () => {
      const server = await ownServer();
      const proxy = await FreezableProxy.start(server.port);
      cleanup.push(() => proxy.stop());
      const prefix = `agent-cache-test:${randomUUID()}:`;
      const reader = open(proxy.url, prefix, { l1: { heartbeat: HEARTBEAT } });
      await until(() => reader.l1Active && proxy.connections === 2, 'the subscription');
      const writer = open(server.url, prefix);
      const tags = ['r:doc'];
      expect(await writer.set('doc', entry('old', tags, await writer.generations(tags)))).toBe(true);
      expect((await reader.get('doc', { tags: () => tags }))?.value).toBe('old');
      expect(l1Served(reader, 'doc')).toBe(true);

      proxy.freeze(1); // the subscription: it stays open, and every message sent to it is lost
      await writer.bump(tags); // published while nobody can hear it
      await until(() => !reader.l1Active, 'the L1 to stop being served');
      expect(reader.l1Size).toBe(0);
      // The command connection still works: the hit is checked in Redis, where the invalidation is recorded.
      expect(await reader.get('doc', { tags: () => tags })).toBeUndefined();
      expect(await writer.set('doc', entry('new', tags, await writer.generations(tags)))).toBe(true);
      const fromRedis = reader.get('doc', { tags: () => tags });
      expect(fromRedis).toBeInstanceOf(Promise);
      expect((await fromRedis)?.value).toBe('new');
      expect(reader.l1Active).toBe(false);
    });
  },
);

describe.runIf(available)('RedisBackend when connections are killed (CLIENT KILL)', () => {
  it('an invalidation racing a killed connection either fails or is recorded, never neither', async () => {
    const server = await ownServer();
    const raw = new Redis(server.url);
    cleanup.push(() => raw.disconnect());
    const prefix = `agent-cache-test:${randomUUID()}:`;
    const b = open(server.url, prefix);
    const probe = open(server.url, prefix); // reads the generation on its own connection
    const tags = ['r:doc'];
    let failed = 0;
    let recorded = 0;
    for (let round = 0; round < 20; round++) {
      await until(async () => (await settle(() => probe.generations(tags))).ok, 'Redis');
      const before = (await probe.generations(tags))[0]!;
      const kill = raw.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const outcome = await settle(() => b.bump(tags));
      await kill;
      await until(async () => (await settle(() => probe.generations(tags))).ok, 'the probe to reconnect');
      const after = (await probe.generations(tags))[0]!;
      if (outcome.ok) {
        recorded++;
        expect(after).toBeGreaterThan(before); // a success is a recorded invalidation
      } else {
        failed++;
      }
    }
    expect(failed + recorded).toBe(20);
  });

  it('a killed subscription empties the L1 and it is not served until resubscribed and proven by a heartbeat', async () => {
    const server = await ownServer();
    const raw = new Redis(server.url);
    cleanup.push(() => raw.disconnect());
    const prefix = `agent-cache-test:${randomUUID()}:`;
    const b = open(server.url, prefix, { l1: { heartbeat: HEARTBEAT } });
    await until(() => b.l1Active, 'the subscription');
    const tags = ['r:doc'];
    expect(await b.set('doc', entry('v', tags, await b.generations(tags)))).toBe(true);
    expect(l1Served(b, 'doc')).toBe(true);
    await raw.client('KILL', 'TYPE', 'pubsub');
    await until(() => !b.l1Active, 'the L1 to stop');
    expect(b.l1Size).toBe(0);
    await until(() => b.l1Active, 'the subscription to come back');
    expect(l1Served(b, 'doc')).toBe(false); // emptied: it comes from Redis once more
    expect((await b.get('doc', { tags: () => tags }))?.value).toBe('v');
    expect(l1Served(b, 'doc')).toBe(true);
  });
});

describe.runIf(available)(
  'The whole path under a stall: tools, pending invalidations, an L1 in two processes',
  () => {
    it('the writer never serves the old value; the other process never does once the invalidation landed', async () => {
      const server = await ownServer();
      const prefix = `agent-cache-test:${randomUUID()}:`;
      const here = open(server.url, prefix, { l1: { heartbeat: HEARTBEAT } });
      const there = open(server.url, prefix, { l1: { heartbeat: HEARTBEAT } });
      await until(() => here.l1Active && there.l1Active, 'both subscriptions');
      let version = 1;
      const read = (b: RedisBackend) =>
        AgentCache({ name: 'doc', resource: 'doc', backend: b })(async () => version);
      const readHere = read(here);
      const readThere = read(there);
      const write = AgentCacheInvalidator({ name: 'saveDoc', resource: 'doc', backend: here })(
        async (v: number) => {
          version = v;
        },
      );
      expect(await readHere()).toBe(1);
      expect(await readThere()).toBe(1);
      expect(await readThere()).toBe(1); // from its L1

      stall(server);
      await write(2); // its invalidations time out: pending here, retried in the background
      expect(pendingInvalidations().count).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) expect(await readHere()).toBe(2);
      await until(() => !there.l1Active, 'the other process to stop serving its L1');

      server.signal('SIGCONT');
      expect(await flushInvalidations({ timeout: 10_000 })).toBe(true);
      // The invalidation has landed: neither process serves version 1 again, from Redis or from an L1.
      for (let i = 0; i < 20; i++) {
        expect(await readHere()).toBe(2);
        expect(await readThere()).toBe(2);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
  },
);
