/**
 * RedisBackend with a client from ioredis 6 (the peer range is `^5.4.0 || ^6`; the project's own devDependency is
 * 5, and 6 is installed beside it as `ioredis6`): the backend contract on a standalone Redis (l1 off and on) and
 * on a Redis Cluster the test starts, a hit served from the L1 of one process and an invalidation from another
 * reaching it through pub/sub (RESP3 is ioredis 6's default protocol), and the full round of a cached tool.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { AgentCache, AgentCacheInvalidator, type BackendEntry } from 'agent-cache';
import { RedisBackend, type RedisBackendOptions } from 'agent-cache/redis';
import { backendContract } from 'agent-cache/testing';
import { Cluster, Redis } from 'ioredis6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, OwnCluster, REDIS_URL, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend with ioredis 6');
const clients: { disconnect(): void }[] = [];
const prefixes: string[] = [];
/** A client of ioredis 6 where the options' types name ioredis 5's (the backend takes either at run time). */
const asClient = (client: Redis | Cluster) => client as unknown as RedisBackendOptions['client'];
const standalone = () => {
  const client = new Redis(REDIS_URL);
  client.on('error', () => {});
  clients.push(client);
  return asClient(client);
};
const fresh = () => {
  const prefix = `agent-cache-test:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
};
const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};
afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const prefix of prefixes) await dropPrefix(prefix);
});

if (available) {
  it('runs on ioredis 6', async () => {
    const { version } = createRequire(import.meta.url)('ioredis6/package.json') as { version: string };
    expect(version).toMatch(/^6\./);
  });

  for (const l1 of [false, true]) {
    backendContract(
      `RedisBackend on an ioredis 6 client (l1 ${l1 ? 'on' : 'off'})`,
      () => new RedisBackend({ client: standalone(), prefix: fresh(), l1 }),
      { describe, it, serializes: true },
    );
  }

  it('an invalidation in one process reaches the L1 of another (pub/sub on ioredis 6)', async () => {
    const prefix = fresh();
    const reader = new RedisBackend({ client: standalone(), prefix, l1: true });
    const writer = new RedisBackend({ client: standalone(), prefix, l1: true });
    try {
      await until(() => reader.l1Active && writer.l1Active, 'both L1 subscriptions');
      const tags = ['r:doc'];
      const entry: BackendEntry = { value: 'old', expiresAt: 0, tags, gens: await writer.generations(tags) };
      expect(await writer.set('doc', entry)).toBe(true);
      expect((await reader.get('doc'))?.value).toBe('old');
      const held = reader.get('doc');
      expect(held).not.toBeInstanceOf(Promise); // served by the reader's L1
      await writer.bump(tags);
      await until(() => reader.get('doc') instanceof Promise, "the invalidation to reach the reader's L1");
      expect(await reader.get('doc')).toBeUndefined();
    } finally {
      await Promise.all([reader.close(), writer.close()]);
    }
  });

  it('a cached tool and a write tool over it: miss, hit, invalidation, fresh value', async () => {
    const backend = new RedisBackend({ client: standalone(), prefix: fresh() });
    let version = 1;
    let runs = 0;
    const getDoc = AgentCache({ name: 'getDocV6', resource: (id: string) => `doc:${id}`, backend })(
      async (id: string) => {
        runs++;
        return { id, version, at: new Date(0) };
      },
    );
    const editDoc = AgentCacheInvalidator({ resource: (id: string) => `doc:${id}`, backend })(
      async function editDoc(_id: string) {
        version++;
      },
    );
    try {
      expect(await getDoc('a')).toEqual({ id: 'a', version: 1, at: new Date(0) });
      expect(await getDoc('a')).toEqual({ id: 'a', version: 1, at: new Date(0) });
      expect(runs).toBe(1);
      await editDoc('a');
      expect((await getDoc('a')).version).toBe(2);
      expect(runs).toBe(2);
    } finally {
      await backend.close();
    }
  });

  describe('on a Redis Cluster, with an ioredis 6 Cluster client', () => {
    let cluster: OwnCluster;
    const clusterClients: Cluster[] = [];
    beforeAll(async () => {
      cluster = await OwnCluster.start();
    }, 120_000);
    afterAll(async () => {
      for (const c of clusterClients) c.disconnect();
      await cluster?.stop();
    });
    const connect = () => {
      const client = new Cluster(cluster.startupNodes);
      client.on('error', () => {});
      clusterClients.push(client);
      return asClient(client);
    };
    backendContract(
      'RedisBackend on a cluster, ioredis 6 (l1 on)',
      () => new RedisBackend({ client: connect(), prefix: `agent-cache-test:${randomUUID()}:`, l1: true }),
      { describe, it, serializes: true },
    );
  });
} else {
  it.skip('RedisBackend with ioredis 6: skipped, no Redis reachable (see the warning above)', () => {});
}
