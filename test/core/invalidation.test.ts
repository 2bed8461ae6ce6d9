import { beforeEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  getMetrics,
  invalidateResource,
  MemoryBackend,
} from '../../src/index.js';
import { deferred, flush } from '../helpers/deferred.js';
import { freshCache } from '../helpers/fresh.js';

describe('AgentCacheInvalidator: write tools', () => {
  let db: { cart: string[] };
  let reads: number;
  let getCart: (userId: string) => Promise<string[]>;
  let addToCart: (userId: string, item: string) => Promise<number>;

  beforeEach(() => {
    freshCache();
    db = { cart: [] };
    reads = 0;
    getCart = AgentCache({ resource: 'cart' })(async function getCart(_userId: string) {
      reads++;
      return [...db.cart];
    });
    addToCart = AgentCacheInvalidator({ resource: 'cart' })(async function addToCart(
      _userId: string,
      item: string,
    ) {
      db.cart.push(item);
      return db.cart.length;
    });
  });

  it('invalidates the reads of its resource, and passes its result through', async () => {
    await getCart('u1');
    await getCart('u1');
    expect(reads).toBe(1);
    expect(await addToCart('u1', 'laptop')).toBe(1);
    expect(await getCart('u1')).toEqual(['laptop']);
    expect(reads).toBe(2);
    expect(getMetrics().invalidations).toBe(1);
    expect(getMetrics().tools.addToCart?.invalidations).toBe(1);
  });

  it('invalidates before the mutation runs, even when the mutation throws; the error passes through', async () => {
    const failingWrite = AgentCacheInvalidator({ resource: 'cart' })(async function failingWrite() {
      // While the mutation runs, the old entry is already stale: this read runs the function.
      const readsBefore = reads;
      const during = await getCart('u1');
      expect(reads).toBe(readsBefore + 1);
      expect(during).toEqual([]);
      throw new TypeError('payment declined');
    });
    await getCart('u1');
    await expect(failingWrite()).rejects.toThrow(TypeError);
    await expect(failingWrite()).rejects.toThrow('payment declined');
    expect(getMetrics().errors).toBe(2);
  });

  it('does not touch other resources', async () => {
    let other = 0;
    const getProfile = AgentCache({ resource: 'profile' })(async function getProfile() {
      other++;
      return 'p';
    });
    await getProfile();
    await addToCart('u1', 'x');
    await getProfile();
    expect(other).toBe(1);
  });

  it('a read whose execution overlapped the mutation does not store its result (race a)', async () => {
    const inRead = deferred();
    const release = deferred();
    let version = 1;
    let calls = 0;
    const read = AgentCache({ resource: 'doc' })(async function slowRead() {
      calls++;
      const seen = version; // reads pre-mutation data
      if (calls === 1) {
        inRead.resolve();
        await release.promise;
      }
      return seen;
    });
    const write = AgentCacheInvalidator({ resource: 'doc' })(async function bump() {
      version++;
    });
    const before = read();
    await inRead.promise;
    await write(); // starts and completes while the read is still running
    release.resolve();
    expect(await before).toBe(1); // the caller gets what its function returned
    expect(await read()).toBe(2); // but it was not stored as fresh
    expect(calls).toBe(2);
  });

  it('a read that started during the mutation is not stored either (the second invalidation)', async () => {
    const inWrite = deferred();
    const finishWrite = deferred();
    let version = 1;
    const read = AgentCache({ resource: 'doc' })(async function readDuring() {
      return version;
    });
    const write = AgentCacheInvalidator({ resource: 'doc' })(async function longWrite() {
      inWrite.resolve();
      await finishWrite.promise;
      version++;
    });
    const w = write();
    await inWrite.promise;
    expect(await read()).toBe(1); // read during the write: old data, but must not be stored
    finishWrite.resolve();
    await w;
    expect(await read()).toBe(2);
  });

  it('resource functions tag per argument', async () => {
    let calls = 0;
    const getTicket = AgentCache({ resource: (id) => `ticket:${id as string}` })(async function getTicket(
      id: string,
    ) {
      calls++;
      return id;
    });
    const updateTicket = AgentCacheInvalidator({ resource: (id) => `ticket:${id as string}` })(
      async function updateTicket(_id: string) {},
    );
    await getTicket('T-1');
    await getTicket('T-2');
    await updateTicket('T-1');
    await getTicket('T-1');
    await getTicket('T-2');
    expect(calls).toBe(3);
  });

  it('an entry with several resources is invalidated by any of them', async () => {
    let calls = 0;
    const summary = AgentCache({ resource: ['cart', 'profile'] })(async function summary() {
      return ++calls;
    });
    const editProfile = AgentCacheInvalidator({ resource: 'profile' })(async function editProfile() {});
    await summary();
    await editProfile();
    expect(await summary()).toBe(2);
    await addToCart('u', 'x');
    expect(await summary()).toBe(3);
  });

  it('reaches reads stored in other backends by default', async () => {
    const elsewhere = new MemoryBackend();
    let calls = 0;
    const remote = AgentCache({ resource: 'cart', backend: elsewhere })(async function remoteCart() {
      return ++calls;
    });
    await remote();
    await addToCart('u', 'x');
    expect(await remote()).toBe(2);
  });

  it('invalidateResource makes entries stale outside any tool', async () => {
    await getCart('u1');
    await invalidateResource('cart');
    await getCart('u1');
    expect(reads).toBe(2);
    expect(getMetrics().invalidations).toBe(1);
  });

  it('scope "global" reaches session-scoped entries of every session', async () => {
    let calls = 0;
    const sessionCart = AgentCache({ resource: 'cart', scope: 'session' })(async function sessionCart() {
      return ++calls;
    });
    const s1 = new AgentCacheSession();
    const s2 = new AgentCacheSession();
    await s1.run(() => sessionCart());
    await s2.run(() => sessionCart());
    await addToCart('u', 'x'); // global write, outside both sessions
    expect(await s1.run(() => sessionCart())).toBe(3);
    expect(await s2.run(() => sessionCart())).toBe(4);
  });

  it('scope "session" only reaches the active session, and is a bypassed no-op outside one', async () => {
    let calls = 0;
    const sessionCart = AgentCache({ resource: 'cart', scope: 'session' })(async function sCart() {
      return ++calls;
    });
    const localWrite = AgentCacheInvalidator({ resource: 'cart', scope: 'session' })(
      async function localWrite() {
        return 'done';
      },
    );
    const s1 = new AgentCacheSession();
    const s2 = new AgentCacheSession();
    await s1.run(() => sessionCart());
    await s2.run(() => sessionCart());
    await s1.run(() => localWrite());
    expect(await s1.run(() => sessionCart())).toBe(3);
    expect(await s2.run(() => sessionCart())).toBe(2);
    // Global entries are not touched by a session write.
    await getCart('u');
    await s1.run(() =>
      AgentCacheInvalidator({ resource: 'cart', scope: 'session' })(async function w2() {})(),
    );
    await getCart('u');
    expect(reads).toBe(1);
    expect(await localWrite()).toBe('done');
    expect(getMetrics().tools.localWrite?.bypassed).toBe(1);
  });

  it('a write stopped by loop detection runs nothing and counts no invalidation', async () => {
    const session = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 1 });
    await session.run(() => addToCart('u', 'a'));
    await expect(session.run(() => addToCart('u', 'a'))).rejects.toThrow(/loop detected/);
    expect(db.cart).toEqual(['a']);
    expect(getMetrics()).toMatchObject({ invalidations: 1, loopDetections: 1 });
  });

  it('counts each invalidator call once', async () => {
    await Promise.all([addToCart('u', 'a'), addToCart('u', 'b'), addToCart('u', 'c')]);
    expect(getMetrics().invalidations).toBe(3);
  });

  it('a failing backend does not fail the write', async () => {
    const broken = new MemoryBackend();
    broken.bump = () => {
      throw new Error('redis down');
    };
    const write = AgentCacheInvalidator({ resource: 'cart', backend: broken })(async function brokenWrite() {
      return 'written';
    });
    expect(await write()).toBe('written');
    expect(getMetrics().backendErrors).toBe(2);
    await flush();
  });
});
