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

describe('single flight and abort', () => {
  beforeEach(() => {
    freshCache();
  });

  /** A tool like the AI SDK's: `execute(input, { abortSignal })`, keyed by its input only. */
  function abortableTool() {
    const runs: { input: string; signal: AbortSignal | undefined }[] = [];
    const gates: (() => void)[] = [];
    const tool = AgentCache({ name: 'searchDocs', key: (input: string) => input })(
      async (input: string, options: { toolCallId: string; abortSignal?: AbortSignal }) => {
        runs.push({ input, signal: options.abortSignal });
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve);
          options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal!.reason), {
            once: true,
          });
        });
        return `results for ${input} (run ${runs.length})`;
      },
    );
    return {
      tool,
      runs,
      release: () => {
        for (const g of gates.splice(0)) g();
      },
    };
  }

  it('a caller that joined is not failed by the first caller’s abort: it runs again', async () => {
    const { tool, runs, release } = abortableTool();
    const first = new AbortController();
    const calls = ['a', 'b', 'c'].map((id, i) =>
      tool('q', { toolCallId: id, abortSignal: i === 0 ? first.signal : new AbortController().signal }),
    );
    const outcomes = Promise.allSettled(calls);
    await flush();
    expect(runs).toHaveLength(1);
    first.abort();
    await flush();
    expect(runs).toHaveLength(2); // one new execution, shared by the two callers that joined
    release();
    const settled = await outcomes;
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: { name: 'AbortError' } });
    expect(settled.slice(1)).toEqual([
      { status: 'fulfilled', value: 'results for q (run 2)' },
      { status: 'fulfilled', value: 'results for q (run 2)' },
    ]);
    expect(getMetrics()).toMatchObject({ misses: 2, hits: 1, coalesced: 1 });
    expect(await tool('q', { toolCallId: 'd' })).toBe('results for q (run 2)'); // stored
  });

  it('recognises a signal passed directly as an argument, and callers without a signal of their own', async () => {
    let runs = 0;
    const gates: (() => void)[] = [];
    const fetchPage = AgentCache({ key: (url: string) => url })(async function fetchPage(
      url: string,
      signal?: AbortSignal,
    ) {
      runs++;
      await new Promise<void>((resolve, reject) => {
        gates.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      return `${url} #${runs}`;
    });
    const controller = new AbortController();
    const aborted = fetchPage('/a', controller.signal).catch((e: unknown) => e);
    const plain = fetchPage('/a');
    await flush();
    controller.abort(new DOMException('user went away', 'AbortError'));
    await flush();
    for (const g of gates.splice(0)) g();
    expect(await aborted).toMatchObject({ name: 'AbortError', message: 'user went away' });
    expect(await plain).toBe('/a #2');
    expect(runs).toBe(2);
  });

  it('a joined caller whose own signal aborts stops waiting; the execution goes on for the others', async () => {
    const { tool, runs, release } = abortableTool();
    const mine = new AbortController();
    const executor = tool('q', { toolCallId: 'a', abortSignal: new AbortController().signal });
    const joined = tool('q', { toolCallId: 'b', abortSignal: mine.signal }).catch((e: unknown) => e);
    const other = tool('q', { toolCallId: 'c' });
    await flush();
    mine.abort();
    expect(await joined).toMatchObject({ name: 'AbortError' });
    release();
    expect(await executor).toBe('results for q (run 1)');
    expect(await other).toBe('results for q (run 1)');
    expect(runs).toHaveLength(1);
  });

  it('an AbortError from a signal it cannot see (held in a closure) also makes the joined callers run again', async () => {
    let runs = 0;
    const controllers: AbortController[] = [];
    const gates: (() => void)[] = [];
    const tool = AgentCache()(async function closureAbort() {
      runs++;
      const controller = new AbortController();
      controllers.push(controller);
      await new Promise<void>((resolve, reject) => {
        gates.push(resolve);
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      return runs;
    });
    const outcomes = Promise.allSettled([tool(), tool()]);
    await flush();
    controllers[0]!.abort();
    await flush();
    for (const g of gates.splice(0)) g();
    const settled = await outcomes;
    expect(settled[0]!.status).toBe('rejected');
    expect(settled[1]).toEqual({ status: 'fulfilled', value: 2 });
  });

  it('any other rejection still reaches every joined caller, once', async () => {
    let runs = 0;
    const gate = deferred();
    const tool = AgentCache({ key: (q: string) => q })(async function failsForAll(
      q: string,
      _options: { signal: AbortSignal },
    ) {
      runs++;
      await gate.promise;
      throw new Error(`upstream 503 for ${q}`);
    });
    const calls = [1, 2, 3].map(() => tool('x', { signal: new AbortController().signal }));
    await flush();
    gate.resolve();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(runs).toBe(1);
  });
});
