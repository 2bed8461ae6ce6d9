import { beforeEach, describe, expect, it } from 'vitest';
import { AgentCache, AgentCacheInvalidator, getMetrics } from '../../src/index.js';
import { deferred, flush } from '../helpers/deferred.js';
import { freshCache } from '../helpers/fresh.js';

describe('single flight', () => {
  beforeEach(() => {
    freshCache();
  });

  it('runs N concurrent identical misses once; the others count as hits and coalesced', async () => {
    let calls = 0;
    const gate = deferred();
    const slow = AgentCache({ resource: 'doc' })(async function slowDoc(id: string) {
      calls++;
      await gate.promise;
      return { id };
    });
    const pending = Array.from({ length: 5 }, () => slow('d1'));
    await flush();
    gate.resolve();
    const results = await Promise.all(pending);
    expect(calls).toBe(1);
    for (const r of results) expect(r).toBe(results[0]);
    expect(getMetrics()).toMatchObject({ misses: 1, hits: 4, coalesced: 4 });
  });

  it('a rejection reaches every waiter and is not stored', async () => {
    let calls = 0;
    const gate = deferred();
    const failing = AgentCache()(async function failingOnce() {
      calls++;
      await gate.promise;
      if (calls === 1) throw new Error('upstream 503');
      return 'ok';
    });
    const pending = Array.from({ length: 3 }, () => failing());
    await flush();
    gate.resolve();
    const settled = await Promise.allSettled(pending);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(await failing()).toBe('ok');
    expect(calls).toBe(2);
  });

  it('different arguments do not coalesce', async () => {
    let calls = 0;
    const tool = AgentCache()(async function byArg(x: number) {
      calls++;
      await flush();
      return x;
    });
    expect(await Promise.all([tool(1), tool(2), tool(1)])).toEqual([1, 2, 1]);
    expect(calls).toBe(2);
  });

  it('a read that starts after a write completed never joins an execution that began before it (race b)', async () => {
    let version = 1;
    const releaseOld = deferred();
    let calls = 0;
    const read = AgentCache({ resource: 'doc' })(async function readDoc() {
      calls++;
      const seen = version;
      if (calls === 1) await releaseOld.promise; // the pre-write execution is slow
      return seen;
    });
    const write = AgentCacheInvalidator({ resource: 'doc' })(async function writeDoc() {
      version++;
    });
    const before = read(); // starts before the write, sees version 1
    await flush();
    await write(); // completed
    const after = read(); // must not join `before`
    await flush();
    releaseOld.resolve();
    expect(await before).toBe(1);
    expect(await after).toBe(2);
    expect(calls).toBe(2);
    // And the pre-write result was not stored: the next read is the post-write value.
    expect(await read()).toBe(2);
  });
});

describe('single flight and recursion', () => {
  beforeEach(() => {
    freshCache();
  });

  it('a tool that calls itself with the same arguments after an await does not wait for itself', async () => {
    let calls = 0;
    // (The inner function has another name: inside `function walk`, `walk` would be the raw function.)
    const walk: (depth: number) => Promise<number> = AgentCache({ name: 'walk' })(async function step(
      depth: number,
    ) {
      calls++;
      await flush();
      // The nested call has the same arguments while calls < 3: it must not join its own ancestor execution.
      return calls < 3 ? walk(depth) : depth;
    });
    const hung = new Promise((resolve) => setTimeout(resolve, 2_000, 'hung')).catch(() => 'hung');
    await expect(Promise.race([walk(7), hung])).resolves.toBe(7);
    expect(calls).toBe(3);
  });
});
