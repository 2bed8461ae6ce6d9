/**
 * `agent-cache stats` and `agent-cache inspect` on a real SQLite file and a real Redis (the shared server, under a
 * random prefix, read-only use), seeded by real tools.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { AgentCache, type Backend, DiskBackend } from '../../src/index.js';
import { dropPrefix, REDIS_URL, redisOrSkip } from '../backends/fixtures/redis.js';
import { cacheFile, tempDir } from '../backends/fixtures/temp.js';
import { expectedStats, LONG_QUERY, seed } from './fixtures.js';
import { cli, cliProcess } from './helpers.js';

const dir = tempDir();
const redisAvailable = await redisOrSkip('agent-cache command on Redis');

interface Setup {
  readonly name: string;
  /** The command-line arguments that name the target. */
  readonly target: string[];
  readonly label: string;
  open(): Backend;
  cleanup(): Promise<void>;
}

const setups: Setup[] = [];
{
  const path = cacheFile(dir);
  setups.push({
    name: 'a SQLite file',
    target: [path],
    label: path,
    open: () => new DiskBackend(path),
    cleanup: async () => {},
  });
}
if (redisAvailable) {
  const prefix = `agent-cache-test:${randomUUID()}:`;
  setups.push({
    name: 'Redis',
    target: [REDIS_URL, '--prefix', prefix],
    label: REDIS_URL,
    open: () => new RedisBackend({ url: REDIS_URL, prefix }),
    cleanup: () => dropPrefix(prefix),
  });
}

