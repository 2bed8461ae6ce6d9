/**
 * RedisBackend on a real Redis Cluster that the test starts on loopback (three masters): the backend contract,
 * entries and generations spread over the nodes, every command within one slot, invalidation and L1 coherence
 * across nodes.
 */
import { randomUUID } from 'node:crypto';
import { RedisBackend } from 'agent-cache/redis';
import { backendContract } from 'agent-cache/testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OwnCluster } from './fixtures/redis.js';

let cluster: OwnCluster;
const clients: Cluster[] = [];
beforeAll(async () => {
  cluster = await OwnCluster.start();
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

const connect = () => {
  const client = new Cluster(cluster.startupNodes);
  client.on('error', () => {});
  clients.push(client);
  return client;
};

describe('RedisBackend on a Redis Cluster', () => {
  for (const l1 of [false, true]) {
    backendContract(
      `RedisBackend on a cluster (l1 ${l1 ? 'on' : 'off'})`,
      () => new RedisBackend({ client: connect(), prefix: `agent-cache-test:${randomUUID()}:`, l1 }),
      { describe, it, serializes: true },
    );
  }
});
