/**
 * RedisBackend, on the same Redis as its baselines:
 * 1. a hit with l1 off vs a raw ioredis GET of the same serialized value (+ v8.deserialize): target <= 1.5x;
 *    bentocache (Redis L2 only) and async-cache-dedupe (Redis storage) doing the same hit, side by side;
 * 2. a hit with l1 on vs a MemoryBackend hit: target <= 2x; bentocache with its memory L1 beside it;
 * 3. cross-process invalidation propagation, p50/p99 ms, strict (l1 off) and l1 modes.
 * Hits are measured one at a time (latency, not throughput): one operation in flight, as an agent's tool call.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { createCache } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RedisBackend } from '../src/backends/redis/index.js';
import { MemoryBackend } from '../src/index.js';
import { toolResult } from './fixtures.js';
import { compare, percentile, target } from './harness.js';

const URL_ = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEYS = 1_000;

export async function main(): Promise<void> {
  const prefix = `agent-cache-bench:${randomUUID()}:`;
  const raw = new Redis(URL_);
  const strict = new RedisBackend({ url: URL_, prefix });
  const withL1 = new RedisBackend({ url: URL_, prefix, l1: { maxEntries: 2 * KEYS } });
  const memory = new MemoryBackend();
  const tags = ['t"bench""getTicket"', 'r"bench""tickets"'];
  const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
  const gens = await strict.generations(tags);
  for (let i = 0; i < KEYS; i++) {
    await raw.set(`${prefix}raw:${keys[i]}`, serialize(toolResult(i)));
    await strict.set(keys[i]!, { value: toolResult(i), expiresAt: 0, tags, gens });
    memory.set(keys[i]!, { value: toolResult(i), expiresAt: 0, tags, gens: memory.generations(tags) });
  }

  const bentoL2 = new BentoCache({
    default: 'r',
    stores: {
      r: bentostore().useL2Layer(redisDriver({ connection: new Redis(URL_), prefix: `${prefix}bento2` })),
    },
  });
  const bentoL1 = new BentoCache({
    default: 'r',
    stores: {
      r: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 2 * KEYS }))
        .useL2Layer(redisDriver({ connection: new Redis(URL_), prefix: `${prefix}bento1` }))
        .useBus(redisBusDriver({ connection: new Redis(URL_) })),
    },
  });
  const dedupeClient = new Redis(URL_);
  const dedupe = createCache({
    ttl: 600,
    storage: { type: 'redis', options: { client: dedupeClient, invalidation: { referencesTTL: 600 } } },
  }).define('agentCacheBenchTicket', { references: () => ['agentCacheBenchTickets'] }, async (i: number) =>
    toolResult(i),
  );
  for (let i = 0; i < KEYS; i++) {
    await bentoL2.set({ key: keys[i]!, value: toolResult(i), tags: ['tickets'] });
    await bentoL1.set({ key: keys[i]!, value: toolResult(i), tags: ['tickets'] });
    await dedupe.agentCacheBenchTicket(i);
  }
  for (let i = 0; i < KEYS; i++) await withL1.get(keys[i]!); // fill the L1

  const hit = await compare(
    'Redis hit, l1 off (one op in flight)',
    [
      {
        name: 'raw ioredis GET + v8.deserialize',
        op: async (i) => deserialize((await raw.getBuffer(`${prefix}raw:${keys[i % KEYS]}`))!),
      },
      { name: 'RedisBackend.get (l1 off)', op: (i) => strict.get(keys[i % KEYS]!) },
      { name: 'bentocache get (Redis L2 only)', op: (i) => bentoL2.get({ key: keys[i % KEYS]! }) },
      { name: 'async-cache-dedupe (Redis storage)', op: (i) => dedupe.agentCacheBenchTicket(i % KEYS) },
    ],
    { rounds: 15, ops: 2_000 },
  );
  target('RedisBackend hit (l1 off) / raw ioredis GET', hit.ratios['RedisBackend.get (l1 off)']!, 1.5);

  const local = await compare(
    'Redis hit, l1 on, vs a memory hit',
    [
      { name: 'MemoryBackend.get (hit)', op: (i) => memory.get(keys[i % KEYS]!) },
      { name: 'RedisBackend.get (l1 on)', op: (i) => withL1.get(keys[i % KEYS]!) },
      {
        name: 'bentocache get (memory L1 + Redis L2 + bus)',
        op: (i) => bentoL1.get({ key: keys[i % KEYS]! }),
      },
    ],
    { rounds: 15, ops: 20_000 },
  );
  target('RedisBackend hit (l1 on) / MemoryBackend hit', local.ratios['RedisBackend.get (l1 on)']!, 2);

  for (const mode of ['strict', 'l1'] as const) await propagation(mode, prefix);

  await strict.clear();
  await Promise.all([strict.close(), withL1.close()]);
  await bentoL2.clear();
  await bentoL1.clear();
  await Promise.all([bentoL2.disconnectAll(), bentoL1.disconnectAll()]);
  dedupeClient.disconnect();
  // clear() keeps the generation counter on purpose; a benchmark leaves nothing behind (async-cache-dedupe's keys
  // are named after the function and its references).
  for (const pattern of [`${prefix}*`, '*agentCacheBenchTicket*']) {
    let cursor = '0';
    do {
      const [next, found] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await raw.del(...found);
    } while (cursor !== '0');
  }
  raw.disconnect();
}

/**
 * Another process holds an entry (in its L1 in l1 mode) and reads it in a loop; this process invalidates its tag.
 * Reported: wall-clock time from the start of the invalidation to the first read in the other process that saw it,
 * and how long after the invalidator returned that was (0 when it was seen by the time it returned).
 */
async function propagation(mode: 'strict' | 'l1', prefix: string, samples = 200): Promise<void> {
  const p = `${prefix}prop-${mode}:`;
  const here = new RedisBackend({ url: URL_, prefix: p });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./redis-propagation-child.ts', import.meta.url)),
      URL_,
      p,
      mode,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const next = () => new Promise<unknown>((resolve) => child.once('message', resolve));
  await next(); // started
  const fromStart: number[] = [];
  const afterReturn: number[] = [];
  const now = () => performance.timeOrigin + performance.now();
  for (let s = 0; s < samples; s++) {
    const key = `k${s}`;
    const tags = [`r:${s}`];
    await here.set(key, { value: s, expiresAt: 0, tags, gens: await here.generations(tags) });
    const ready = next();
    child.send(key);
    await ready;
    const seen = next();
    const t0 = now();
    await here.bump(tags);
    const t1 = now();
    const t = (await seen) as number;
    fromStart.push(t - t0);
    afterReturn.push(Math.max(0, t - t1));
  }
  child.kill();
  await here.clear();
  await here.close();
  const f = (x: number) => x.toFixed(2);
  console.log(
    `\n## Cross-process invalidation propagation, ${mode === 'l1' ? 'l1 on (pub/sub)' : 'l1 off (strict)'}`,
  );
  console.log(`(${samples} invalidations; the other process reads in a loop; wall-clock ms)\n`);
  console.log('| measure | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: |');
  console.log(
    `| invalidation start → other process sees it | ${f(percentile(fromStart, 50))} | ${f(percentile(fromStart, 99))} |`,
  );
  console.log(
    `| invalidator returned → other process sees it | ${f(percentile(afterReturn, 50))} | ${f(percentile(afterReturn, 99))} |`,
  );
}
