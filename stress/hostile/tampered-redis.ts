/**
 * Tampered Redis values under a backend's prefix: garbage and truncated entries, entries with headers of the wrong
 * shape, crafted payloads, keys of the wrong Redis type where the backend keeps entries, generations, counters and
 * session indexes, and garbage on its invalidation channel. Each must be a miss (or data served as plain data):
 * never an exception into a tool call, never code execution, never a crash.
 */
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { AgentCache, AgentCacheInvalidator, AgentCacheSession, type Backend } from '../../src/index.js';
import { REDIS_URL } from '../../test/backends/fixtures/redis.js';
import { Check, type Place } from './checks.js';
import { craftedValues, garbageValues, inert } from './payloads.js';

/** Keys per case, global and session-scoped each (set by tamperedRedis). */
let KEYS = 12;
const SESSION = 'hostile-session';
const expected = (i: number) => ({ key: i, text: `value ${i}`, big: 10n ** BigInt(i) });

let wraps = 0;

function tools(backend: Backend) {
  const counts = { runs: 0 };
  const n = ++wraps;
  const read = AgentCache({ name: 'hostile.redis.read', backend, resource: (i: number) => `k${i}` })(
    async function read(i: number) {
      counts.runs++;
      return expected(i);
    },
  );
  const mine = AgentCache({
    name: 'hostile.redis.mine',
    backend,
    scope: 'session',
    resource: (i: number) => `k${i}`,
  })(async function mine(i: number) {
    counts.runs++;
    return expected(i);
  });
  const write = AgentCacheInvalidator({ name: `hostile.redis.write.${n}`, backend, resource: 'k0' })(
    async function write() {},
  );
  return { read, mine, write, counts };
}

/** One backend per prefix without L1 (opening and closing one per call would dominate the run), closed at the end. */
const opened = new Map<string, Backend>();

async function open(prefix: string, l1 = false): Promise<Backend> {
  const { RedisBackend } = await import('../../src/backends/redis/index.js');
  if (!l1) {
    let backend = opened.get(prefix);
    if (backend === undefined) {
      backend = new RedisBackend({ url: REDIS_URL, prefix });
      opened.set(prefix, backend);
    }
    return backend;
  }
  return new RedisBackend({ url: REDIS_URL, prefix, l1 });
}

