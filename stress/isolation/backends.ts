/**
 * The backends the isolation checks run on, and what each one holds, read from outside the cache: entries by
 * session (inspect() for the persistent ones) and, for Redis, the raw keys of a prefix.
 */
import { Redis } from 'ioredis';
import { type Backend, DiskBackend, MemoryBackend } from '../../src/index.js';
import { REDIS_URL } from '../../test/backends/fixtures/redis.js';

export type BackendKind = 'memory' | 'disk' | 'redis strict' | 'redis l1';

export async function openBackend(kind: BackendKind, place: string): Promise<Backend> {
  switch (kind) {
    case 'memory':
      return new MemoryBackend({ maxEntries: 100_000 });
    case 'disk':
      return new DiskBackend(place);
    case 'redis strict':
    case 'redis l1': {
      const { RedisBackend } = await import('../../src/backends/redis/index.js');
      return new RedisBackend({ url: REDIS_URL, prefix: place, l1: kind === 'redis l1' });
    }
  }
}

/** Entries held per session id (undefined: global), stale ones included; undefined for a MemoryBackend. */
export async function entriesBySession(
  backend: Backend,
): Promise<Map<string | undefined, number> | undefined> {
  const inspectable = backend as Partial<DiskBackend>;
  if (typeof inspectable.inspect !== 'function') return undefined;
  const counts = new Map<string | undefined, number>();
  for await (const entry of inspectable.inspect({ stale: true })) {
    counts.set(entry.sessionId, (counts.get(entry.sessionId) ?? 0) + 1);
  }
  return counts;
}

/** Every key under `root` with a fingerprint of its value (DUMP), for comparing before and after. */
export async function redisKeys(root: string): Promise<Map<string, string>> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${globEscape(root)}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const out = new Map<string, string>();
    for (const key of keys.sort()) {
      const dump = await client.dumpBuffer(key);
      if (dump !== null) out.set(key, dump.toString('base64'));
    }
    return out;
  } finally {
    client.disconnect();
  }
}

export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\^]/g, '\\$&');
}
