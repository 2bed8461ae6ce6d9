import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  configure,
  flushInvalidations,
  getMetrics,
  InvalidationUnrecordedError,
  invalidateResource,
  MemoryBackend,
  pendingInvalidations,
} from '../../src/index.js';
import { deferred, flush } from '../helpers/deferred.js';
import { type Fault, FaultyBackend } from '../helpers/faulty-backend.js';
import { freshCache } from '../helpers/fresh.js';

const made: FaultyBackend[] = [];
function faulty(options: { async?: boolean } = {}): FaultyBackend {
  const backend = new FaultyBackend();
  backend.async = options.async ?? false;
  made.push(backend);
  return backend;
}

/** A read tool and a write tool of one resource over a source of truth, on `backend`. */
function cart(backend: FaultyBackend, options: { strict?: boolean | { timeout: number } } = {}) {
  const db = { version: 1, reads: 0 };
  const read = AgentCache({ resource: 'cart', backend })(async function readCart() {
    db.reads++;
    return db.version;
  });
  const write = AgentCacheInvalidator({ resource: 'cart', backend, strict: options.strict })(
    async function writeCart(version: number) {
      db.version = version;
      return version;
    },
  );
  return { db, read, write };
}

let logger: ReturnType<typeof freshCache>['logger'];
beforeEach(() => {
  ({ logger } = freshCache());
});

afterEach(async () => {
  vi.useRealTimers();
  for (const b of made) b.heal();
  expect(await flushInvalidations({ timeout: 5_000 })).toBe(true);
  for (const b of made.splice(0)) await b.close();
});

describe.each<[string, Fault, boolean]>([
  ['thrown synchronously', 'throw', false],
  ['rejected asynchronously', 'reject', true],
])('an invalidation the backend could not record (%s)', (_name, fault, async) => {
  it('the mutation runs; this process neither serves nor stores the old entry until it is recorded', async () => {
    const backend = faulty({ async });
    const { db, read, write } = cart(backend);
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    expect(db.reads).toBe(1);

    backend.fail(['bump'], fault); // reads still work: like a SQLite file whose write lock is held elsewhere
    expect(await write(2)).toBe(2);
    expect(db.version).toBe(2);
    expect(pendingInvalidations()).toMatchObject({ count: 1, backends: 1 });
    expect(logger.messages.join('\n')).toMatch(
      /could not invalidate in a backend; the invalidation stays pending/,
    );

    // The backend still holds version 1 as fresh, but it is never served, and nothing new is stored.
    backend.log.length = 0;
    expect(await read()).toBe(2);
    expect(await read()).toBe(2);
    expect(db.reads).toBe(3);
    expect(backend.log.filter((l) => l.startsWith('set'))).toEqual([]);
    expect(getMetrics().bypassed).toBe(2);

    // Recovery: the retry records it before anything of that resource is served again.
    backend.heal();
    expect(await flushInvalidations({ timeout: 2_000 })).toBe(true);
    expect(pendingInvalidations()).toEqual({ count: 0, backends: 0, oldestMs: 0 });
    expect(backend.log.some((l) => l.startsWith('bump'))).toBe(true);
    expect(await read()).toBe(2); // the old entry is stale in the backend now: a miss, stored
    expect(await read()).toBe(2);
    expect(db.reads).toBe(4);
  });
});

