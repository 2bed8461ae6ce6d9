import type { Cluster, Redis } from 'ioredis';
import type { CircuitBreaker, Sink } from './breaker.js';
import type { Script } from './scripts.js';
import { keySlot } from './slots.js';

/** What RedisBackend runs on: one Redis (or a Sentinel-managed one) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

type Reply = Buffer | null;

/**
 * Every command of the backend goes through here: refused at once while the backend is closed or the connection is
 * known to be down, bounded by the command timeout and counted by the circuit breaker, and, on a cluster, split so
 * that each command touches one slot (a standalone Redis takes every key in one command).
 */
export class RedisLink {
  readonly client: RedisClient;
  readonly cluster: boolean;
  readonly #breaker: CircuitBreaker;
  readonly #closed: () => Error | undefined;

  constructor(client: RedisClient, breaker: CircuitBreaker, closed: () => Error | undefined) {
    this.client = client;
    this.cluster = (client as { isCluster?: boolean }).isCluster === true;
    this.#breaker = breaker;
    this.#closed = closed;
  }

  get circuitOpen(): boolean {
    return this.#breaker.open;
  }

  /** The connection came back: let calls through again. */
  reset(): void {
    this.#breaker.reset();
  }

  /** The servers that hold keys: the one Redis, or every master of the cluster. */
  masters(): Redis[] {
    return this.cluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  /** 0 on a standalone Redis (everything can go in one command), the key's slot on a cluster. */
  slot(key: string): number {
    return this.cluster ? keySlot(key) : 0;
  }

  /** One bounded operation (it may send several commands; the bound is on all of them together). */
  run<T>(operation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.runInto(operation, { answer: resolve, fail: reject }));
  }

  /** run(), handing the outcome to `sink` rather than to a promise. */
  runInto<T>(operation: () => Promise<T>, sink: Sink<T>): void {
    const closed = this.#closed();
    if (closed !== undefined) {
      sink.fail(closed);
      return;
    }
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      try {
        this.#breaker.fail(`Redis connection is ${status}`);
      } catch (error) {
        sink.fail(error);
        return;
      }
    }
    this.#breaker.runInto(operation, sink);
  }

  /** The values of `keys`, in order: one MGET on a standalone Redis, one per slot on a cluster. */
  mget(keys: readonly string[]): Promise<Reply[]> {
    return this.run(() => this.mgetNow(keys));
  }

  /** mget(), handing the values to `sink`. */
  mgetInto(keys: readonly string[], sink: Sink<Reply[]>): void {
    this.runInto(() => this.mgetNow(keys), sink);
  }

  /** mget() inside an operation that is already bounded. */
  mgetNow(keys: readonly string[]): Promise<Reply[]> {
    const client = this.client;
    if (!this.cluster) return client.callBuffer('MGET', ...keys) as Promise<Reply[]>;
    return this.#clusterMget(client as Cluster, keys);
  }

  /**
   * On a cluster: one GET or MGET per slot, and the commands bound for one node sent together in one pipeline (one
   * write and one read per node rather than one per slot: a batch of lookups touches many slots on few nodes).
   * When the slot map moved under the grouping (a resharding), each slot's command goes on its own.
   */
  async #clusterMget(client: Cluster, keys: readonly string[]): Promise<Reply[]> {
    const slots = new Map<number, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const slot = keySlot(keys[i]!);
      const group = slots.get(slot);
      if (group === undefined) slots.set(slot, [i]);
      else group.push(i);
    }
    const out = new Array<Reply>(keys.length);
    const byNode = new Map<string, number[][]>();
    for (const [slot, positions] of slots) {
      const node = client.slots[slot]?.[0] ?? '';
      const groups = byNode.get(node);
      if (groups === undefined) byNode.set(node, [positions]);
      else groups.push(positions);
    }
    const one = async (positions: readonly number[]) => {
      const group = positions.map((i) => keys[i]!);
      const replies =
        group.length === 1
          ? [(await client.getBuffer(group[0]!)) as Reply]
          : ((await client.callBuffer('MGET', ...group)) as Reply[]);
      for (let j = 0; j < positions.length; j++) out[positions[j]!] = replies[j]!;
    };
    await Promise.all(
      [...byNode].map(async ([node, groups]) => {
        if (groups.length === 1 || node === '') return Promise.all(groups.map(one));
        const pipeline = client.pipeline();
        for (const positions of groups) {
          if (positions.length === 1) pipeline.getBuffer(keys[positions[0]!]!);
          else pipeline.callBuffer('MGET', ...positions.map((i) => keys[i]!));
        }
        let results: [Error | null, unknown][] | null;
        try {
          results = await pipeline.exec();
        } catch {
          results = null; // not one node's any more: per slot instead
        }
        if (results === null) return Promise.all(groups.map(one));
        for (let g = 0; g < groups.length; g++) {
          const [error, value] = results[g]!;
          if (error) throw error;
          const positions = groups[g]!;
          if (positions.length === 1) out[positions[0]!] = value as Reply;
          else for (let j = 0; j < positions.length; j++) out[positions[j]!] = (value as Reply[])[j]!;
        }
        return undefined;
      }),
    );
    return out;
  }

  /** Runs `command` once per slot of `keys` (once in all on a standalone Redis) and reassembles the answers. */
  async bySlot<T>(keys: readonly string[], command: (group: string[]) => Promise<T[]>): Promise<T[]> {
    if (!this.cluster) return command([...keys]);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const slot = keySlot(keys[i]!);
      const group = groups.get(slot);
      if (group === undefined) groups.set(slot, [i]);
      else group.push(i);
    }
    const out = new Array<T>(keys.length);
    await Promise.all(
      [...groups.values()].map(async (positions) => {
        const replies = await command(positions.map((i) => keys[i]!));
        for (let j = 0; j < positions.length; j++) out[positions[j]!] = replies[j]!;
      }),
    );
    return out;
  }

  /** Runs a script by its SHA (routed by its first key), loading it on the first NOSCRIPT (each node caches its own). */
  async evalNow(
    script: Script,
    keys: readonly string[],
    args: readonly (string | Buffer)[],
  ): Promise<unknown> {
    const client = this.client;
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return await client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /** evalNow() with the reply's strings as Buffers. */
  async evalBufferNow(
    script: Script,
    keys: readonly string[],
    args: readonly (string | Buffer)[],
  ): Promise<unknown> {
    const client = this.client;
    try {
      return await client.callBuffer('EVALSHA', script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return await client.callBuffer('EVAL', script.source, keys.length, ...keys, ...args);
    }
  }

  eval(script: Script, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
    return this.run(() => this.evalNow(script, keys, args));
  }
}
