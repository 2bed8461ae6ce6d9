/**
 * What a persistent backend keeps of a result: the default serializer warns (once per tool) about shapes it cannot
 * keep, and a `serializer` option lets a user plug their own encode/decode into DiskBackend and RedisBackend.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { lossyShape } from '../../src/backends/lossy-shape.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import {
  AgentCache,
  configure,
  DiskBackend,
  MemoryBackend,
  type Serializer,
  v8Serializer,
} from '../../src/index.js';
import { recordingLogger } from '../helpers/logger.js';
import { dropPrefix, redisOrSkip } from './fixtures/redis.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const redisAvailable = await redisOrSkip('serializer tests on Redis');
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

class Ticket {
  constructor(
    readonly id: string,
    readonly status: string,
  ) {}
  get open(): boolean {
    return this.status === 'open';
  }
  describe(): string {
    return `${this.id} (${this.status})`;
  }
}

/** A serializer that keeps Ticket instances (JSON with a type tag), as a user would write one. */
const ticketSerializer: Serializer = {
  encode: (value) =>
    new TextEncoder().encode(
      JSON.stringify(value, (_key, v: unknown) => (v instanceof Ticket ? { $ticket: [v.id, v.status] } : v)),
    ),
  decode: (bytes) =>
    JSON.parse(new TextDecoder().decode(bytes), (_key, v: { $ticket?: [string, string] }) =>
      v?.$ticket ? new Ticket(...v.$ticket) : v,
    ),
};

type Make = (serializer?: Serializer) => DiskBackend | RedisBackend;
const makers: [string, Make, boolean][] = [
  [
    'DiskBackend',
    (serializer) => {
      const b = new DiskBackend({ path: cacheFile(dir), serializer });
      cleanup.push(() => b.close());
      return b;
    },
    true,
  ],
  [
    'RedisBackend',
    (serializer) => {
      const b = new RedisBackend({ prefix: `agent-cache-serializer:${randomUUID()}:`, serializer });
      cleanup.push(async () => {
        await b.close();
        await dropPrefix(b.prefix);
      });
      return b;
    },
    redisAvailable,
  ],
];

