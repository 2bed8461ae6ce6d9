/**
 * The exported contract suite itself: it registers with any runner's describe/it, refuses bad input with a clear
 * AgentCacheTypeError, and fails the cases a broken backend breaks (so passing it means something).
 */
import { AgentCacheTypeError, type Backend, MemoryBackend } from 'agent-cache';
import { type BackendContractOptions, backendContract, type MakeBackend } from 'agent-cache/testing';
import { describe, expect, it } from 'vitest';

interface Registered {
  readonly name: string;
  readonly body: () => Promise<void>;
}

/** A test runner that only collects what the suite registers. */
function collect(
  make: MakeBackend,
  options: Omit<BackendContractOptions, 'it' | 'describe'> = {},
): { groups: string[]; tests: Registered[] } {
  const groups: string[] = [];
  const tests: Registered[] = [];
  backendContract('Probe', make, {
    ...options,
    describe: (name, body) => {
      groups.push(name);
      body();
    },
    it: (name, body) => void tests.push({ name, body }),
  });
  return { groups, tests };
}

/** The names of the registered cases that fail, with their errors. */
async function failures(tests: readonly Registered[]): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  for (const t of tests) {
    await t.body().catch((error: unknown) => failed.set(t.name, error));
  }
  return failed;
}

/** MemoryBackend with some methods replaced: a backend with one bug. */
function broken(override: (inner: MemoryBackend) => Partial<Backend>): MakeBackend {
  return ({ maxEntries }) => {
    const inner = new MemoryBackend({ maxEntries });
    const backend: Backend = {
      get: (key, o) => inner.get(key, o),
      generations: (tags) => inner.generations(tags),
      set: (key, e) => inner.set(key, e),
      bump: (tags, sessionId) => inner.bump(tags, sessionId),
      delete: (key) => inner.delete(key),
      clearSession: (sessionId) => inner.clearSession(sessionId),
      clear: () => inner.clear(),
      close: () => inner.close(),
    };
    return { ...backend, ...override(inner) };
  };
}

const sound = broken(() => ({}));

