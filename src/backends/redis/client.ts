import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { MissingPeerDependencyError } from '../../errors.js';

/**
 * Creates an ioredis client for a URL. ioredis is an optional peer dependency, loaded only here (synchronously, so
 * the backend's constructor stays synchronous) and only when no client was given: `agent-cache` itself never
 * needs it, and a user who passes their own client needs nothing from us.
 *
 * The options make a dead Redis fail fast: a bounded connect time, one retry per command, and a reconnect that
 * backs off up to 2 s and never gives up (the backend comes back on its own). Commands are bounded by the backend
 * itself (its `timeout`), which also holds for a client you pass in.
 */
export function createClient(url: string, timeout: number): Redis {
  const IORedis = loadIoredis('RedisBackend');
  const options: RedisOptions = {
    connectTimeout: Math.max(1_000, timeout * 2),
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  return new IORedis(url, options);
}

/**
 * A client for one short job (the `agent-cache` command): a single connection attempt, bounded, and no reconnect.
 * Rejects with the reason the connection failed (refused, timed out, wrong password), not just "closed".
 */
export async function connectOnce(url: string, connectTimeout = 5_000): Promise<Redis> {
  const IORedis = loadIoredis('a redis:// target');
  const client = new IORedis(url, {
    lazyConnect: true,
    connectTimeout,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw cause ?? error;
  }
  return client;
}

type RedisConstructor = new (url: string, options: RedisOptions) => Redis;

function loadIoredis(neededBy: string): RedisConstructor {
  let mod: { Redis?: RedisConstructor; default?: RedisConstructor };
  try {
    mod = createRequire(import.meta.url)('ioredis') as typeof mod;
  } catch (error) {
    throw new MissingPeerDependencyError('ioredis', neededBy, { cause: error });
  }
  const IORedis = mod.Redis ?? mod.default;
  if (IORedis === undefined) throw new MissingPeerDependencyError('ioredis (with a Redis export)', neededBy);
  return IORedis;
}
