/**
 * RedisBackend against raw ioredis on one Redis (a redis-server this bench starts on a free loopback port, so that
 * INFO commandstats counts only its commands): commands per operation; a strict hit (l1 off) at 1 in flight vs a
 * raw GET, target <= 1.3x, with bentocache and async-cache-dedupe beside it; strict hits at 64 in flight vs an
 * auto-pipelined raw GET, target <= 1.3x; a miss that stores vs cache-aside (GET + SET); an L1 hit vs a memory
 * hit, target <= 2x; cross-process invalidation propagation, strict and L1.
 *
 * Hits are measured through a cached tool (`AgentCache` over the backend), as an agent makes them, and at the
 * backend (`get` with the call's tags), 10 000 warm keys, a ~400-byte tool result. Raw GETs fetch the same
 * serialized value and deserialize it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { createCache } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RedisBackend } from '../src/backends/redis/index.js';
import { AgentCache, type Backend, configure, MemoryBackend } from '../src/index.js';
import { OwnRedis } from '../test/backends/fixtures/redis.js';
import { toolResult } from './fixtures.js';
import { compare, percentile, target } from './harness.js';
import { inFlight } from './in-flight.js';

const KEYS = 10_000;
const IN_FLIGHT = 64;
/** Operations of one 64-in-flight contender call: 64 lanes of this many sequential gets each. */
const PER_LANE = 16;

export async function main(): Promise<void> {
  configure({ logger: { warn: () => {} } });
  const server = await OwnRedis.start();
  try {
    await run(server);
  } finally {
    await server.stop();
  }
}