describe('pending invalidations', () => {
  it('are retried in the background and written before the first hit after recovery', async () => {
    const infos: string[] = [];
    configure({ logger: { warn: () => {}, info: (message: string) => void infos.push(message) } });
    const backend = faulty({ async: true });
    const { read, write } = cart(backend);
    await read();
    backend.fail(['bump'], 'reject');
    await write(2);
    backend.heal();
    backend.log.length = 0;
    // No flush: the background retry alone must record it (first retry after ~50 ms).
    for (let i = 0; i < 200 && pendingInvalidations().count > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(pendingInvalidations().count).toBe(0);
    await read();
    await read();
    const firstBump = backend.log.findIndex((l) => l.startsWith('bump'));
    const firstHit = backend.log.findIndex((l) => l.endsWith(' hit'));
    expect(firstBump).toBeGreaterThanOrEqual(0);
    expect(firstHit).toBeGreaterThan(firstBump);
    expect(infos.join('\n')).toMatch(/recorded every pending invalidation after \d+ ms/);
  });

  it('only hold back the affected resources, and only in the backend that failed', async () => {
    const backend = faulty();
    const healthy = new MemoryBackend();
    let runs = 0;
    const readCart = AgentCache({ resource: 'cart', backend })(async function cartOf() {
      runs++;
      return 'cart';
    });
    const readUser = AgentCache({ resource: 'user', backend })(async function userOf() {
      runs++;
      return 'user';
    });
    const readCartElsewhere = AgentCache({ resource: 'cart', backend: healthy })(
      async function cartHealthy() {
        runs++;
        return 'cart2';
      },
    );
    await Promise.all([readCart(), readUser(), readCartElsewhere()]);
    backend.fail(['bump'], 'throw');
    await invalidateResource('cart');
    runs = 0;
    await readUser();
    await readCartElsewhere(); // invalidated for real in the healthy backend: one miss, then hits
    await readCartElsewhere();
    expect(runs).toBe(1);
    await readCart();
    await readCart();
    expect(runs).toBe(3);
    await healthy.close();
  });

  it('an answer to a lookup issued while pending is not served if the backend recovered meanwhile', async () => {
    const backend = faulty({ async: true });
    const { db, read, write } = cart(backend);
    await read();
    backend.fail(['bump'], 'reject');
    await write(2);
    // A slow lookup: issued now (pending), answered after the invalidation was recorded.
    const answer = deferred();
    const get = backend.get.bind(backend);
    backend.get = (key, options) => answer.promise.then(() => get(key, options));
    const racing = read();
    backend.heal();
    expect(await flushInvalidations()).toBe(true);
    answer.resolve();
    expect(await racing).toBe(2);
    expect(db.reads).toBe(2);
  });

  it('a call does not join an execution that started before an invalidation that could not be recorded', async () => {
    const backend = faulty();
    let version = 1;
    const releaseOld = deferred();
    const read = AgentCache({ resource: 'doc', backend })(async function readDoc() {
      const seen = version;
      if (seen === 1) await releaseOld.promise;
      return seen;
    });
    const write = AgentCacheInvalidator({ resource: 'doc', backend })(async function writeDoc() {
      version = 2;
    });
    const old = read();
    await flush();
    backend.fail(['bump'], 'throw');
    await write();
    const after = read(); // same generations as the old execution (the bump failed): must not join it
    expect(await after).toBe(2);
    releaseOld.resolve();
    expect(await old).toBe(1);
    backend.heal();
    expect(await flushInvalidations()).toBe(true);
    expect(await read()).toBe(2); // the old execution did not store its stale result either
  });

  it('a read that finished during the outage does not store; nor does one that overlapped the write', async () => {
    const backend = faulty();
    let version = 1;
    const release = deferred();
    const read = AgentCache({ resource: 'doc', backend })(async function slowDoc() {
      const seen = version;
      await release.promise;
      return seen;
    });
    const write = AgentCacheInvalidator({ resource: 'doc', backend })(async function setDoc() {
      version = 2;
    });
    const overlapping = read();
    await flush();
    backend.fail(['bump'], 'throw');
    await write();
    release.resolve();
    expect(await overlapping).toBe(1); // it started before the write completed: it may see the old value...
    backend.heal();
    expect(await flushInvalidations()).toBe(true);
    expect(backend.log.filter((l) => l.startsWith('set'))).toEqual([]); // ...but never stores it
    expect(await read()).toBe(2);
  });

  it('a failed drop of one entry (tool.invalidate) and a failed tool.clear() stay pending too', async () => {
    const backend = faulty();
    let runs = 0;
    const read = AgentCache({ backend })(async function lookup(id: string) {
      runs++;
      return `${id}:${runs}`;
    });
    await read('a');
    await read('b');
    backend.fail(['delete', 'bump'], 'throw');
    await read.invalidate('a');
    expect(pendingInvalidations().count).toBe(1);
    runs = 10;
    expect(await read('a')).toBe('a:11'); // not served although the backend still holds it
    expect(await read('b')).toBe('b:2'); // another key of the same tool: served
    await read.clear();
    expect(pendingInvalidations().count).toBe(2);
    expect(await read('b')).toBe('b:12');
    backend.heal();
    expect(await flushInvalidations()).toBe(true);
    expect(await read('b')).toBe('b:13');
    expect(await read('b')).toBe('b:13');
  });

  it('a session-scoped invalidation is retried with its session', async () => {
    const backend = faulty();
    let runs = 0;
    const read = AgentCache({ resource: 'notes', scope: 'session', backend })(async function notes() {
      return ++runs;
    });
    const write = AgentCacheInvalidator({ resource: 'notes', scope: 'session', backend })(
      async function addNote() {},
    );
    const session = new AgentCacheSession();
    await session.run(async () => {
      expect(await read()).toBe(1);
      backend.fail(['bump'], 'throw');
      await write();
      expect(await read()).toBe(2);
      backend.heal();
      expect(await flushInvalidations()).toBe(true);
      expect(await read()).toBe(3);
      expect(await read()).toBe(3);
    });
    await session.end();
    expect(backend.inner.sessionCount).toBe(0); // the retried bump was recorded under the session: ended with it
  });

  it('a backend that never answers an invalidation counts as failed after a bound', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const backend = faulty();
    const { read, write } = cart(backend);
    await read();
    backend.fail(['bump'], 'hang');
    const writing = write(2);
    await vi.advanceTimersByTimeAsync(5_000); // the bump before the mutation
    await vi.advanceTimersByTimeAsync(5_000); // and the one after it
    expect(await writing).toBe(2);
    expect(pendingInvalidations().count).toBe(1);
    backend.heal(); // the retry that hangs too is given up after the same bound, and the next one records it
    await vi.advanceTimersByTimeAsync(7_000);
    expect(pendingInvalidations().count).toBe(0);
    vi.useRealTimers();
  });

  it('while a backend is failing, writes do not wait for it again: they are pending at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const backend = faulty();
    const { db, write } = cart(backend);
    backend.fail(['bump'], 'hang');
    const first = write(2);
    await vi.advanceTimersByTimeAsync(5_000); // the first invalidation waits for the bound, once
    expect(await first).toBe(2);
    let done = false;
    const second = write(3).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(0); // no time passes: neither of its invalidations waits
    expect(done).toBe(true);
    await second;
    expect(db.version).toBe(3);
    expect(pendingInvalidations().count).toBe(1);
    backend.heal();
    await vi.advanceTimersByTimeAsync(12_000);
    expect(pendingInvalidations().count).toBe(0);
    vi.useRealTimers();
  });

  it('a success issued before a failure never clears that failure, even across two outages', async () => {
    const backend = faulty({ async: true });
    const { read } = cart(backend);
    await read();
    backend.fail(['bump'], 'reject');
    await invalidateResource('cart'); // first outage
    // An invalidation issued during the outage, whose answer comes late (a slow success).
    const late = deferred();
    const bump = backend.bump.bind(backend);
    backend.bump = (tags, sessionId) => late.promise.then(() => bump(tags, sessionId));
    await invalidateResource('cart');
    backend.bump = bump;
    backend.heal();
    // The retry records both; the outage ends while the slow one is still on its way.
    expect(await flushInvalidations()).toBe(true);
    backend.fail(['bump'], 'reject');
    await invalidateResource('cart'); // a second outage, with a failure after the slow one was issued
    late.resolve();
    await flush();
    expect(pendingInvalidations().count).toBe(1);
    expect(await read()).toBe(1); // still held back: run uncached
    expect(backend.log.filter((l) => l.startsWith('set'))).toHaveLength(1); // the first miss only
  });

  it('a closed backend leaves nothing pending', async () => {
    const backend = faulty();
    const { write } = cart(backend);
    await backend.close();
    expect(await write(2)).toBe(2);
    expect(pendingInvalidations().count).toBe(0);
  });

  it('beyond 100 000 marks a backend is wholly pending, and recovers with clear()', async () => {
    const backend = faulty();
    const many = Array.from({ length: 100_001 }, (_, i) => `r${i}`);
    let runs = 0;
    const other = AgentCache({ resource: 'other', backend })(async function otherRead() {
      return ++runs;
    });
    await other();
    backend.fail(['bump'], 'throw');
    await invalidateResource(many);
    expect(await other()).toBe(2); // a resource never invalidated is held back too
    backend.heal();
    backend.log.length = 0;
    expect(await flushInvalidations()).toBe(true);
    expect(backend.log).toContain('clear');
    expect(await other()).toBe(3);
    expect(await other()).toBe(3);
  });
});

