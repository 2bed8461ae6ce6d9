/**
 * The contract every backend passes: `backendContract(name, makeBackend)` registers the suite with vitest. A
 * third-party backend can run it too. Each test gets a fresh, empty backend and closes it afterwards.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BackendEntry } from '../../src/backends/contract.js';
import { configure, type Logger } from '../../src/index.js';

export interface ContractCapabilities {
  /** The backend bounds its entry count itself (`maxEntries`, LRU). Redis leaves that to its maxmemory policy. */
  readonly evicts: boolean;
  /** Values are copied through the serializer (persistent backends); the memory backend keeps references. */
  readonly serializes: boolean;
  /** Calls after close() fail clearly (every backend of this project does). */
  readonly failsAfterClose: boolean;
}

export interface MakeOptions {
  /** Set by the eviction test: the backend must hold at most this many entries. */
  readonly maxEntries?: number;
}

export type MakeBackend = (options: MakeOptions) => Backend | Promise<Backend>;

const entry = (
  value: unknown,
  tags: readonly string[],
  gens: readonly number[],
  extra: Partial<BackendEntry> = {},
) => ({ value, expiresAt: 0, tags, gens, ...extra }) as BackendEntry;

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

export function backendContract(name: string, make: MakeBackend, caps: ContractCapabilities): void {
  describe(`${name}: backend contract`, () => {
    let backend: Backend;
    const opened: Backend[] = [];
    const open = async (options: MakeOptions = {}) => {
      const b = await make(options);
      opened.push(b);
      return b;
    };
    beforeEach(async () => {
      backend = await open();
    });
    afterEach(async () => {
      for (const b of opened.splice(0)) await b.close();
    });

    it('misses on an unknown key', async () => {
      expect(await backend.get('nope')).toBeUndefined();
      expect(await backend.get('nope', { stale: true })).toBeUndefined();
    });

    it('stores and returns an entry with its metadata', async () => {
      const tags = ['t:tool', 'r:cart'];
      const gens = await backend.generations(tags);
      expect(gens).toHaveLength(2);
      const expiresAt = Date.now() + 60_000;
      expect(await backend.set('k', entry({ a: 1 }, tags, gens, { expiresAt, sessionId: 'S' }))).toBe(true);
      const got = await backend.get('k');
      expect(got?.value).toEqual({ a: 1 });
      expect(got?.expiresAt).toBe(expiresAt);
      expect([...(got?.tags ?? [])]).toEqual(tags);
      expect([...(got?.gens ?? [])]).toEqual([...gens]);
      expect(got?.sessionId).toBe('S');
    });

    it('keeps when an entry was made and what producing it cost', async () => {
      const createdAt = Date.now() - 5_000;
      await backend.set('k', entry('v', [], [], { createdAt, durationMs: 12.5 }));
      const got = await backend.get('k');
      expect(got?.createdAt).toBe(createdAt);
      expect(got?.durationMs).toBe(12.5);
      const stale = await backend.get('k', { stale: true });
      expect(stale?.durationMs).toBe(12.5);
    });

    it('replaces an entry under the same key', async () => {
      await backend.set('k', entry(1, [], []));
      await backend.set('k', entry(2, [], []));
      expect((await backend.get('k'))?.value).toBe(2);
    });

    it('round-trips the values the serializer promises', async () => {
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
      expect(await backend.set('v', entry(value, [], []))).toBe(true);
      const got = (await backend.get('v'))?.value as typeof value;
      expect(got).toEqual(value);
      expect(got.date).toBeInstanceOf(Date);
      expect(got.map).toBeInstanceOf(Map);
      expect(got.set).toBeInstanceOf(Set);
      expect(typeof got.big).toBe('bigint');
      expect(got.bytes).toBeInstanceOf(Uint8Array);
      expect(got.floats).toBeInstanceOf(Float64Array);
      expect('undef' in got).toBe(true);
      expect(Object.is(got.negZero, -0)).toBe(true);
      // `undefined` itself is a value, distinct from a miss.
      expect(await backend.set('u', entry(undefined, [], []))).toBe(true);
      const u = await backend.get('u');
      expect(u).toBeDefined();
      expect(u?.value).toBeUndefined();
    });

    if (caps.serializes) {
      it('refuses a value it cannot serialize, with a warning, and keeps working', async () => {
        const warnings: string[] = [];
        const logger: Logger = { warn: (message) => void warnings.push(message) };
        configure({ logger });
        try {
          expect(
            await backend.set('f', entry({ fn: () => 1 }, ['t:x'], await backend.generations(['t:x']))),
          ).toBe(false);
          expect(await backend.get('f')).toBeUndefined();
          expect(warnings.length).toBe(1);
          expect(warnings[0]).toMatch(/serialize/);
          expect(await backend.set('g', entry(1, [], []))).toBe(true);
        } finally {
          configure({ logger: { warn: (m: string, ...rest: unknown[]) => console.warn(m, ...rest) } });
        }
      });

      it('returns a copy: mutating a result does not change the stored value', async () => {
        const value = { list: [1] };
        await backend.set('c', entry(value, [], []));
        value.list.push(2);
        expect((await backend.get('c'))?.value).toEqual({ list: [1] });
      });
    }

    it('does not serve an expired entry, except to a stale read', async () => {
      await backend.set('old', entry('v', [], [], { expiresAt: Date.now() - 1 }));
      // The stale read first: a backend may drop an entry once a normal read found it expired.
      expect((await backend.get('old', { stale: true }))?.value).toBe('v');
      expect(await backend.get('old')).toBeUndefined();
      await backend.set('new', entry('w', [], [], { expiresAt: Date.now() + 60_000 }));
      expect((await backend.get('new'))?.value).toBe('w');
    });

    it('makes an entry stale when one of its tags is bumped, and only then', async () => {
      const tags = ['t:a', 'r:1'];
      await backend.set('k', entry('v', tags, await backend.generations(tags)));
      await backend.set('other', entry('o', ['t:b'], await backend.generations(['t:b'])));
      await backend.bump(['r:2']);
      expect((await backend.get('k'))?.value).toBe('v');
      await backend.bump(['r:1']);
      expect((await backend.get('k', { stale: true }))?.value).toBe('v');
      expect(await backend.get('k')).toBeUndefined();
      expect((await backend.get('other'))?.value).toBe('o');
    });

    it('advances generations strictly and refuses a write recorded before a bump', async () => {
      const tags = ['t:a', 'r:1'];
      const before = await backend.generations(tags);
      await backend.bump(['r:1']);
      const after = await backend.generations(tags);
      expect(after[0]).toBe(before[0]);
      expect(after[1]!).toBeGreaterThan(before[1]!);
      expect(await backend.set('k', entry('stale', tags, before))).toBe(false);
      expect(await backend.get('k')).toBeUndefined();
      expect(await backend.set('k', entry('fresh', tags, after))).toBe(true);
      expect((await backend.get('k'))?.value).toBe('fresh');
      await backend.bump(['r:1', 'r:1', 't:a']);
      const again = await backend.generations(tags);
      expect(again[0]!).toBeGreaterThan(after[0]!);
      expect(again[1]!).toBeGreaterThan(after[1]!);
    });

    it('never lets a snapshot taken before clear() match again', async () => {
      const tags = ['t:a', 'r:untouched', 'r:bumped'];
      await backend.bump(['r:bumped']);
      const before = await backend.generations(tags);
      await backend.set('k', entry('v', tags, before));
      await backend.clear();
      expect(await backend.get('k')).toBeUndefined();
      expect(await backend.get('k', { stale: true })).toBeUndefined();
      expect(await backend.set('k2', entry('late', tags, before))).toBe(false);
      const after = await backend.generations(tags);
      for (let i = 0; i < tags.length; i++) expect(after[i]!).toBeGreaterThan(before[i]!);
      expect(await backend.set('k3', entry('ok', tags, after))).toBe(true);
      expect((await backend.get('k3'))?.value).toBe('ok');
    });

    it('deletes one entry', async () => {
      await backend.set('a', entry(1, [], []));
      await backend.set('b', entry(2, [], []));
      await backend.delete('a');
      await backend.delete('missing');
      expect(await backend.get('a')).toBeUndefined();
      expect((await backend.get('b'))?.value).toBe(2);
    });

    it('clears one session: its entries and tag generations, nobody else’s', async () => {
      const ids = ['A', 'AB', 'a:b', 'A*', '\ud800', '\ud801'];
      for (const id of ids) {
        const tags = [`s:${id}:r`];
        await backend.set(`k-${id}`, entry(id, tags, await backend.generations(tags), { sessionId: id }));
      }
      await backend.set('global', entry('g', [], []));
      await backend.bump(['s:A:r2'], 'A');
      await backend.clearSession('A');
      await backend.clearSession('\ud800');
      expect(await backend.get('k-A')).toBeUndefined();
      expect(await backend.get('k-\ud800')).toBeUndefined();
      for (const id of ['AB', 'a:b', 'A*', '\ud801']) expect((await backend.get(`k-${id}`))?.value).toBe(id);
      expect((await backend.get('global'))?.value).toBe('g');
    });

    it('keeps keys and tags with any characters apart', async () => {
      for (const key of AWKWARD) {
        const tags = [`tag${key}`];
        expect(await backend.set(key, entry(`v${key}`, tags, await backend.generations(tags)))).toBe(true);
      }
      for (const key of AWKWARD) expect((await backend.get(key))?.value).toBe(`v${key}`);
      await backend.bump(['taga\ud800']);
      expect(await backend.get('a\ud800')).toBeUndefined();
      expect((await backend.get('a\ud801'))?.value).toBe('va\ud801');
      expect([...((await backend.get('a\ud801'))?.tags ?? [])]).toEqual(['taga\ud801']);
    });

    it('answers generations() in order, the same for a tag never bumped', async () => {
      const [a, b] = await backend.generations(['x', 'y']);
      expect(a).toBe(b);
      await backend.bump(['y']);
      const [a2, b2, a3] = await backend.generations(['x', 'y', 'x']);
      expect(a2).toBe(a);
      expect(a3).toBe(a);
      expect(b2!).toBeGreaterThan(b!);
      expect(await backend.generations([])).toEqual([]);
    });

    if (caps.evicts) {
      it('evicts the least recently used entries beyond maxEntries', async () => {
        const small = await open({ maxEntries: 3 });
        for (const k of ['a', 'b', 'c']) await small.set(k, entry(k, [], []));
        expect((await small.get('a'))?.value).toBe('a'); // a is now more recent than b
        await small.set('d', entry('d', [], []));
        expect(await small.get('b')).toBeUndefined();
        for (const k of ['a', 'c', 'd']) expect((await small.get(k))?.value).toBe(k);
      });
    }

    it('stores concurrently written entries without mixing them up', async () => {
      const n = 50;
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const tags = [`r:${i % 5}`];
          return backend.set(`k${i}`, entry({ i }, tags, await backend.generations(tags)));
        }),
      );
      for (let i = 0; i < n; i++) expect((await backend.get(`k${i}`))?.value).toEqual({ i });
    });

    it('agrees with a model of generations on any sequence of snapshots, stores, bumps, deletes and clears', async () => {
      const TAGS = ['t:a', 't:b', 'r:x', 'r:\ud800'];
      const KEYS = ['k1', 'k2', 'k\ud800'];
      const tagSet = fc.subarray(TAGS, { minLength: 0, maxLength: 3 });
      const op = fc.oneof(
        fc.record({ kind: fc.constant('snapshot' as const), tags: tagSet }),
        fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...KEYS), snap: fc.nat() }),
        fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom(...KEYS) }),
        fc.record({ kind: fc.constant('bump' as const), tags: tagSet }),
        fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
        fc.record({ kind: fc.constant('clear' as const) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
          const b = await open();
          // The model: a version per tag, and an epoch that clear() moves (every older snapshot is dead).
          const version = new Map<string, number>();
          let epoch = 0;
          type Snap = { tags: string[]; gens: readonly number[]; versions: number[]; epoch: number };
          const snaps: Snap[] = [];
          const stored = new Map<string, { snap: Snap; value: number }>();
          // An entry without tags depends on nothing, so not even clear() can make its snapshot old.
          const current = (snap: Snap) =>
            snap.tags.length === 0 ||
            (snap.epoch === epoch && snap.tags.every((t, i) => (version.get(t) ?? 0) === snap.versions[i]));
          let n = 0;
          for (const o of ops) {
            if (o.kind === 'snapshot') {
              snaps.push({
                tags: o.tags,
                gens: await b.generations(o.tags),
                versions: o.tags.map((t) => version.get(t) ?? 0),
                epoch,
              });
            } else if (o.kind === 'set' && snaps.length > 0) {
              const snap = snaps[o.snap % snaps.length]!;
              const value = ++n;
              const ok = await b.set(o.key, entry(value, snap.tags, snap.gens));
              expect(ok).toBe(current(snap));
              if (ok) stored.set(o.key, { snap, value });
            } else if (o.kind === 'get') {
              const model = stored.get(o.key);
              const expected = model !== undefined && current(model.snap) ? model.value : undefined;
              expect((await b.get(o.key))?.value).toBe(expected);
            } else if (o.kind === 'bump') {
              await b.bump(o.tags);
              for (const t of new Set(o.tags)) version.set(t, (version.get(t) ?? 0) + 1);
            } else if (o.kind === 'delete') {
              await b.delete(o.key);
              stored.delete(o.key);
            } else if (o.kind === 'clear') {
              await b.clear();
              epoch++;
              version.clear();
              stored.clear();
            }
          }
        }),
        { numRuns: 25 },
      );
    });

    it.runIf(caps.failsAfterClose)('fails clearly after close()', async () => {
      const b = await open();
      await b.close();
      await b.close(); // idempotent
      await expect(async () => b.get('k')).rejects.toThrow(/closed/);
      await expect(async () => b.set('k', entry(1, [], []))).rejects.toThrow(/closed/);
    });
  });
}