async function run(server: OwnRedis): Promise<void> {
  const url = server.url;
  const raw = new Redis(url);
  const piped = new Redis(url, { enableAutoPipelining: true });
  const prefix = 'bench:';
  const strict = new RedisBackend({ url, prefix });
  const withL1 = new RedisBackend({ url, prefix, l1: { maxEntries: 2 * KEYS } });
  const memory = new MemoryBackend({ maxEntries: 2 * KEYS });
  const keys = Array.from({ length: KEYS }, (_, i) => i);
  const tool = (backend: Backend) =>
    AgentCache({ name: 'getTicket', resource: (i: number) => `ticket:${i}`, backend })(async (i: number) =>
      toolResult(i),
    );
  const strictTool = tool(strict);
  const l1Tool = tool(withL1);
  const memoryTool = tool(memory);
  for (let i = 0; i < KEYS; i++) await raw.set(`raw:${i}`, serialize(toolResult(i)));
  // The backend-level contenders use the key and tags the tool passes (seen on its way in).
  const entryKeys: string[] = [];
  const entryTags: (readonly string[])[] = [];
  const get = strict.get.bind(strict);
  Object.assign(strict, {
    get: (key: string, options?: { tags?: () => readonly string[] | undefined }) => {
      entryKeys.push(key);
      entryTags.push(options?.tags?.() ?? []);
      return get(key, options);
    },
  });
  for (const i of keys) {
    await strictTool(i);
    await memoryTool(i);
  }
  delete (strict as { get?: unknown }).get;
  const keyOf = (i: number) => entryKeys[i]!;
  const tagsOf = (i: number) => entryTags[i]!;
  if ((await strict.get(keyOf(1), { tags: () => tagsOf(1) }))?.value === undefined)
    throw new Error('bench: the backend-level key does not match the tool’s');

  const missTool = AgentCache({ name: 'getFresh', resource: (i: number) => `fresh:${i}`, backend: strict })(
    async (i: number) => toolResult(i),
  );
  for (const i of keys) await l1Tool(i); // into the L1
  await commandsPerOperation(url, raw, strictTool, l1Tool, missTool);

  // 1. One hit in flight.
  const bentoL2 = new BentoCache({
    default: 'r',
    stores: { r: bentostore().useL2Layer(redisDriver({ connection: new Redis(url), prefix: 'bento2' })) },
  });
  const dedupeClient = new Redis(url);
  const dedupe = createCache({
    ttl: 600,
    storage: { type: 'redis', options: { client: dedupeClient, invalidation: { referencesTTL: 600 } } },
  }).define('ticket', { references: (i: number) => [`ticket:${i}`] }, async (i: number) => toolResult(i));
  for (let i = 0; i < KEYS; i++) {
    await bentoL2.set({ key: `k${i}`, value: toolResult(i), tags: [`ticket:${i}`] });
    await dedupe.ticket(i);
  }
  const one = await compare(
    'Strict hit (l1 off), one op in flight',
    [
      {
        name: 'raw ioredis GET + v8.deserialize',
        op: async (i) => deserialize((await raw.getBuffer(`raw:${i % KEYS}`))!),
      },
      { name: 'cached tool over RedisBackend (l1 off)', op: (i) => strictTool(i % KEYS) },
      {
        name: 'RedisBackend.get (l1 off)',
        op: (i) => strict.get(keyOf(i % KEYS), { tags: () => tagsOf(i % KEYS) }),
      },
      { name: 'bentocache get (Redis L2 only)', op: (i) => bentoL2.get({ key: `k${i % KEYS}` }) },
      { name: 'async-cache-dedupe (Redis storage)', op: (i) => dedupe.ticket(i % KEYS) },
    ],
    // Many short rounds: on a loaded machine a burst of other work then lands in a few rounds, not in a median.
    { rounds: 41, ops: 500 },
  );
  target(
    'strict hit (cached tool) / raw GET, 1 in flight',
    one.ratios['cached tool over RedisBackend (l1 off)']!,
    1.3,
  );

  // 2. 64 in flight: each contender call is 64 lanes × PER_LANE sequential gets.
  const lanes = (op: (i: number) => Promise<unknown>) =>
    inFlight(op, { lanes: IN_FLIGHT, perLane: PER_LANE, keys: KEYS });
  const many = await compare(
    `Strict hits, ${IN_FLIGHT} in flight (ns per ${IN_FLIGHT * PER_LANE} hits)`,
    [
      {
        name: 'auto-pipelined raw ioredis GET + v8.deserialize',
        op: lanes(async (i) => deserialize((await piped.getBuffer(`raw:${i}`))!)),
      },
      { name: 'cached tool over RedisBackend (l1 off)', op: lanes((i) => strictTool(i)) },
      {
        name: 'RedisBackend.get (l1 off)',
        op: lanes(async (i) => strict.get(keyOf(i), { tags: () => tagsOf(i) })),
      },
      { name: 'async-cache-dedupe (Redis storage)', op: lanes((i) => dedupe.ticket(i)) },
    ],
    { rounds: 41, ops: 5 },
  );
  target(
    `strict hits (cached tool) / auto-pipelined raw GET, ${IN_FLIGHT} in flight`,
    many.ratios['cached tool over RedisBackend (l1 off)']!,
    1.3,
  );

  // 3. A miss that stores, vs cache-aside by hand (GET, then SET): fresh keys every time.
  let fresh = 0;
  await compare(
    'Miss that stores, one op in flight (fresh keys)',
    [
      {
        name: 'cache-aside: raw GET (miss) + SET',
        op: async () => {
          const k = `aside:${fresh++}`;
          if ((await raw.getBuffer(k)) === null) await raw.set(k, serialize(toolResult(fresh)));
        },
      },
      { name: 'cached tool over RedisBackend (l1 off)', op: () => missTool(fresh++) },
    ],
    { rounds: 21, ops: 500 },
  );

  // 4. The L1 against the memory backend.
  if (!withL1.l1Active || withL1.l1Size < KEYS) throw new Error('bench: the L1 is not serving');
  const local = await compare(
    'L1 hit vs a memory hit',
    [
      { name: 'cached tool over MemoryBackend', op: (i) => memoryTool(i % KEYS) },
      { name: 'cached tool over RedisBackend (l1 on)', op: (i) => l1Tool(i % KEYS) },
      { name: 'MemoryBackend.get', op: (i) => memory.get(keyOf(i % KEYS)) },
      { name: 'RedisBackend.get (l1 on)', op: (i) => withL1.get(keyOf(i % KEYS)) },
    ],
    { rounds: 31, ops: 10_000 },
  );
  target('L1 hit / memory hit (cached tool)', local.ratios['cached tool over RedisBackend (l1 on)']!, 2);
  target(
    'L1 hit / memory hit (backend get)',
    local.medians['RedisBackend.get (l1 on)']! / local.medians['MemoryBackend.get']!,
    2,
  );

  for (const mode of ['strict', 'l1'] as const) await propagation(url, mode);

  await Promise.all([strict.close(), withL1.close(), memory.close()]);
  await bentoL2.disconnectAll();
  dedupeClient.disconnect();
  raw.disconnect();
  piped.disconnect();
}

