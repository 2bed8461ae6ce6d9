/**
 * RedisBackend on a Redis Cluster (three masters this bench starts on free loopback ports, with the test suite's
 * own fixture) against the same backend on a single redis-server started the same way: the cost of a strict hit
 * (l1 off) at 1 in flight, hit throughput at 64 in flight, a miss that stores, the commands per operation on the
 * cluster (INFO commandstats summed over its nodes), and how the entries, the generation keys and the commands of
 * a hit workload spread over the nodes.
 *
 * Hits go through a cached tool (`AgentCache` over the backend), as an agent makes them: 10 000 warm keys, a
 * ~400-byte tool result, the client the bench passes in (an ioredis `Cluster`, or a `Redis` for the single node).
 * On one machine the three nodes share its cores with the bench: the cluster's figures here are its per-hit
 * overhead (more commands per hit, one per slot), not the capacity that more machines would add.
 */
import { Cluster, Redis } from 'ioredis';
import { RedisBackend } from '../src/backends/redis/index.js';
import { AgentCache, configure } from '../src/index.js';
import { resourceTag } from '../src/tool/tags.js';
import { OwnCluster, OwnRedis } from '../test/backends/fixtures/redis.js';
import { toolResult } from './fixtures.js';
import { compare } from './harness.js';
import { inFlight } from './in-flight.js';

const KEYS = 10_000;
const IN_FLIGHT = 64;
const PER_LANE = 16;
const PREFIX = 'bench:';

export async function main(): Promise<void> {
  configure({ logger: { warn: () => {} } });
  const [cluster, single] = await Promise.all([OwnCluster.start(), OwnRedis.start()]);
  try {
    await run(cluster, single);
  } finally {
    await Promise.all([cluster.stop(), single.stop()]);
  }
}

async function run(cluster: OwnCluster, single: OwnRedis): Promise<void> {
  const clusterClient = new Cluster(cluster.startupNodes);
  const singleClient = new Redis(single.url);
  const onCluster = new RedisBackend({ client: clusterClient, prefix: PREFIX });
  const onSingle = new RedisBackend({ client: singleClient, prefix: PREFIX });
  const tool = (backend: RedisBackend, name: string) =>
    AgentCache({ name, resource: (i: number) => `ticket:${i}`, backend })(async (i: number) => toolResult(i));
  const clusterTool = tool(onCluster, 'getTicket');
  const singleTool = tool(onSingle, 'getTicket');
  for (let i = 0; i < KEYS; i++) {
    await clusterTool(i);
    await singleTool(i);
  }
  // Every ticket's generation key exists once its resource was invalidated (until then it is at its shard's floor).
  for (let i = 0; i < KEYS; i += 100) {
    const tags = Array.from({ length: 100 }, (_, j) => resourceTag('', `ticket:${i + j}`));
    await Promise.all([onCluster.bump(tags), onSingle.bump(tags)]);
  }
  for (let i = 0; i < KEYS; i++) {
    await clusterTool(i);
    await singleTool(i);
  }
  const nodes = cluster.nodes.map((n) => new Redis(n.url));

  await spread(nodes, clusterTool);

  const one = await compare(
    'Strict hit (l1 off), one op in flight: cluster vs single node',
    [
      { name: 'cached tool, single redis-server', op: (i) => singleTool(i % KEYS) },
      { name: 'cached tool, 3-node cluster', op: (i) => clusterTool(i % KEYS) },
    ],
    { rounds: 41, ops: 500 },
  );
  const lanes = (op: (i: number) => Promise<unknown>) =>
    inFlight(op, { lanes: IN_FLIGHT, perLane: PER_LANE, keys: KEYS });
  const many = await compare(
    `Strict hits, ${IN_FLIGHT} in flight: cluster vs single node (ns per ${IN_FLIGHT * PER_LANE} hits)`,
    [
      { name: 'cached tool, single redis-server', op: lanes((i) => singleTool(i)) },
      { name: 'cached tool, 3-node cluster', op: lanes((i) => clusterTool(i)) },
    ],
    { rounds: 41, ops: 4 },
  );
  const perSecond = (ns: number) => (1e9 * IN_FLIGHT * PER_LANE) / ns;
  let fresh = 1_000_000;
  const missCluster = tool(onCluster, 'getFresh');
  const missSingle = tool(onSingle, 'getFresh');
  const miss = await compare(
    'Miss that stores, one op in flight: cluster vs single node (fresh keys)',
    [
      { name: 'cached tool, single redis-server', op: () => missSingle(fresh++) },
      { name: 'cached tool, 3-node cluster', op: () => missCluster(fresh++) },
    ],
    { rounds: 15, ops: 500 },
  );

  const n = 1_000;
  const hitCommands = await executed(nodes, async () => {
    for (let i = 0; i < n; i++) await clusterTool(i);
  });
  const batchedCommands = await executed(nodes, () =>
    Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, lane) => {
        for (let j = 0; j < n / IN_FLIGHT; j++) await clusterTool(lane * 100 + j);
      }),
    ),
  );
  const missCommands = await executed(nodes, async () => {
    for (let i = 0; i < n; i++) await missCluster(fresh++);
  });

  const c = 'cached tool, 3-node cluster';
  const s = 'cached tool, single redis-server';
  console.log('\n## Cluster vs single node, in short\n');
  console.log('| figure | single redis-server | 3-node cluster | cluster / single |');
  console.log('| --- | ---: | ---: | ---: |');
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
  console.log(
    `| strict hit, 1 in flight | ${us(one.medians[s]!)} | ${us(one.medians[c]!)} | ${one.ratios[c]!.toFixed(2)} |`,
  );
  console.log(
    `| strict hits per second, ${IN_FLIGHT} in flight | ${perSecond(many.medians[s]!).toFixed(0)} | ` +
      `${perSecond(many.medians[c]!).toFixed(0)} | ${(perSecond(many.medians[c]!) / perSecond(many.medians[s]!)).toFixed(2)} |`,
  );
  console.log(
    `| miss + store, 1 in flight | ${us(miss.medians[s]!)} | ${us(miss.medians[c]!)} | ${miss.ratios[c]!.toFixed(2)} |`,
  );
  console.log(
    '\nCommands executed per operation on the cluster (INFO commandstats, summed over its nodes):\n',
  );
  console.log('| operation | commands |');
  console.log('| --- | ---: |');
  console.log(`| strict hit, 1 in flight | ${(hitCommands / n).toFixed(2)} |`);
  console.log(`| strict hit, ${IN_FLIGHT} in flight | ${(batchedCommands / n).toFixed(2)} |`);
  console.log(`| miss + store | ${(missCommands / n).toFixed(2)} |`);
  console.log(
    '\n(A hit on a cluster is a GET of the entry and one MGET per slot of its tags: a tool tag and a resource tag ' +
      'in two shards make 3; concurrent hits share the MGETs of the slots they have in common.)',
  );

  for (const node of nodes) node.disconnect();
  await Promise.all([onCluster.close(), onSingle.close()]);
  clusterClient.disconnect();
  singleClient.disconnect();
}

