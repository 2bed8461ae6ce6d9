/**
 * The cases of the backend contract, as plain async functions asserting with node:assert: no test runner is
 * imported here, so the suite runs under vitest, jest, node:test or mocha alike (backend-contract.ts registers them).
 */
import assert from 'node:assert/strict';
import type { Backend, BackendEntry } from '../backends/contract.js';
import { AgentCacheError } from '../errors.js';
import { checkGenerationsModel } from './generations-model.js';

/** What a backend can do beyond the common contract; each switches the cases that test it on. */
export interface ContractCapabilities {
  /** The backend bounds its entry count itself (`maxEntries`, least recently used evicted first). Default false. */
  readonly evicts?: boolean;
  /**
   * Values are copied through a serializer (a persistent backend): a stored value is a copy, and a value that
   * cannot be serialized (a function) is refused. Default false (values kept by reference, as MemoryBackend does).
   */
  readonly serializes?: boolean;
  /** Calls after close() throw or reject with a `BackendClosedError` (code `E_BACKEND_CLOSED`). Default true. */
  readonly failsAfterClose?: boolean;
}

/** What the suite passes to `makeBackend`. */
export interface MakeOptions {
  /** Set by the eviction case (only with `evicts`): the backend must hold at most this many entries. */
  readonly maxEntries?: number;
}

export interface CaseContext {
  /** A fresh, empty backend made for this case (closed after it). */
  readonly backend: Backend;
  /** Another backend, closed after the case. */
  open(options?: MakeOptions): Promise<Backend>;
  /** A backend that the caller closes itself. */
  openUntracked(options?: MakeOptions): Promise<Backend>;
  /** The seed of the random operation sequences. */
  readonly seed: number;
}

export interface ContractCase {
  readonly name: string;
  /** Registered only when this holds for the backend's capabilities. */
  readonly when?: (caps: Required<ContractCapabilities>) => boolean;
  run(context: CaseContext): Promise<void>;
}

const entry = (
  value: unknown,
  tags: readonly string[],
  gens: readonly number[],
  extra: Partial<BackendEntry> = {},
): BackendEntry => ({ value, expiresAt: 0, tags, gens, ...extra });

/** Keys, tags and session ids the core may produce: any characters, including ill-formed UTF-16. */
const AWKWARD = [
  '',
  ' ',
  '*',
  'a:b',
  '\n',
  '\0',
  'é',
  '😀',
  'a\ud800',
  'a\ud801',
  '\udc00x',
  '"',
  '\\',
  '%s',
];

function greater(actual: number | undefined, than: number | undefined, what: string): void {
  assert.ok(
    typeof actual === 'number' && typeof than === 'number' && actual > than,
    `${what}: expected ${String(actual)} > ${String(than)}`,
  );
}

const storedValue = async (backend: Backend, key: string) => (await backend.get(key))?.value;