describe.each(makers)('%s', (name, make, available) => {
  it.runIf(available)(
    'warns once per tool when a result holds a class instance, and stores it anyway',
    async () => {
      const logger = recordingLogger();
      configure({ logger });
      const backend = make();
      let runs = 0;
      const getTicket = AgentCache({ name: `getTicket${name}`, backend })(async (id: string) => {
        runs++;
        return { ticket: new Ticket(id, 'open'), fetched: new Date(0) };
      });
      const listTags = AgentCache({ name: `listTags${name}`, backend })(async () => ({
        [Symbol('internal')]: 1,
        tags: ['a'],
      }));
      const plain = AgentCache({ name: `plain${name}`, backend })(async () => ({
        at: new Date(1),
        ids: new Set([1]),
      }));

      await getTicket('T-1');
      await getTicket('T-2');
      const hit = await getTicket('T-1');
      expect(runs).toBe(2); // stored: the second T-1 call is a hit...
      expect(hit.ticket).not.toBeInstanceOf(Ticket); // ...and comes back as a plain object, as the warning says
      expect(hit.ticket).toEqual({ id: 'T-1', status: 'open' });
      await listTags();
      await plain();
      expect(logger.messages).toHaveLength(2);
      expect(logger.messages[0]).toMatch(
        new RegExp(
          `${name} stores a result of "getTicket${name}".*an instance of Ticket at \\$\\.ticket .*serializer`,
        ),
      );
      expect(logger.messages[1]).toMatch(/the symbol key Symbol\(internal\) at \$ is dropped/);
    },
  );

  it.runIf(available)('keeps class instances with a serializer of your own, and does not warn', async () => {
    const logger = recordingLogger();
    configure({ logger });
    const backend = make(ticketSerializer);
    let runs = 0;
    const getTicket = AgentCache({ name: `ownSerializer${name}`, backend })(async (id: string) => {
      runs++;
      return new Ticket(id, 'open');
    });
    await getTicket('T-9');
    const hit = await getTicket('T-9');
    expect(runs).toBe(1);
    expect(hit).toBeInstanceOf(Ticket);
    expect(hit.describe()).toBe('T-9 (open)');
    expect(hit.open).toBe(true);
    expect(logger.messages).toEqual([]);
  });

  it.runIf(available)(
    'a serializer that throws: encode keeps the result out (one warning), decode makes a miss',
    async () => {
      const logger = recordingLogger();
      configure({ logger });
      let failDecode = false;
      const picky: Serializer = {
        encode: (value) => {
          if ((value as { secret?: unknown }).secret !== undefined) throw new Error('refusing secrets');
          return v8Serializer.encode(value);
        },
        decode: (bytes) => {
          if (failDecode) throw new Error('unknown format');
          return v8Serializer.decode(bytes);
        },
      };
      const backend = make(picky);
      let runs = 0;
      const tool = AgentCache({ name: `picky${name}`, backend })(async (kind: string) => {
        runs++;
        return kind === 'secret' ? { secret: 'x' } : { ok: kind };
      });
      expect(await tool('secret')).toEqual({ secret: 'x' });
      expect(await tool('secret')).toEqual({ secret: 'x' });
      expect(runs).toBe(2);
      expect(
        logger.messages.filter((m) => /cannot serialize a result.*refusing secrets/.test(m)),
      ).toHaveLength(1);
      await tool('fine');
      failDecode = true;
      expect(await tool('fine')).toEqual({ ok: 'fine' }); // written by "another" serializer: a miss, never an error
      expect(runs).toBe(4);
    },
  );

  it.runIf(available)(
    'refuses a value it cannot serialize at all, with one warning, and keeps working',
    async () => {
      const logger = recordingLogger();
      configure({ logger });
      const backend = make();
      const gens = await backend.generations(['t:x']);
      expect(await backend.set('f', { value: { fn: () => 1 }, expiresAt: 0, tags: ['t:x'], gens })).toBe(
        false,
      );
      expect(await backend.get('f')).toBeUndefined();
      expect(logger.messages).toHaveLength(1);
      expect(logger.messages[0]).toMatch(new RegExp(`${name} cannot serialize a result`));
      expect(await backend.set('g', { value: 1, expiresAt: 0, tags: [], gens: [] })).toBe(true);
    },
  );

  it('rejects a serializer option that is not one', () => {
    expect(() => make({ encode: () => new Uint8Array() } as unknown as Serializer)).toThrow(
      /option `serializer` must be an object with encode\(value\) => Uint8Array and decode\(bytes\)/,
    );
  });
});

describe('the memory backend keeps results by reference', () => {
  it('never warns about shapes', async () => {
    const logger = recordingLogger();
    configure({ logger });
    const backend = new MemoryBackend();
    const tool = AgentCache({ name: 'memoryTicket', backend })(async () => new Ticket('T', 'open'));
    await tool();
    expect(await tool()).toBeInstanceOf(Ticket);
    expect(logger.messages).toEqual([]);
  });
});

describe('lossyShape', () => {
  it('names the first part v8 serialization would change, with its path', () => {
    expect(lossyShape({ a: [1, { b: new URL('https://x.test') }] })).toMatch(
      /^an instance of URL at \$\.a\[1\]\.b/,
    );
    class Registry extends Map {}
    expect(lossyShape({ r: new Registry() })).toMatch(/an instance of Registry at \$\.r/);
    expect(lossyShape(new Map([['k', { [Symbol.for('s')]: 1 }]]))).toMatch(
      /Symbol\(s\) at \$\.get\(<key 0>\)/,
    );
    expect(lossyShape(Object.assign(Object.create({ inherited: true }), { x: 1 }))).toMatch(
      /an instance of Object|prototype/,
    );
  });

  it('accepts everything structured serialization keeps', () => {
    const value = {
      d: new Date(0),
      r: /x/g,
      m: new Map([[1, new Set([2n])]]),
      bytes: new Uint8Array(4),
      buf: Buffer.from('b'),
      e: new TypeError('t'),
      boxed: new Number(1),
      nothing: undefined,
      nul: Object.create(null) as object,
      list: [1, 'two', null],
    };
    expect(lossyShape(value)).toBeUndefined();
  });

  it('copes with cycles and 100 000-deep nesting without recursion', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(lossyShape(cyclic)).toBeUndefined();
    let deep: { next?: unknown } = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      deep.next = {};
      deep = deep.next as { next?: unknown };
    }
    expect(() => lossyShape(root)).not.toThrow();
  });
});