/** The commands the nodes executed while `what` ran (INFO commandstats, every node, the measuring ones left out). */
async function executed(nodes: readonly Redis[], what: () => Promise<unknown>): Promise<number> {
  const counts = await perNode(nodes, what);
  return counts.reduce((a, b) => a + b, 0);
}

async function perNode(nodes: readonly Redis[], what: () => Promise<unknown>): Promise<number[]> {
  await Promise.all(nodes.map((node) => node.config('RESETSTAT')));
  await what();
  return Promise.all(
    nodes.map(async (node) => {
      const stats = String(await node.info('commandstats'));
      let calls = 0;
      for (const m of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
        if (!['info', 'config', 'cluster', 'publish', 'ping'].includes(m[1]!)) calls += Number(m[2]);
      }
      return calls;
    }),
  );
}

/** How the entries, the generation keys, and a hit workload's commands spread over the cluster's nodes. */
async function spread(nodes: readonly Redis[], clusterTool: (i: number) => Promise<unknown>): Promise<void> {
  const count = (node: Redis, pattern: string) =>
    new Promise<number>((resolve, reject) => {
      let found = 0;
      node
        .scanStream({ match: pattern, count: 1000 })
        .on('data', (keys: string[]) => {
          found += keys.length;
        })
        .on('end', () => resolve(found))
        .on('error', reject);
    });
  const entries = await Promise.all(nodes.map((node) => count(node, `${PREFIX}{}e:*`)));
  const gens = await Promise.all(nodes.map((node) => count(node, `${PREFIX}{*}g:*`)));
  const commands = await perNode(nodes, async () => {
    for (let i = 0; i < 2_000; i++) await clusterTool(i % KEYS);
  });
  const share = (part: number, all: readonly number[]) =>
    `${((100 * part) / all.reduce((a, b) => a + b, 0)).toFixed(1)}%`;
  console.log(`\n## How a deployment spreads over a 3-node cluster (${KEYS} entries, ${KEYS + 1} tags)\n`);
  console.log('| node | entries | share | generation keys | share | commands of 2 000 strict hits | share |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  nodes.forEach((_, i) => {
    console.log(
      `| ${i + 1} | ${entries[i]} | ${share(entries[i]!, entries)} | ${gens[i]} | ${share(gens[i]!, gens)} | ` +
        `${commands[i]} | ${share(commands[i]!, commands)} |`,
    );
  });
  console.log(
    '\n(Every hit reads the tool tag, which lives on one node: that node serves one command of every hit.)',
  );
}