describe('backendContract', () => {
  it('registers its cases under one describe, or prefixed without one', () => {
    const { groups, tests } = collect(sound);
    expect(groups).toEqual(['Probe: backend contract']);
    expect(tests.length).toBeGreaterThan(10);
    const flat: string[] = [];
    backendContract('Flat', sound, { it: (name) => void flat.push(name) });
    expect(flat).toHaveLength(tests.length);
    for (const name of flat) expect(name).toMatch(/^Flat: backend contract: /);
  });

  it('registers the eviction and copy cases only when the backend says it evicts or serializes', () => {
    const names = (o: Omit<BackendContractOptions, 'it' | 'describe'>) =>
      collect(sound, o).tests.map((t) => t.name);
    const plain = names({});
    expect(plain.some((n) => /evicts/.test(n))).toBe(false);
    expect(plain.some((n) => /copy/.test(n))).toBe(false);
    expect(plain.some((n) => /BackendClosedError/.test(n))).toBe(true);
    expect(names({ evicts: true }).some((n) => /evicts/.test(n))).toBe(true);
    expect(names({ serializes: true }).filter((n) => /copy|cannot serialize/.test(n))).toHaveLength(2);
    expect(names({ failsAfterClose: false }).some((n) => /BackendClosedError/.test(n))).toBe(false);
  });

  it('passes on a sound backend', async () => {
    expect([...(await failures(collect(sound, { evicts: true }).tests)).keys()]).toEqual([]);
  });

  it('fails the cases that a backend storing with old generations breaks, naming the seed and a short sequence', async () => {
    const make = broken((inner) => ({
      set: (key, e) => inner.set(key, { ...e, gens: inner.generations(e.tags) }),
    }));
    const failed = await failures(collect(make, { seed: 42 }).tests);
    expect([...failed.keys()]).toEqual([
      'advances generations strictly and refuses a write recorded before a bump',
      'never lets a snapshot taken before clear() match again',
      'agrees with a model of generations on random sequences of snapshots, stores, bumps, deletes and clears',
    ]);
    const model = failed.get([...failed.keys()][2]!) as Error;
    expect(model.message).toMatch(/\(seed 42, run \d+\)/);
    const steps = model.message.match(/^ {2}\d+\. /gm) ?? [];
    // Shrunk: a snapshot, something that makes it old, and the store that should have been refused.
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps.length).toBeLessThanOrEqual(4);
  });

  it('fails the expiry and freshness cases of a backend that serves anything it holds', async () => {
    const make = broken((inner) => ({ get: (key) => inner.get(key, { stale: true }) }));
    const failed = [...(await failures(collect(make).tests)).keys()];
    expect(failed).toContain('does not serve an expired entry, except to a stale read');
    expect(failed).toContain('makes an entry stale when one of its tags is bumped, and only then');
  });

  it('fails the metadata case of a backend that forgets what an entry cost', async () => {
    const make = broken((inner) => ({ set: (key, { durationMs: _, ...e }) => inner.set(key, e) }));
    const failed = [...(await failures(collect(make).tests)).keys()];
    expect(failed).toEqual(['keeps when an entry was made and what producing it cost']);
  });

  it('fails a backend that answers after close() instead of throwing BackendClosedError', async () => {
    const make = broken((inner) => ({
      get: (key, o) => {
        try {
          return inner.get(key, o);
        } catch {
          return undefined;
        }
      },
    }));
    const failed = await failures(collect(make).tests);
    expect([...failed.keys()]).toEqual([
      'fails with BackendClosedError after close(), which may be called twice',
    ]);
    expect(String(failed.values().next().value)).toMatch(
      /get\(\) after close\(\) must throw or reject with a BackendClosedError/,
    );
  });

  it('fails the copy case of a "serializing" backend that keeps references', async () => {
    const failed = [...(await failures(collect(sound, { serializes: true }).tests)).keys()];
    expect(failed).toEqual([
      'refuses a value it cannot serialize, and keeps working',
      'returns a copy: mutating a stored value or a result changes nothing stored',
    ]);
  });

  it('refuses bad input with an AgentCacheTypeError naming it', () => {
    const noop = () => {};
    const bad = (fn: () => void, message: RegExp) => {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AgentCacheTypeError);
      expect((error as AgentCacheTypeError).code).toBe('E_INVALID_ARGUMENT');
      expect((error as Error).message).toMatch(message);
    };
    const call =
      (...args: unknown[]) =>
      () =>
        (backendContract as (...a: unknown[]) => void)(...args);
    bad(call('', sound, { it: noop }), /first argument must be the backend's name/);
    bad(call('X', {}, { it: noop }), /second argument must be a function making a backend, got object/);
    bad(call('X', sound), /third argument must be an object with the test runner's `it`/);
    bad(
      call('X', sound, { describe: noop }),
      /option `it` must be the test runner's it\(\) or test\(\) function, got undefined/,
    );
    bad(
      call('X', sound, { it: noop, describe: 'd' }),
      /option `describe` must be the test runner's describe\(\)/,
    );
    bad(call('X', sound, { it: noop, evicts: 'yes' }), /option `evicts` must be a boolean, got string/);
    bad(call('X', sound, { it: noop, seed: 1.5 }), /option `seed` must be an integer, got 1.5/);
  });

  it('fails each case clearly when makeBackend returns something that is not a backend', async () => {
    const { tests } = collect(() => ({ get: () => undefined }) as unknown as Backend);
    const error = await tests[0]!.body().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentCacheTypeError);
    expect((error as Error).message).toBe(
      'backendContract(Probe): makeBackend() returned object, not a Backend: it has no generations, set, bump, delete, clearSession, clear, close methods',
    );
  });
});