/** Every key under `prefix` matching `pattern` (a glob after the prefix). */
async function keys(client: Redis, prefix: string, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  const escaped = prefix.replace(/[*?[\]\\]/g, '\\$&');
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${escaped}${pattern}`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

/** Calls every global and session-scoped key; each result must be the true value (or, `crafted`, inert data). */
async function callAll(
  check: Check,
  prefix: string,
  what: string,
  crafted = false,
): Promise<{ hits: number }> {
  const backend = await open(prefix);
  // Not ended: ending it would drop the session entries that the next call checks.
  const session = new AgentCacheSession({ sessionId: SESSION });
  {
    const { read, mine, write, counts } = tools(backend);
    let hits = 0;
    for (let i = 0; i < KEYS; i++) {
      for (const [label, call] of [
        ['global', () => read(i)],
        ['session', () => session.run(() => mine(i))],
      ] as const) {
        const before = counts.runs;
        const got = await check.call(`${what} (${label})`, call);
        check.cases++;
        if (got === undefined) continue;
        if (counts.runs === before) hits++;
        if (!isDeepStrictEqual(got.value, expected(i))) {
          if (crafted) check.note('served as plain data');
          else check.fail('served altered', `${what}: ${label} key ${i}`);
        }
      }
    }
    await check.call(`${what}: write`, () => write());
    const before = counts.runs;
    await check.call(`${what}: read after write`, () => read(0));
    if (counts.runs === before) check.fail('stale after write', what);
    if (!inert()) check.fail('code execution', what);
    return { hits };
  }
}

/** A new prefix holding KEYS global and KEYS session entries. */
async function seeded(place: Place): Promise<string> {
  const prefix = place.prefix();
  const backend = await open(prefix);
  const { read, mine } = tools(backend);
  const session = new AgentCacheSession({ sessionId: SESSION });
  for (let i = 0; i < KEYS; i++) {
    await read(i);
    await session.run(() => mine(i));
  }
  return prefix;
}

export async function tamperedRedis(place: Place, keysPerCase: number): Promise<Check[]> {
  KEYS = keysPerCase;
  const client = new Redis(REDIS_URL);
  client.on('error', () => {});
  try {
    const entries = new Check('entries replaced with garbage or broken headers', 'redis');
    const header = (blob: Buffer) => blob.subarray(0, blob.indexOf(0x0a));
    const rewrites: [string, (blob: Buffer) => Buffer][] = [
      ...garbageValues().map(({ name, bytes }) => [name, () => bytes] as [string, (b: Buffer) => Buffer]),
      ['truncated header', (b) => b.subarray(0, 10)],
      ['header without a value', (b) => header(b)],
      ['header, then a newline only', (b) => Buffer.concat([header(b), Buffer.from('\n')])],
      [
        'header of another shape',
        (b) => Buffer.concat([Buffer.from('{"a":1}\n'), b.subarray(b.indexOf(0x0a) + 1)]),
      ],
      [
        'header with too few gens',
        (b) => Buffer.concat([Buffer.from('[0,["a","b"],[1]]\n'), b.subarray(b.indexOf(0x0a) + 1)]),
      ],
      [
        'header with strings for numbers',
        (b) => Buffer.concat([Buffer.from('["0",["a"],["x"]]\n'), b.subarray(b.indexOf(0x0a) + 1)]),
      ],
      ...garbageValues().map(
        ({ name, bytes }) =>
          [
            `valid header, ${name} value`,
            (b: Buffer) => Buffer.concat([header(b), Buffer.from('\n'), bytes]),
          ] as [string, (b: Buffer) => Buffer],
      ),
    ];
    for (const [name, rewrite] of rewrites) {
      const prefix = await seeded(place);
      for (const key of await keys(client, prefix, '{}e:*')) {
        const blob = await client.getBuffer(key);
        if (blob !== null) await client.set(key, rewrite(blob));
      }
      const first = await callAll(entries, prefix, name);
      const second = await callAll(entries, prefix, `${name}, called again`);
      if (first.hits > 0) entries.fail('garbage served', `${name}: ${first.hits} hits`);
      if (second.hits < 2 * KEYS - 2)
        entries.fail('did not recover', `${name}: ${second.hits} hits on the next calls`);
      else entries.note('miss, then cached again');
    }

    const crafted = new Check('entries with crafted v8 payloads', 'redis');
    for (const { name, bytes } of craftedValues()) {
      const prefix = await seeded(place);
      for (const key of await keys(client, prefix, '{}e:*')) {
        const blob = await client.getBuffer(key);
        if (blob !== null) await client.set(key, Buffer.concat([header(blob), Buffer.from('\n'), bytes]));
      }
      await callAll(crafted, prefix, name, true);
    }

    const types = new Check('keys of the wrong Redis type under the prefix', 'redis');
    const retype: [string, string, (key: string) => Promise<unknown>][] = [
      ['entries as hashes', '{}e:*', (k) => client.del(k).then(() => client.hset(k, 'f', 'v'))],
      ['generations as lists', '{*}g:*', (k) => client.del(k).then(() => client.lpush(k, 'x'))],
      ['floors as sets', '{*}floor', (k) => client.del(k).then(() => client.sadd(k, 'x'))],
      ['clocks as sets', '{*}clock', (k) => client.del(k).then(() => client.sadd(k, 'x'))],
      ['clocks as text', '{*}clock', (k) => client.set(k, 'not a number')],
      ['session index as a string', '{}s:*', (k) => client.del(k).then(() => client.set(k, 'x'))],
    ];
    for (const [name, pattern, change] of retype) {
      const prefix = await seeded(place);
      for (const key of await keys(client, prefix, pattern)) await change(key);
      await callAll(types, prefix, name);
      const second = await callAll(types, prefix, `${name}, called again`);
      types.note(
        second.hits >= 2 * KEYS - 2
          ? 'miss, then cached again'
          : `${name}: runs uncached (backend errors), results correct`,
      );
    }

    const channel = new Check('garbage on the invalidation channel (L1 on)', 'redis');
    const prefix = await seeded(place);
    const l1 = await open(prefix, true);
    try {
      const { read, counts } = tools(l1);
      for (let i = 0; i < KEYS; i++) await channel.call('warm', () => read(i));
      for (const message of [
        'b',
        'bx',
        'b1:',
        'b1:not json',
        'b1:null',
        'b1:{"a":1}',
        'b1:"k"',
        'b1:[1,2]',
        'd',
        's',
        'c',
        'x',
        '\0',
        '😀',
      ]) {
        await client.publish(`${prefix}{}inv`, message);
      }
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < KEYS; i++) {
        const got = await channel.call('after garbage', () => read(i));
        channel.cases++;
        if (got !== undefined && !isDeepStrictEqual(got.value, expected(i)))
          channel.fail('served altered', `key ${i}`);
      }
      // Still coherent: a write through another backend instance reaches this one's L1.
      const other = await open(prefix);
      const { write } = tools(other);
      await write();
      await new Promise((r) => setTimeout(r, 100));
      const before = counts.runs;
      await channel.call('after a write elsewhere', () => read(0));
      if (counts.runs === before)
        channel.fail('L1 stale after garbage', 'a later invalidation was not applied');
    } finally {
      await l1.close();
    }
    return [entries, crafted, types, channel];
  } finally {
    client.disconnect();
    for (const backend of opened.values()) await backend.close();
    opened.clear();
  }
}
