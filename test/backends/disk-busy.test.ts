/**
 * DiskBackend while another process holds the file's write lock: writes must not block the event loop (a short
 * synchronous wait, then asynchronous retries), keep their order, land as soon as the lock is free, and give up
 * with BackendBusyError after their budget.
 */
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendBusyError, BackendClosedError, DiskBackend } from '../../src/index.js';
import { holdWriteLock, type LockHolder } from './fixtures/children.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function open(path: string, busyTimeout?: number): DiskBackend {
  const backend = new DiskBackend({ path, busyTimeout });
  cleanup.push(() => backend.close());
  return backend;
}

async function holdLock(path: string): Promise<LockHolder> {
  const holder = await holdWriteLock(path);
  cleanup.push(() => holder.kill());
  return holder;
}

const entry = (value: unknown, tags: readonly string[], gens: readonly number[]) => ({
  value,
  expiresAt: 0,
  tags,
  gens,
});
const isPromise = (x: unknown): x is Promise<unknown> => x instanceof Promise;

describe('DiskBackend when another process holds the write lock', () => {
  it('opening a new file waits for another process that holds it (as one creating it at the same time does)', async () => {
    const path = cacheFile(dir);
    new DatabaseSync(path).close(); // an empty file in SQLite's default journal mode, not yet WAL
    // The holder commits by itself 1.5 s after taking the lock. Switching to WAL fails with SQLITE_BUSY at once
    // while the lock is held (the busy timeout does not apply to the switch): the constructor must retry within
    // busyTimeout rather than throw.
    const holder = await holdWriteLock(path, 1_500);
    cleanup.push(() => holder.kill());
    const b = open(path, 30_000);
    await holder.release();
    const tags = ['r:x'];
    await b.set('k', entry(1, tags, b.generations(tags) as readonly number[]));
    expect(b.get('k')?.value).toBe(1);
  });

  it('answers a write with a promise instead of blocking, and lands it as soon as the lock is free', async () => {
    const path = cacheFile(dir);
    const b = open(path);
    const tags = ['r:x'];
    const before = b.generations(tags);
    const holder = await holdLock(path);

    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    cleanup.push(() => clearInterval(timer));
    const bumped = b.bump(tags);
    expect(isPromise(bumped)).toBe(true);
    let settled = false;
    void (bumped as Promise<void>).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false); // still waiting for the lock...
    expect(ticks).toBeGreaterThan(0); // ...while timers keep running: the event loop is free
    expect(b.generations(tags)).toEqual(before); // reads never wait for the writer

    await holder.release();
    await bumped;
    expect(b.generations(tags)[0]).toBeGreaterThan(before[0]!);
  });

  it('keeps this process’s writes in order while they wait', async () => {
    const path = cacheFile(dir);
    const b = open(path);
    const tags = ['r:y'];
    const gens = b.generations(tags);
    expect(b.set('a', entry('a', tags, gens))).toBe(true);
    const holder = await holdLock(path);
    const writes = [
      b.delete('a'),
      b.set('b', entry('b', [], [])),
      b.bump(tags),
      b.set('c', entry('c', tags, gens)),
    ];
    for (const w of writes) expect(isPromise(w)).toBe(true);
    await holder.release();
    const settled = await Promise.allSettled(writes);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(b.get('a')).toBeUndefined(); // the delete ran (before anything else)
    expect(b.get('b')?.value).toBe('b');
    expect((settled[3] as PromiseFulfilledResult<boolean>).value).toBe(false); // after the bump: not current
  });

  it('gives up with BackendBusyError after busyTimeout; a store gives up sooner', async () => {
    const path = cacheFile(dir);
    const b = open(path, 400);
    const holder = await holdLock(path);
    const order: string[] = [];
    const bump = Promise.resolve(b.bump(['r:z'])).catch((e: unknown) => {
      order.push('bump');
      return e;
    });
    const store = Promise.resolve(b.set('k', entry(1, [], []))).catch((e: unknown) => {
      order.push('set');
      return e;
    });
    const [bumpError, storeError] = await Promise.all([bump, store]);
    expect(bumpError).toBeInstanceOf(BackendBusyError);
    expect(bumpError).toMatchObject({ code: 'E_BACKEND_BUSY' });
    expect((bumpError as BackendBusyError).message).toMatch(/locked by another connection/);
    expect(storeError).toBeInstanceOf(BackendBusyError);
    expect(order).toEqual(['set', 'bump']);
    await holder.release();
    expect(await b.set('k', entry(2, [], []))).toBe(true); // and writes work again at once
  });

  it('opens an existing cache file without waiting for the lock', async () => {
    const path = cacheFile(dir);
    const first = open(path);
    expect(first.set('k', entry('v', [], []))).toBe(true);
    await holdLock(path);
    const second = open(path, 60_000); // it used to wait the whole busy timeout, then fail to open
    expect(second.get('k')?.value).toBe('v');
  });

  it('rejects the writes still waiting when it is closed', async () => {
    const path = cacheFile(dir);
    const b = new DiskBackend(path);
    await holdLock(path);
    const waiting = b.bump(['r:w']);
    await b.close();
    await expect(waiting).rejects.toBeInstanceOf(BackendClosedError);
  });
});
