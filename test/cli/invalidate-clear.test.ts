/**
 * `agent-cache invalidate` and `agent-cache clear`, run as their own processes against a cache that a running
 * agent (this test process) keeps using: a SQLite file, and a redis-server of our own (these commands write).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { AgentCache, type Backend, configure, DiskBackend } from '../../src/index.js';
import { OwnRedis } from '../backends/fixtures/redis.js';
import { cacheFile, tempDir } from '../backends/fixtures/temp.js';
import { cli, cliProcess } from './helpers.js';

const dir = tempDir();

/** A read tool of the running agent that counts its executions. */
function agentTool(backend: Backend) {
  const runs = new Map<string, number>();
  const getTicket = AgentCache({ backend, resource: (id: string) => ['tickets', `ticket:${id}`] })(
    async function getTicket(id: string) {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { id };
    },
  );
  return { getTicket, runs: (id: string) => runs.get(id) ?? 0 };
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('invalidate on a SQLite file in use', () => {
  it('reaches the running process at once, and only for the named resources', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend(path);
    const agent = agentTool(backend);
    for (const id of ['T-1', 'T-2', 'T-1', 'T-2']) await agent.getTicket(id);
    expect([agent.runs('T-1'), agent.runs('T-2')]).toEqual([1, 1]);
    const r = await cliProcess(['invalidate', path, 'ticket:T-1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`invalidated ticket:T-1 in ${path}: 1 stored entry is stale now\n`);
    await agent.getTicket('T-1');
    await agent.getTicket('T-2');
    expect([agent.runs('T-1'), agent.runs('T-2')]).toEqual([2, 1]);
    await backend.close();
  });

  it('invalidates in the namespace given, and says where else the resource is', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend(path);
    configure({ namespace: 'shop' });
    const agent = agentTool(backend);
    try {
      await agent.getTicket('T-1');
      const other = await cli(['invalidate', path, 'tickets', '--json']);
      expect(JSON.parse(other.stdout)).toEqual({
        target: path,
        namespace: '',
        resources: ['tickets'],
        staleEntries: 0,
      });
      expect(other.stderr).toBe(
        'note: 1 entry of namespace "shop" has this resource too, untouched (--namespace "shop" invalidates there)\n',
      );
      await agent.getTicket('T-1');
      expect(agent.runs('T-1')).toBe(1);
      const r = await cli(['invalidate', '--namespace', 'shop', path, 'tickets', 'ticket:T-9']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        `invalidated tickets, ticket:T-9 in ${path} (namespace "shop"): 1 stored entry is stale now\n`,
      );
      await agent.getTicket('T-1');
      expect(agent.runs('T-1')).toBe(2);
    } finally {
      configure({ namespace: '' });
      await backend.close();
    }
  });

  it('clear drops everything, and the running process starts over', async () => {
    const path = cacheFile(dir);
    const backend = new DiskBackend(path);
    const agent = agentTool(backend);
    await agent.getTicket('T-1');
    await agent.getTicket('T-2');
    const r = await cliProcess(['clear', path]);
    expect(r).toMatchObject({ code: 0, stdout: `cleared ${path}: 2 entries dropped\n` });
    expect(JSON.parse((await cli(['stats', path, '--json'])).stdout).entries).toBe(0);
    await agent.getTicket('T-1');
    expect(agent.runs('T-1')).toBe(2);
    await backend.close();
  });
});

describe('invalidate and clear on Redis (a server of our own)', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await OwnRedis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('invalidate reaches a running process, through its L1 too', async () => {
    const prefix = 'app:';
    const backend = new RedisBackend({ url: redis.url, prefix, l1: true });
    const agent = agentTool(backend);
    await eventually(async () => backend.l1Active, 'the L1 subscription');
    for (const id of ['T-1', 'T-2', 'T-1', 'T-2']) await agent.getTicket(id);
    expect([agent.runs('T-1'), agent.runs('T-2')]).toEqual([1, 1]);
    const r = await cliProcess(['invalidate', redis.url, '--prefix', prefix, 'ticket:T-1']);
    expect(r).toMatchObject({
      code: 0,
      stdout: `invalidated ticket:T-1 in ${redis.url}: 1 stored entry is stale now\n`,
    });
    // The L1 hears it by pub/sub: wait for that message, then T-1 runs again while T-2 is still a hit.
    await eventually(async () => {
      await agent.getTicket('T-1');
      return agent.runs('T-1') === 2;
    }, 'the invalidation to reach the L1');
    await agent.getTicket('T-2');
    expect(agent.runs('T-2')).toBe(1);
    await backend.close();
  });

  it('clear of one prefix leaves a longer prefix that begins with it alone', async () => {
    const short = new RedisBackend({ url: redis.url, prefix: 'tenant:' });
    const long = new RedisBackend({ url: redis.url, prefix: 'tenant:eu:' });
    try {
      await agentTool(short).getTicket('T-1');
      await agentTool(long).getTicket('T-1');
      await agentTool(long).getTicket('T-2');
      const stats = async (prefix: string) =>
        JSON.parse((await cli(['stats', redis.url, '--prefix', prefix, '--json'])).stdout).entries as number;
      expect([await stats('tenant:'), await stats('tenant:eu:')]).toEqual([1, 2]);
      const inv = await cli(['invalidate', redis.url, '--prefix', 'tenant:', 'tickets']);
      expect(inv.stdout).toContain('1 stored entry is stale now');
      expect([await stats('tenant:'), await stats('tenant:eu:')]).toEqual([0, 2]);
      const r = await cliProcess(['clear', redis.url, '--prefix', 'tenant:']);
      expect(r).toMatchObject({ code: 0, stdout: `cleared ${redis.url}: 1 entry dropped\n` });
      expect(await stats('tenant:eu:')).toBe(2);
      const inspect = JSON.parse(
        (await cli(['inspect', redis.url, '--prefix', 'tenant:eu:', '--json'])).stdout,
      );
      expect(inspect.entries.map((e: { tool: string }) => e.tool)).toEqual(['getTicket', 'getTicket']);
    } finally {
      await short.close();
      await long.close();
    }
  });
});