/**
 * Commands per operation through the cached tool: the commands the clients sent (MONITOR, which marks the commands
 * a script runs as its own), and everything Redis executed, the scripts' inner commands included (INFO
 * commandstats).
 */
async function commandsPerOperation(
  url: string,
  raw: Redis,
  strictTool: (i: number) => Promise<unknown>,
  l1Tool: (i: number) => Promise<unknown>,
  missTool: (i: number) => Promise<unknown>,
): Promise<void> {
  const count = async (what: () => Promise<unknown>, n: number) => {
    const monitor = await new Redis(url).monitor();
    let sent = 0;
    let done = false;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = args[0]!.toLowerCase();
      if (name === 'echo' && args[1] === 'agent-cache-bench-end') done = true;
      // The L1's heartbeats and the measuring connection's own commands are not the operations' cost.
      else if (!done && source !== 'lua' && !['info', 'config', 'publish'].includes(name)) sent++;
    });
    await raw.config('RESETSTAT');
    await what();
    const stats = String(await raw.info('commandstats'));
    await raw.echo('agent-cache-bench-end');
    while (!done) await new Promise((r) => setTimeout(r, 10));
    monitor.disconnect();
    let executed = 0;
    for (const m of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
      if (!['info', 'config', 'publish', 'monitor'].includes(m[1]!)) executed += Number(m[2]);
    }
    return { sent: sent / n, executed: executed / n };
  };
  const n = 1_000;
  const hit1 = await count(async () => {
    for (let i = 0; i < n; i++) await strictTool(i);
  }, n);
  const hit64 = await count(
    () =>
      Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, lane) => {
          for (let j = 0; j < n / IN_FLIGHT; j++) await strictTool(lane * 100 + j);
        }),
      ),
    n,
  );
  let fresh = 1_000_000;
  const miss = await count(async () => {
    for (let i = 0; i < n; i++) await missTool(fresh++);
  }, n);
  const l1 = await count(async () => {
    for (let i = 0; i < n; i++) await l1Tool(i);
  }, n);
  console.log('\n## Redis commands per operation (through the cached tool)\n');
  console.log(
    "| operation | commands sent (MONITOR) | commands executed, scripts' included (INFO commandstats) |",
  );
  console.log('| --- | ---: | ---: |');
  const row = (name: string, c: { sent: number; executed: number }, digits = 2) =>
    console.log(`| ${name} | ${c.sent.toFixed(digits)} | ${c.executed.toFixed(digits)} |`);
  row('strict hit, 1 in flight', hit1);
  row(`strict hit, ${IN_FLIGHT} in flight`, hit64, 3);
  row('miss + store (strict)', miss);
  row('L1 hit', l1);
  target('commands sent per strict hit, 1 in flight', hit1.sent, 1);
  target('commands sent per miss + store', miss.sent, 2);
}

/**
 * Another process holds an entry (in its L1 in l1 mode) and reads it in a loop; this process invalidates its tag.
 * Reported: wall-clock time from the start of the invalidation to the first read in the other process that saw it,
 * and how long after the invalidator returned that was (0 when it was seen by the time it returned).
 */
async function propagation(url: string, mode: 'strict' | 'l1', samples = 200): Promise<void> {
  const p = `prop-${mode}:`;
  const here = new RedisBackend({ url, prefix: p });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./redis-propagation-child.ts', import.meta.url)),
      url,
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
