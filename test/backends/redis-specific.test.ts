/**
 * RedisBackend under failure: a Redis that is unreachable, one that accepts connections but never answers, one that
 * dies and comes back (our own redis-server on a free loopback port), and a subscription that drops messages.
 * In every case tool calls must complete with the right result (uncached) and caching must resume.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendEntry } from '../../src/backends/contract.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/layout.js';
import { scripts } from '../../src/backends/redis/scripts.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  configure,
  getMetrics,
  resetMetrics,
} from '../../src/index.js';
import { dropPrefix, freePort, OwnRedis, REDIS_URL, redisOrSkip } from './fixtures/redis.js';

const available = await redisOrSkip('RedisBackend failure tests');
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
configure({ logger: { warn: () => {} } }); // backend failures are expected here; they are counted, not logged

const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};
const backend = (options: ConstructorParameters<typeof RedisBackend>[0]) => {
  const b = new RedisBackend({ prefix: `agent-cache-test:${randomUUID()}:`, ...options });
  cleanup.push(async () => {
    await b.close();
    if (available && (options?.url ?? REDIS_URL) === REDIS_URL) await dropPrefix(b.prefix);
  });
  return b;
};
const entry = (value: unknown, tags: readonly string[], gens: readonly number[]): BackendEntry => ({
  value,
  expiresAt: 0,
  tags,
  gens,
});

describe('RedisBackend when Redis cannot be reached', () => {
  it('runs calls uncached (never failing) and opens the circuit when nothing listens on the port', async () => {
    resetMetrics();
    const b = backend({ url: `redis://127.0.0.1:${await freePort()}`, timeout: 200 });
    let runs = 0;
    const getCart = AgentCache({ name: 'cartUnreachable', resource: 'cart', backend: b })(
      async (id: string) => {
        runs++;
        return `cart ${id}`;
      },
    );
    const saveCart = AgentCacheInvalidator({ name: 'saveUnreachable', resource: 'cart', backend: b })(
      async () => 'saved',
    );
    for (let i = 0; i < 5; i++) expect(await getCart('u1')).toBe('cart u1');
    expect(await saveCart()).toBe('saved');
    expect(runs).toBe(5);
    expect(getMetrics().backendErrors).toBeGreaterThanOrEqual(5);
    expect(b.circuitOpen).toBe(true);
  });

  it('bounds every command when the server accepts connections but never answers (also with a user client)', async () => {
    const sockets: Socket[] = [];
    const blackhole: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => blackhole.close(r));
    });
    const port = (blackhole.address() as { port: number }).port;
    const userClient = new Redis(`redis://127.0.0.1:${port}`); // default options: no command timeout of its own
    userClient.on('error', () => {});
    cleanup.push(() => userClient.disconnect());
    const backends = [
      backend({ url: `redis://127.0.0.1:${port}`, timeout: 100 }),
      backend({ client: userClient, timeout: 100 }),
    ];
    for (const [n, b] of backends.entries()) {
      resetMetrics();
      let runs = 0;
      const tool = AgentCache({ name: `blackhole${n}`, backend: b })(async () => ++runs);
      for (let i = 1; i <= 4; i++) expect(await tool()).toBe(i);
      expect(getMetrics().backendErrors).toBeGreaterThanOrEqual(4);
      expect(b.circuitOpen).toBe(true);
    }
  });
});

describe.runIf(available)('RedisBackend when Redis goes away and comes back', () => {
  it('runs calls uncached while Redis is down, then caches again after it restarts', async () => {
    const server = await OwnRedis.start();
    cleanup.push(() => server.stop());
    const b = backend({ url: server.url, timeout: 200, breaker: { cooldown: 100 } });
    let runs = 0;
    const getStock = AgentCache({ name: 'stockRestart', resource: 'stock', backend: b })(async () => ++runs);
    expect(await getStock()).toBe(1);
    expect(await getStock()).toBe(1); // hit
    await server.stop();
    resetMetrics();
    expect(await getStock()).toBe(2);
    expect(await getStock()).toBe(3);
    expect(getMetrics().backendErrors).toBeGreaterThan(0);
    await server.start();
    // Reconnection is in the client's hands; once back, a miss stores and the next call hits again.
    await until(async () => {
      const before = runs;
      await getStock();
      return (await getStock()) === runs && runs === before + 1;
    }, 'caching to resume');
  });

  it('flushes the L1 when its subscription was interrupted (an invalidation may have been missed)', async () => {
    const server = await OwnRedis.start();
    cleanup.push(() => server.stop());
    const raw = new Redis(server.url);
    cleanup.push(() => raw.disconnect());
    const b = backend({ url: server.url, l1: true });
    await until(() => b.l1Active, 'the L1 subscription');
    const tags = ['r:doc'];
    expect(await b.set('doc', entry('old', tags, await b.generations(tags)))).toBe(true);
    const first = b.get('doc');
    expect(first).not.toBeInstanceOf(Promise); // served by the L1
    expect((first as BackendEntry).value).toBe('old');
    const subscriberIds = async () =>
      String(await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter(Boolean)
        .map((line) => /id=(\d+)/.exec(line)![1]);
    const before = await subscriberIds();
    expect(before).toHaveLength(1);
    // Kill the subscription and invalidate in the same transaction: the message is lost for this process.
    const layout = new KeyLayout(b.prefix);
    const { key, shard } = layout.tagKey('r:doc');
    await raw
      .multi()
      .client('KILL', 'TYPE', 'pubsub')
      .eval(
        scripts.bump.source,
        3,
        layout.clockKey(shard),
        layout.floorKey(shard),
        key,
        layout.channel,
        JSON.stringify(tags),
        '0',
      )
      .exec();
    await until(async () => {
      const ids = await subscriberIds();
      return ids.length === 1 && ids[0] !== before[0] && b.l1Active;
    }, 'the subscription to come back');
    expect(await b.get('doc')).toBeUndefined();
  });
});

describe.runIf(available)('RedisBackend sessions and packaging', () => {
  it('keeps a session’s entries under its id, so the session can move to another process', async () => {
    const prefix = `agent-cache-test:${randomUUID()}:`;
    const here = backend({ url: REDIS_URL, prefix });
    const there = backend({ url: REDIS_URL, prefix }); // another connection, as another process would have
    let runs = 0;
    const fn = async (id: string) => {
      runs++;
      return `note ${id}`;
    };
    const noteHere = AgentCache({ name: 'note', scope: 'session', backend: here })(fn);
    const noteThere = AgentCache({ name: 'note', scope: 'session', backend: there })(fn);
    await AgentCacheSession.run({ sessionId: 'agent-7' }, () => noteHere('n1'));
    const moved = new AgentCacheSession({ sessionId: 'agent-7' });
    expect(await moved.run(() => noteThere('n1'))).toBe('note n1');
    expect(runs).toBe(2); // the first session ended, which cleared its entries
    await moved.run(() => noteThere('n1'));
    const other = new AgentCacheSession({ sessionId: 'agent-7' });
    expect(await other.run(() => noteHere('n1'))).toBe('note n1');
    expect(runs).toBe(2); // stored by `there`, served to `here` under the same session id
    await other.end();
  });

  it('checks freshness correctly when another process re-stored a key with other tags', async () => {
    const prefix = `agent-cache-test:${randomUUID()}:`;
    const x = backend({ url: REDIS_URL, prefix });
    const y = backend({ url: REDIS_URL, prefix });
    expect(await x.set('k', entry('a', ['r:a'], await x.generations(['r:a'])))).toBe(true);
    expect((await x.get('k'))?.value).toBe('a'); // x now reads k with one MGET of it and r:a
    expect(await y.set('k', entry('b', ['r:b'], await y.generations(['r:b'])))).toBe(true);
    expect((await x.get('k'))?.value).toBe('b');
    await y.bump(['r:b']);
    expect(await x.get('k')).toBeUndefined();
    await x.bump(['r:a']);
    expect(await y.set('k', entry('c', ['r:b'], await y.generations(['r:b'])))).toBe(true);
    expect((await x.get('k'))?.value).toBe('c');
  });

  it('treats an entry that does not decode as a miss and drops it', async () => {
    const b = backend({ url: REDIS_URL });
    const raw = new Redis(REDIS_URL);
    cleanup.push(() => raw.disconnect());
    const entryKey = new KeyLayout(b.prefix).entryKey('k');
    await raw.set(entryKey, 'not an entry');
    expect(await b.get('k')).toBeUndefined();
    await until(async () => (await raw.exists(entryKey)) === 0, 'the damaged entry to be dropped');
    expect(await b.set('k', entry('fine', [], []))).toBe(true);
    expect((await b.get('k'))?.value).toBe('fine');
  });

  it('only the agent-cache/redis entry point loads ioredis, and only for a URL', () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (
          path.endsWith('.ts') &&
          /from 'ioredis'|require\('ioredis'\)|import\('ioredis'\)/.test(readFileSync(path, 'utf8'))
        ) {
          const text = readFileSync(path, 'utf8');
          const runtime = text
            .split('\n')
            .some((l) => /^import (?!type )[^;]*'ioredis'/.test(l) || /import\('ioredis'\)/.test(l));
          if (runtime || !path.includes('/backends/redis/')) offenders.push(path);
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