export const CASES: readonly ContractCase[] = [
  {
    name: 'misses on an unknown key',
    async run({ backend }) {
      assert.equal(await backend.get('nope'), undefined);
      assert.equal(await backend.get('nope', { stale: true }), undefined);
    },
  },
  {
    name: 'stores and returns an entry with its metadata',
    async run({ backend }) {
      const tags = ['t:tool', 'r:cart'];
      const gens = await backend.generations(tags);
      assert.equal(gens.length, 2, 'generations() answers one generation per tag');
      const expiresAt = Date.now() + 60_000;
      assert.equal(await backend.set('k', entry({ a: 1 }, tags, gens, { expiresAt, sessionId: 'S' })), true);
      const got = await backend.get('k');
      assert.ok(got !== undefined, 'get() finds the entry just stored');
      assert.deepEqual(got.value, { a: 1 });
      assert.equal(got.expiresAt, expiresAt);
      assert.deepEqual([...got.tags], tags);
      assert.deepEqual([...got.gens], [...gens]);
      assert.equal(got.sessionId, 'S');
    },
  },
  {
    name: 'keeps when an entry was made and what producing it cost',
    async run({ backend }) {
      const createdAt = Date.now() - 5_000;
      await backend.set('k', entry('v', [], [], { createdAt, durationMs: 12.5 }));
      const got = await backend.get('k');
      assert.equal(got?.createdAt, createdAt);
      assert.equal(got?.durationMs, 12.5);
      assert.equal((await backend.get('k', { stale: true }))?.durationMs, 12.5);
    },
  },
  {
    name: 'replaces an entry under the same key',
    async run({ backend }) {
      await backend.set('k', entry(1, [], []));
      await backend.set('k', entry(2, [], []));
      assert.equal(await storedValue(backend, 'k'), 2);
    },
  },
  {
    name: 'round-trips Date, Map, Set, bigint, typed arrays, undefined, NaN and -0',
    async run({ backend }) {
      const value = {
        date: new Date(1_700_000_000_123),
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, { deep: [1n] }],
        ]),
        set: new Set([1, 'two', 3n]),
        big: 2n ** 70n,
        bytes: new Uint8Array([0, 1, 255]),
        floats: new Float64Array([1.5, Number.NaN]),
        undef: undefined,
        nan: Number.NaN,
        negZero: -0,
        nested: [undefined, null, { x: undefined }],
      };
      assert.equal(await backend.set('v', entry(value, [], [])), true);
      // Strict deep equality: prototypes (Date, Map, Set, Uint8Array...), `undefined` members and -0 included.
      assert.deepStrictEqual(await storedValue(backend, 'v'), value);
      // `undefined` itself is a value, distinct from a miss.
      assert.equal(await backend.set('u', entry(undefined, [], [])), true);
      const u = await backend.get('u');
      assert.ok(u !== undefined, 'an entry whose value is undefined is found');
      assert.equal(u.value, undefined);
    },
  },
  {
    name: 'refuses a value it cannot serialize, and keeps working',
    when: (caps) => caps.serializes,
    async run({ backend }) {
      const gens = await backend.generations(['t:x']);
      assert.equal(await backend.set('f', entry({ fn: () => 1 }, ['t:x'], gens)), false);
      assert.equal(await backend.get('f'), undefined);
      assert.equal(await backend.set('g', entry(1, [], [])), true);
      assert.equal(await storedValue(backend, 'g'), 1);
    },
  },
  {
    name: 'returns a copy: mutating a stored value or a result changes nothing stored',
    when: (caps) => caps.serializes,
    async run({ backend }) {
      const value = { list: [1] };
      await backend.set('c', entry(value, [], []));
      value.list.push(2);
      const got = (await storedValue(backend, 'c')) as { list: number[] };
      assert.deepEqual(got, { list: [1] });
      got.list.push(3);
      assert.deepEqual(await storedValue(backend, 'c'), { list: [1] });
    },
  },
  {
    name: 'does not serve an expired entry, except to a stale read',
    async run({ backend }) {
      await backend.set('old', entry('v', [], [], { expiresAt: Date.now() - 1 }));
      // The stale read first: a backend may drop an entry once a normal read found it expired.
      assert.equal((await backend.get('old', { stale: true }))?.value, 'v');
      assert.equal(await backend.get('old'), undefined);
      await backend.set('new', entry('w', [], [], { expiresAt: Date.now() + 60_000 }));
      assert.equal(await storedValue(backend, 'new'), 'w');
    },
  },
  {
    name: 'makes an entry stale when one of its tags is bumped, and only then',
    async run({ backend }) {
      const tags = ['t:a', 'r:1'];
      await backend.set('k', entry('v', tags, await backend.generations(tags)));
      await backend.set('other', entry('o', ['t:b'], await backend.generations(['t:b'])));
      await backend.bump(['r:2']);
      assert.equal(await storedValue(backend, 'k'), 'v', 'bumping another tag leaves the entry fresh');
      await backend.bump(['r:1']);
      assert.equal((await backend.get('k', { stale: true }))?.value, 'v', 'a stale read still finds it');
      assert.equal(await backend.get('k'), undefined, 'bumping one of its tags makes it stale');
      assert.equal(await storedValue(backend, 'other'), 'o');
    },
  },
  {
    name: 'advances generations strictly and refuses a write recorded before a bump',
    async run({ backend }) {
      const tags = ['t:a', 'r:1'];
      const before = await backend.generations(tags);
      await backend.bump(['r:1']);
      const after = await backend.generations(tags);
      assert.equal(after[0], before[0], 'a tag not bumped keeps its generation');
      greater(after[1], before[1], 'a bumped tag advances');
      assert.equal(
        await backend.set('k', entry('stale', tags, before)),
        false,
        'a store from before the bump',
      );
      assert.equal(await backend.get('k'), undefined);
      assert.equal(await backend.set('k', entry('fresh', tags, after)), true);
      assert.equal(await storedValue(backend, 'k'), 'fresh');
      await backend.bump(['r:1', 'r:1', 't:a']);
      const again = await backend.generations(tags);
      greater(again[0], after[0], 'the second bump of t:a');
      greater(again[1], after[1], 'the second bump of r:1');
    },
  },
  {
    name: 'never lets a snapshot taken before clear() match again',
    async run({ backend }) {
      const tags = ['t:a', 'r:untouched', 'r:bumped'];
      await backend.bump(['r:bumped']);
      const before = await backend.generations(tags);
      await backend.set('k', entry('v', tags, before));
      await backend.clear();
      assert.equal(await backend.get('k'), undefined);
      assert.equal(await backend.get('k', { stale: true }), undefined);
      assert.equal(
        await backend.set('k2', entry('late', tags, before)),
        false,
        'a store from before clear()',
      );
      const after = await backend.generations(tags);
      for (const [i, tag] of tags.entries())
        greater(after[i], before[i], `the generation of ${tag} after clear()`);
      assert.equal(await backend.set('k3', entry('ok', tags, after)), true);
      assert.equal(await storedValue(backend, 'k3'), 'ok');
    },
  },
  {
    name: 'deletes one entry',
    async run({ backend }) {
      await backend.set('a', entry(1, [], []));
      await backend.set('b', entry(2, [], []));
      await backend.delete('a');
      await backend.delete('missing');
      assert.equal(await backend.get('a'), undefined);
      assert.equal(await storedValue(backend, 'b'), 2);
    },
  },
  {
    name: 'clears one session: its entries and tag generations, nobody else’s',
    async run({ backend }) {
      const ids = ['A', 'AB', 'a:b', 'A*', '\ud800', '\ud801'];
      for (const id of ids) {
        const tags = [`s:${id}:r`];
        await backend.set(`k-${id}`, entry(id, tags, await backend.generations(tags), { sessionId: id }));
      }
      await backend.set('global', entry('g', [], []));
      await backend.bump(['s:A:r2'], 'A');
      await backend.clearSession('A');
      await backend.clearSession('\ud800');
      assert.equal(await backend.get('k-A'), undefined);
      assert.equal(await backend.get('k-\ud800'), undefined);
      for (const id of ['AB', 'a:b', 'A*', '\ud801']) {
        assert.equal(
          await storedValue(backend, `k-${id}`),
          id,
          `session ${JSON.stringify(id)} keeps its entry`,
        );
      }
      assert.equal(await storedValue(backend, 'global'), 'g');
    },
  },
  {
    name: 'keeps keys and tags with any characters apart',
    async run({ backend }) {
      for (const key of AWKWARD) {
        const tags = [`tag${key}`];
        assert.equal(await backend.set(key, entry(`v${key}`, tags, await backend.generations(tags))), true);
      }
      for (const key of AWKWARD)
        assert.equal(await storedValue(backend, key), `v${key}`, `key ${JSON.stringify(key)}`);
      await backend.bump(['taga\ud800']);
      assert.equal(await backend.get('a\ud800'), undefined);
      assert.equal(await storedValue(backend, 'a\ud801'), 'va\ud801');
      assert.deepEqual([...((await backend.get('a\ud801'))?.tags ?? [])], ['taga\ud801']);
    },
  },
  {
    name: 'answers generations() in order, the same for a tag never bumped',
    async run({ backend }) {
      const [a, b] = await backend.generations(['x', 'y']);
      assert.equal(a, b, 'two tags never bumped have the same generation');
      await backend.bump(['y']);
      const [a2, b2, a3] = await backend.generations(['x', 'y', 'x']);
      assert.equal(a2, a);
      assert.equal(a3, a);
      greater(b2, b, 'the bumped tag');
      assert.deepEqual([...(await backend.generations([]))], []);
    },
  },
  {
    name: 'evicts the least recently used entries beyond maxEntries',
    when: (caps) => caps.evicts,
    async run({ open }) {
      const small = await open({ maxEntries: 3 });
      for (const k of ['a', 'b', 'c']) await small.set(k, entry(k, [], []));
      assert.equal(await storedValue(small, 'a'), 'a'); // a is now more recent than b
      await small.set('d', entry('d', [], []));
      assert.equal(await small.get('b'), undefined, 'the least recently used entry is evicted');
      for (const k of ['a', 'c', 'd']) assert.equal(await storedValue(small, k), k);
    },
  },
  {
    name: 'stores concurrently written entries without mixing them up',
    async run({ backend }) {
      const n = 50;
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const tags = [`r:${i % 5}`];
          return backend.set(`k${i}`, entry({ i }, tags, await backend.generations(tags)));
        }),
      );
      for (let i = 0; i < n; i++) assert.deepEqual(await storedValue(backend, `k${i}`), { i });
    },
  },
  {
    name: 'agrees with a model of generations on random sequences of snapshots, stores, bumps, deletes and clears',
    async run({ openUntracked, seed }) {
      await checkGenerationsModel(() => openUntracked(), { seed, runs: 25, maxOperations: 25 });
    },
  },
  {
    name: 'fails with BackendClosedError after close(), which may be called twice',
    when: (caps) => caps.failsAfterClose,
    async run({ open }) {
      const b = await open();
      await b.close();
      await b.close(); // idempotent
      const calls: [string, () => unknown][] = [
        ['get', () => b.get('k')],
        ['generations', () => b.generations(['t'])],
        ['set', () => b.set('k', entry(1, [], []))],
        ['bump', () => b.bump(['t'])],
        ['delete', () => b.delete('k')],
        ['clearSession', () => b.clearSession('S')],
        ['clear', () => b.clear()],
      ];
      for (const [method, call] of calls) {
        await assert.rejects(
          async () => call(),
          (error: unknown) => AgentCacheError.isInstance(error) && error.code === 'E_BACKEND_CLOSED',
          `${method}() after close() must throw or reject with a BackendClosedError (code E_BACKEND_CLOSED)`,
        );
      }
    },
  },
];
