/**
 * The inspection API (`inspect()`) of the persistent backends, through real tools: what the `agent-cache` command
 * shows. The same suite runs against a SQLite file and a real Redis.
 */
import { randomUUID } from 'node:crypto';
import { serialize } from 'node:v8';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EntryInfo, type InspectableBackend, summarize } from '../../src/backends/inspection.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  BackendResponseCache,
  configure,
  DiskBackend,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';
import { dropPrefix, REDIS_URL, redisOrSkip } from './fixtures/redis.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

type Inspectable = Backend & InspectableBackend;

const dir = tempDir();
const redisAvailable = await redisOrSkip('inspection on RedisBackend');
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
});

const makers: [string, () => Inspectable][] = [['DiskBackend', () => new DiskBackend(cacheFile(dir))]];
if (redisAvailable) {
  makers.push([
    'RedisBackend',
    () => {
      const prefix = `agent-cache-test:${randomUUID()}:`;
      prefixes.push(prefix);
      return new RedisBackend({ url: REDIS_URL, prefix });
    },
  ]);
}

async function all(backend: InspectableBackend, stale = false): Promise<EntryInfo[]> {
  const out: EntryInfo[] = [];
  for await (const entry of backend.inspect({ stale })) out.push(entry);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

for (const [name, make] of makers) {
  describe(`${name}.inspect()`, () => {
    let backend: Inspectable;
    beforeEach(() => {
      freshCache();
      backend = make();
    });
    afterEach(async () => {
      configure({ namespace: '' });
      await backend.close();
    });

    it('describes a global entry: tool, resources, scope, size, when it was made and when it expires', async () => {
      const result = { id: 'T-1', body: 'x'.repeat(300) };
      const getTicket = AgentCache({
        resource: (id: string) => ['ticket', `ticket:${id}`],
        ttl: '1h',
        backend,
      })(async function getTicket(_id: string) {
        return result;
      });
      const before = Date.now();
      await getTicket('T-1');
      const after = Date.now();
      const [entry, ...rest] = await all(backend);
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        kind: 'tool',
        namespace: '',
        tool: 'getTicket',
        scope: 'global',
        sessionId: undefined,
        resources: ['ticket', 'ticket:T-1'],
        material: '["T-1"]',
        bytes: serialize(result).length,
        stale: false,
      });
      expect(entry!.createdAt).toBeGreaterThanOrEqual(before);
      expect(entry!.createdAt).toBeLessThanOrEqual(after);
      expect(entry!.expiresAt).toBe(entry!.createdAt + 3_600_000);
      expect(entry!.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('describes session-scoped entries with their session, and each resource once', async () => {
      const getCart = AgentCache({ resource: 'cart', scope: 'session', backend })(async function getCart() {
        return ['apple'];
      });
      const session = new AgentCacheSession({ sessionId: 'agent "A"\\' });
      await session.run(() => getCart());
      const [entry] = await all(backend);
      expect(entry).toMatchObject({
        tool: 'getCart',
        scope: 'session',
        sessionId: 'agent "A"\\',
        resources: ['cart'],
        material: '[]',
        expiresAt: 0,
      });
      await session.end();
      expect(await all(backend, true)).toEqual([]);
    });

    it('decodes the namespace and awkward tool and resource names', async () => {
      configure({ namespace: 'shop "eu"' });
      const tool = AgentCache({ resource: ['a"b', 'c\\d', 'é😀'], name: 'look "up"\\', backend })(
        async () => 1,
      );
      await tool();
      const [entry] = await all(backend);
      expect(entry).toMatchObject({
        namespace: 'shop "eu"',
        tool: 'look "up"\\',
        resources: ['a"b', 'c\\d', 'é😀'],
      });
    });

    it('leaves out invalidated entries unless asked for them', async () => {
      const getA = AgentCache({ resource: 'a', backend })(async function getA(n: number) {
        return n;
      });
      const getB = AgentCache({ resource: 'b', backend })(async function getB(n: number) {
        return n;
      });
      const writeA = AgentCacheInvalidator({ resource: 'a', backend })(async function writeA() {});
      await getA(1);
      await getA(2);
      await getB(1);
      await writeA();
      expect((await all(backend)).map((e) => e.tool)).toEqual(['getB']);
      const withStale = await all(backend, true);
      expect(withStale.map((e) => [e.tool, e.stale])).toEqual([
        ['getA', true],
        ['getA', true],
        ['getB', false],
      ]);
    });

    it('lists expired entries not swept yet, and response-cache entries', async () => {
      const now = Date.now();
      await backend.set('"""old"g[]', {
        value: 1,
        expiresAt: now - 1_000,
        tags: [],
        gens: [],
        createdAt: now - 5_000,
      });
      const responses = new BackendResponseCache<string>(backend, { namespace: 'llm-ns' });
      await responses.put('0'.repeat(64), 'the answer');
      const entries = await all(backend);
      expect(
        entries.map((e) => [e.kind, e.tool, e.namespace, e.expiresAt !== 0 && e.expiresAt < now]),
      ).toEqual([
        ['tool', 'old', '', true],
        ['response', '(response)', 'llm-ns', false],
      ]);
      const stats = await summarize(backend.inspect(), now);
      expect(stats).toMatchObject({ entries: 2, expired: 1, expiring: 0 });
    });

    it('yields every entry exactly once across many batches, and adds them up', async () => {
      const getItem = AgentCache({ resource: (n: number) => ['items', `item:${n % 3}`], backend })(
        async function getItem(n: number) {
          return { n };
        },
      );
      const count = 1_234;
      for (let i = 0; i < count; i++) await getItem(i);
      const entries = await all(backend);
      expect(entries).toHaveLength(count);
      expect(new Set(entries.map((e) => e.key)).size).toBe(count);
      const stats = await summarize(backend.inspect());
      expect(stats.entries).toBe(count);
      expect(stats.bytes).toBe(entries.reduce((sum, e) => sum + e.bytes, 0));
      expect(stats.tools.get('getItem')).toEqual({ entries: count, bytes: stats.bytes });
      expect(stats.resources.get('items')).toEqual({ entries: count });
      expect(stats.resources.get('item:0')).toEqual({ entries: 412 });
      expect(stats.resources.get('item:2')).toEqual({ entries: 411 });
    });
  });
}

if (redisAvailable) {
  describe('RedisBackend: prefixes that begin with another prefix', () => {
    const withTools = async (prefixes: string[], fn: (backends: RedisBackend[]) => Promise<void>) => {
      const backends = prefixes.map((prefix) => new RedisBackend({ url: REDIS_URL, prefix }));
      try {
        for (const [i, b] of backends.entries()) {
          await AgentCache({ resource: 'r', name: `tool${i}`, backend: b })(async () => i)();
        }
        await fn(backends);
      } finally {
        for (const b of backends) await b.close();
      }
    };
    const base = () => {
      const prefix = `agent-cache-test:${randomUUID()}:`;
      prefixes.push(prefix);
      return prefix;
    };

    it('inspect() of one never lists the entries of the other', async () => {
      const p = base();
      // `e:` is the entry family of the shorter prefix: its entries `P e:e:…` still are not the shorter one's.
      await withTools([p, `${p}tenant:`, `${p}e:`], async (backends) => {
        for (const [i, b] of backends.entries()) {
          expect((await all(b)).map((e) => e.tool)).toEqual([`tool${i}`]);
        }
      });
    });

    it('clear() of one leaves the other alone', async () => {
      const p = base();
      await withTools([p, `${p}tenant:`, `${p}2`], async (backends) => {
        await backends[0]!.clear();
        expect(await all(backends[0]!)).toEqual([]);
        expect((await all(backends[1]!)).map((e) => e.tool)).toEqual(['tool1']);
        expect((await all(backends[2]!)).map((e) => e.tool)).toEqual(['tool2']);
      });
    });

    it('inUse() tells a prefix in use from one never used', async () => {
      const p = base();
      await withTools([p], async ([b]) => {
        expect(await b!.inUse()).toBe(true);
        await b!.clear();
        expect(await b!.inUse()).toBe(true);
      });
      const unused = new RedisBackend({ url: REDIS_URL, prefix: `${p}never-used:` });
      expect(await unused.inUse()).toBe(false);
      await unused.close();
    });
  });
}
