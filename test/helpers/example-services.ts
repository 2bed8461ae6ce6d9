import { OwnCluster } from '../backends/fixtures/redis.js';

/**
 * The services that README examples find through the environment, started for the examples that use them: a
 * Redis Cluster of our own (three loopback nodes) when an example reads `REDIS_CLUSTER_NODES`, which is then set to
 * its nodes (`host:port,host:port,...`). Plain Redis examples use REDIS_URL / 127.0.0.1:6379 as they are.
 */
export interface ExampleServices {
  /** Variables to add to the environment of every example. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startExampleServices(examples: readonly string[]): Promise<ExampleServices> {
  if (!examples.some((code) => code.includes('REDIS_CLUSTER_NODES')))
    return { env: {}, stop: async () => {} };
  const cluster = await OwnCluster.start();
  return {
    env: { REDIS_CLUSTER_NODES: cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',') },
    stop: () => cluster.stop(),
  };
}
