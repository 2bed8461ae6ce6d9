import { randomUUID } from 'node:crypto';
import { RedisBackend } from 'agent-cache/redis';
import { backendContract } from 'agent-cache/testing';
import { afterAll, describe, it } from 'vitest';
import { dropPrefix, REDIS_URL, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend contract');

if (available) {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await dropPrefix(prefix);
  });
  for (const l1 of [false, true]) {
    backendContract(
      `RedisBackend (l1 ${l1 ? 'on' : 'off'})`,
      () => {
        const prefix = `agent-cache-test:${randomUUID()}:`;
        prefixes.push(prefix);
        return new RedisBackend({ url: REDIS_URL, prefix, l1 });
      },
      { describe, it, serializes: true },
    );
  }
} else {
  it.skip('RedisBackend contract: skipped, no Redis reachable (see the warning above)', () => {});
}