describe('strict writes', () => {
  it('do not run the mutation when the invalidation before it cannot be recorded in time', async () => {
    const backend = faulty({ async: true });
    const { db, read, write } = cart(backend, { strict: { timeout: 100 } });
    await read();
    backend.fail(['bump'], 'reject');
    const error = await write(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidationUnrecordedError);
    expect(error).toMatchObject({ code: 'E_INVALIDATION_UNRECORDED', phase: 'before', resources: ['cart'] });
    expect(db.version).toBe(1);
  });

  it('wait for the retry when the backend comes back within the timeout', async () => {
    const backend = faulty({ async: true });
    const { db, write } = cart(backend, { strict: { timeout: 3_000 } });
    backend.fail(['bump'], 'reject');
    setTimeout(() => backend.heal(), 150);
    expect(await write(2)).toBe(2);
    expect(db.version).toBe(2);
    expect(pendingInvalidations().count).toBe(0);
  });

  it('report a mutation that ran when the invalidation after it cannot be recorded, with its outcome', async () => {
    const backend = faulty({ async: true });
    let calls = 0;
    const write = AgentCacheInvalidator({ resource: 'cart', backend, strict: { timeout: 100 } })(
      async function strictWrite() {
        calls++;
        backend.fail(['bump'], 'reject'); // Redis goes away during the mutation
        return 'done';
      },
    );
    const error = (await write().catch((e: unknown) => e)) as InvalidationUnrecordedError;
    expect(error).toBeInstanceOf(InvalidationUnrecordedError);
    expect(error.phase).toBe('after');
    expect(error.outcome).toEqual({ status: 'fulfilled', value: 'done' });
    expect(calls).toBe(1);
  });

  it('invalidateResource can be strict too', async () => {
    const backend = faulty({ async: true });
    const { read } = cart(backend);
    await read(); // the backend is in use: invalidations reach it
    backend.fail(['bump'], 'reject');
    const error = await invalidateResource('cart', { strict: { timeout: 50 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidationUnrecordedError);
    backend.heal();
    await expect(invalidateResource('cart', { strict: true })).resolves.toBeUndefined();
  });

  it('reject a bad strict option at wrap time', () => {
    expect(() => AgentCacheInvalidator({ resource: 'x', strict: { timeout: -1 } })).toThrow(/strict/);
    expect(() => AgentCacheInvalidator({ resource: 'x', strict: 'yes' as never })).toThrow(TypeError);
  });
});