for (const setup of setups) {
  describe(`stats and inspect on ${setup.name}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = setup.open();
      await seed(backend); // the backend stays open, as a running agent's would
    });
    afterAll(async () => {
      await backend.close();
      await setup.cleanup();
    });

    it('stats --json prints the figures as one JSON document', async () => {
      const r = await cli(['stats', ...setup.target, '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ target: setup.label, ...expectedStats() });
    });

    it('takes options before the arguments too, and before the command', async () => {
      const expected = { target: setup.label, ...expectedStats() };
      const [first, ...more] = setup.target;
      const before = await cli(['stats', '--json', ...more, first!]);
      expect(JSON.parse(before.stdout)).toEqual(expected);
      const ahead = await cli(['--json', ...more, 'stats', first!]);
      expect(JSON.parse(ahead.stdout)).toEqual(expected);
    });

    it('stats prints a readable summary by default', async () => {
      const r = await cli(['stats', ...setup.target]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(setup.label);
      expect(r.stdout).toMatch(/entries\s+7\s+\(3 with a TTL, 1 expired, not yet swept\)/);
      expect(r.stdout).toMatch(/stale\s+1\s/); // getUser's entry, invalidated by renameUser
      expect(r.stdout).toMatch(/getTicket\s+3\s/);
      expect(r.stdout).toMatch(/tickets\s+4/);
    });

    it('inspect --json lists every entry with its tool, scope, session, resources, size and times', async () => {
      const before = Date.now();
      const r = await cli(['inspect', ...setup.target, '--json']);
      expect(r.code).toBe(0);
      const { entries } = JSON.parse(r.stdout) as { entries: Record<string, unknown>[] };
      expect(entries).toHaveLength(7);
      // Oldest first: `old` was stored with a createdAt a minute back.
      expect(entries[0]).toEqual({
        key: '"""old"g[]',
        tool: 'old',
        scope: 'global',
        resources: ['tickets'],
        bytes: expectedStats().tools.old.bytes,
        createdAt: expect.any(Number),
        expiresAt: expect.any(Number),
      });
      const ticket = entries.find((e) => e.key === '"""getTicket"g["T-2"]')!;
      expect(Object.keys(ticket).sort()).toEqual(
        ['bytes', 'createdAt', 'expiresAt', 'key', 'resources', 'scope', 'tool'].sort(),
      );
      expect(ticket).toMatchObject({
        tool: 'getTicket',
        scope: 'global',
        resources: ['tickets', 'ticket:T-2'],
      });
      expect(ticket.expiresAt).toBe((ticket.createdAt as number) + 3_600_000);
      expect(ticket.createdAt as number).toBeLessThanOrEqual(before);
      const cart = entries.find((e) => e.tool === 'getCart')!;
      expect(cart).toEqual({
        key: '"""getCart"s"agent-A"[]',
        tool: 'getCart',
        scope: 'session',
        sessionId: 'agent-A',
        resources: ['cart'],
        bytes: expectedStats().tools.getCart.bytes,
        createdAt: expect.any(Number),
      });
      expect(entries.some((e) => e.tool === 'getUser')).toBe(false);
      const created = entries.map((e) => e.createdAt as number);
      expect([...created].sort((a, b) => a - b)).toEqual(created);
    });

    it('inspect filters by tool, resource and session, and --limit keeps the newest', async () => {
      const keys = async (...options: string[]) => {
        const r = await cli(['inspect', ...setup.target, '--json', ...options]);
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as { entries: { key: string }[] }).entries.map((e) => e.key);
      };
      expect(await keys('--tool', 'getTicket')).toHaveLength(3);
      // '#' sorts before '[': the hashed key first.
      expect((await keys('--resource=kb')).sort()).toEqual([
        expect.stringMatching(/^"""searchKb"g#[\w-]{43}$/),
        '"""searchKb"g["refund policy"]',
      ]);
      expect(await keys('--session', 'agent-A')).toEqual(['"""getCart"s"agent-A"[]']);
      expect(await keys('--resource', 'tickets', '--tool', 'old')).toEqual(['"""old"g[]']);
      const all = await keys();
      expect(await keys('--limit', '2')).toEqual(all.slice(-2));
      expect(await keys('--tool', 'nobody')).toEqual([]);
    });

    it('inspect prints one readable line per entry, arguments spelled out', async () => {
      const r = await cli(['inspect', ...setup.target, '--resource', 'kb']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(': 2 entries');
      expect(r.stdout).toMatch(/searchKb\s+\("refund policy"\)\s+global\s+kb/);
      expect(r.stdout).toMatch(/searchKb\s+\(hashed\)/);
      expect(r.stdout).not.toContain(LONG_QUERY.slice(0, 30));
    });

    it('the real process prints exactly one JSON document and exits 0', async () => {
      const r = await cliProcess(['stats', ...setup.target, '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ entries: 7 });
      expect(r.stderr).toBe('');
    });
  });
}

describe('stats of a namespace, and an empty cache', () => {
  it('--namespace counts only that namespace', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend(path);
    await seed(backend);
    const { configure } = await import('../../src/index.js');
    configure({ namespace: 'shop' });
    try {
      await AgentCache({ backend, resource: 'orders' })(async function listOrders() {
        return [];
      })();
    } finally {
      configure({ namespace: '' });
    }
    await backend.close();
    const shop = JSON.parse((await cli(['stats', path, '--json', '--namespace', 'shop'])).stdout);
    expect(shop).toMatchObject({
      entries: 1,
      tools: { listOrders: { entries: 1 } },
      resources: { orders: { entries: 1 } },
    });
    const everything = JSON.parse((await cli(['stats', path, '--json'])).stdout);
    expect(everything.entries).toBe(8);
    expect((await cli(['stats', path])).stdout).toMatch(/namespaces: "" 7, "shop" 1/);
  });

  it('an empty cache file is a cache with no entries', async () => {
    const path = cacheFile(dir);
    await new DiskBackend(path).close();
    const r = await cli(['stats', path, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      target: path,
      entries: 0,
      bytes: 0,
      expiring: 0,
      expired: 0,
      tools: {},
      resources: {},
    });
    expect((await cli(['inspect', path])).stdout).toBe(`${path}: no entries\n`);
  });
});
