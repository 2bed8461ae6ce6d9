/**
 * What a backend throws when the store under it fails: a real SQLite error (a trigger another connection installed
 * refuses the write) and a real Redis error reply (OOM from a server with no memory to spare) are BackendFailedErrors
 * carrying the store's own error; a lost Redis is a RedisUnavailableError. Through a tool, none of them fails the call.
 */
import { DatabaseSync } from 'node:sqlite';
import { AgentCache, BackendFailedError, DiskBackend, getMetrics, resetMetrics } from 'agent-cache';
import { RedisBackend, RedisUnavailableError } from 'agent-cache/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnRedis } from './fixtures/redis.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const entry = (value: unknown) => ({ value, expiresAt: 0, tags: [], gens: [] });

async function rejection(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('DiskBackend when SQLite fails', () => {
  it('throws a BackendFailedError with the SQLite error as cause, and a tool call still succeeds', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend(path);
    const other = new DatabaseSync(path);
    other.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'the disk says no'); END;",
    );
    other.close();
    try {
      const error = await rejection(() => backend.set('k', entry(1)));
      expect(error).toBeInstanceOf(BackendFailedError);
      expect((error as BackendFailedError).code).toBe('E_BACKEND_FAILED');
      expect((error as BackendFailedError).backend).toBe(`DiskBackend(${path})`);
      expect((error as Error).message).toMatch(/the disk says no/);
      expect(String(((error as Error).cause as Error).message)).toMatch(/the disk says no/);
      resetMetrics();
      let runs = 0;
      const tool = AgentCache({ name: 'refusedByDisk', backend })(async (id: string) => {
        runs++;
        return id;
      });
      expect(await tool('a')).toBe('a');
      expect(await tool('a')).toBe('a');
      expect(runs).toBe(2);
      expect(getMetrics().backendErrors).toBeGreaterThan(0);
    } finally {
      await backend.close();
    }
  });
});

describe('RedisBackend when Redis fails', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = await OwnRedis.start(['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction']);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('an error reply (OOM) is a BackendFailedError with the ReplyError as cause', async () => {
    const backend = new RedisBackend({ url: server.url, prefix: 'store-errors:' });
    try {
      // Fill the server past its maxmemory through the backend itself, until Redis answers OOM.
      const big = 'x'.repeat(256 * 1024);
      let error: unknown;
      for (let i = 0; i < 64 && error === undefined; i++) {
        error = await rejection(() => backend.set(`k${i}`, entry(big))).catch(() => undefined);
      }
      expect(error).toBeInstanceOf(BackendFailedError);
      expect((error as BackendFailedError).code).toBe('E_BACKEND_FAILED');
      expect((error as Error).message).toMatch(/OOM/);
      expect(((error as Error).cause as Error).name).toBe('ReplyError');
    } finally {
      await backend.close();
    }
  });

  it('a lost server is a RedisUnavailableError', async () => {
    const lost = await OwnRedis.start();
    const backend = new RedisBackend({ url: lost.url, prefix: 'store-errors:', timeout: 2_000 });
    try {
      await backend.set('k', entry(1));
      await lost.stop();
      const error = await rejection(() => backend.get('k'));
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect((error as RedisUnavailableError).code).toBe('E_BACKEND_UNAVAILABLE');
    } finally {
      await backend.close();
      await lost.stop();
    }
  });
});
