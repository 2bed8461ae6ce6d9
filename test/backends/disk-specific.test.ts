import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  configure,
  DiskBackend,
  getMetrics,
  type Logger,
  resetMetrics,
} from '../../src/index.js';
import { spawnTs } from './fixtures/children.js';
import { cacheFile, sharedTempDir, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const opened: DiskBackend[] = [];
const open = (options: string | ConstructorParameters<typeof DiskBackend>[0]) => {
  const backend = new DiskBackend(options);
  opened.push(backend);
  return backend;
};
const entry = (value: unknown, tags: string[] = [], gens: readonly number[] = []) => ({
  value,
  expiresAt: 0,
  tags,
  gens,
});

function captureWarnings(): string[] {
  const warnings: string[] = [];
  const logger: Logger = { warn: (message) => void warnings.push(message) };
  configure({ logger });
  return warnings;
}

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
  configure({ logger: { warn: (m: string, ...rest: unknown[]) => console.warn(m, ...rest) } });
});

const asideFiles = (path: string) =>
  readdirSync(dir).filter(
    (f) => f.startsWith(`${path.slice(dir.length + 1)}.corrupt-`) && !/-(wal|shm)$/.test(f),
  );

describe('DiskBackend files', () => {
  it('creates the cache file (and its WAL) with mode 0600', async () => {
    const path = cacheFile(dir);
    const b = open(path);
    b.set('k', entry(1));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
  });

  it('survives a restart: entries and generations are written through', async () => {
    const path = cacheFile(dir);
    const a = new DiskBackend(path);
    const tags = ['r:x'];
    a.set('kept', entry('v', tags, a.generations(tags)));
    a.bump(['r:y']);
    const gens = a.generations(['r:x', 'r:y']);
    await a.close();
    const b = open(path);
    expect(b.get('kept')?.value).toBe('v');
    expect(b.generations(['r:x', 'r:y'])).toEqual(gens);
  });

  it('moves a file that is not a database aside, warns, and starts fresh', async () => {
    const path = cacheFile(dir);
    const garbage = 'this is not a sqlite file '.repeat(200);
    writeFileSync(path, garbage);
    const warnings = captureWarnings();
    const b = open(path);
    expect(b.set('k', entry(1))).toBe(true);
    expect(b.get('k')?.value).toBe(1);
    const aside = asideFiles(path);
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe(garbage); // moved, not destroyed
    expect(warnings.join('\n')).toMatch(/not a valid agent-cache file.*moved it to/);
  });

  it('moves a database with another schema (or another version of ours) aside', async () => {
    for (const setup of [
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')",
      `CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER); CREATE TABLE entries (key TEXT); CREATE TABLE gens (tag TEXT);
       INSERT INTO meta VALUES ('schema', 999)`,
    ]) {
      const path = cacheFile(dir);
      const db = new DatabaseSync(path);
      db.exec(setup);
      db.close();
      const warnings = captureWarnings();
      const b = open(path);
      expect(b.set('k', entry(1))).toBe(true);
      expect(asideFiles(path)).toHaveLength(1);
      expect(warnings).toHaveLength(1);
    }
  });

  it('is a clear error when the directory is missing or not a directory', () => {
    expect(() => new DiskBackend(join(dir, 'no', 'such', 'dir', 'c.db'))).toThrow(/does not exist/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    expect(() => new DiskBackend(join(file, 'c.db'))).toThrow(/not a directory/);
    expect(() => new DiskBackend('')).toThrow(TypeError);
    expect(() => new DiskBackend({ path: cacheFile(dir), maxEntries: 0 })).toThrow(/maxEntries/);
  });

  it('is a clear error when the directory is read-only', () => {
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'read-only');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      try {
        expect(() => new DiskBackend(join(ro, 'c.db'))).toThrow(/not writable/);
      } finally {
        chmodSync(ro, 0o755);
      }
      return;
    }
    // root ignores directory permissions: a child process loads the backend, then becomes an unprivileged user
    // (so it needs nothing from the checkout afterwards) and opens a file in a directory that user can reach.
    const ro = join(sharedTempDir(), 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/open-disk.ts', import.meta.url)),
        join(ro, 'c.db'),
        '65534',
      ],
      { encoding: 'utf8' },
    );
    if (child.error !== undefined) throw child.error;
    expect(child.status, child.stderr).toBe(0);
    const outcome = JSON.parse(child.stdout) as { uid: number; message: string };
    expect(outcome.uid).toBe(65534);
    expect(outcome.message).toMatch(/directory .*read-only is not writable/);
    chmodSync(ro, 0o755);
  });
});

describe('DiskBackend and node:sqlite', () => {
  it('import of the package does not load node:sqlite; creating a DiskBackend does', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/sqlite-loaded.ts', import.meta.url))],
      { encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ afterImport: false, afterCreate: true });
  });
});

describe('DiskBackend damaged values', () => {
  it('treats a value that no longer decodes as a miss and drops it, so the next result replaces it', () => {
    const path = cacheFile(dir);
    const b = open(path);
    b.set('k', entry({ ok: true }));
    const db = new DatabaseSync(path);
    db.prepare(`UPDATE entries SET value = x'ff00ff00' WHERE key = 'k'`).run();
    db.close();
    expect(b.get('k')).toBeUndefined();
    expect(b.get('k', { stale: true })).toBeUndefined();
    expect(b.set('k', entry({ ok: 'again' }))).toBe(true);
    expect(b.get('k')?.value).toEqual({ ok: 'again' });
  });
});

describe('DiskBackend clear() and clearSession() in bounded batches', () => {
  it('clear() makes everything stale at once, and never undoes an invalidation made while it deletes', async () => {
    const b = open(cacheFile(dir));
    b.bump(Array.from({ length: 2_500 }, (_, i) => `r:${i}`)); // more generations than one batch deletes
    const old = ['r:7'];
    expect(b.set('old', entry('old', old, b.generations(old)))).toBe(true);
    const clearing = b.clear();
    expect(b.get('old')).toBeUndefined(); // stale from the first (small) transaction on
    // While the batches run: an entry recorded against a tag nobody advanced yet, then an invalidation of it.
    const late = ['r:late'];
    expect(b.set('late', entry('late', late, b.generations(late)))).toBe(true);
    b.bump(late);
    expect(b.get('late')).toBeUndefined();
    await clearing;
    expect(b.get('late')).toBeUndefined(); // deleting the new generation would have made it fresh again
    expect(b.size).toBe(0);
    const now = b.generations(old);
    expect(b.set('again', entry('again', old, now))).toBe(true);
    expect(b.get('again')?.value).toBe('again');
  });

  it('clearSession() drops a large session across several transactions, and nobody else’s entries', async () => {
    const b = open({ path: cacheFile(dir), maxEntries: 10_000 });
    for (let i = 0; i < 2_500; i++) b.set(`s${i}`, { ...entry(i), sessionId: 'big' });
    b.set('other', { ...entry('o'), sessionId: 'other' });
    b.set('global', entry('g'));
    await b.clearSession('big');
    expect(b.size).toBe(2);
    expect(b.get('other')?.value).toBe('o');
    expect(b.get('global')?.value).toBe('g');
  });
});

describe('DiskBackend bounds', () => {
  it('sweeps expired rows in bounded batches as writes go on', () => {
    const b = open(cacheFile(dir));
    for (let i = 0; i < 100; i++) b.set(`old${i}`, { ...entry(i), expiresAt: Date.now() - 1 });
    expect(b.size).toBeLessThan(100); // a sweep ran every 64 writes
    for (let i = 0; i < 200; i++) b.set(`live${i % 10}`, entry(i));
    expect(b.get('old99', { stale: true })).toBeUndefined();
    expect(b.size).toBe(10);
  });

  it('forgets old generations conservatively: an entry recorded against a forgotten tag never turns fresh', () => {
    const b = open({ path: cacheFile(dir), maxGenerations: 2 });
    const tags = ['r:a'];
    const before = b.generations(tags);
    b.set('k', entry('v', tags, before));
    b.bump(tags); // k is stale now
    b.bump(['r:b', 'r:c']); // r:a is the oldest generation: forgotten, it reads as the (raised) floor
    expect(b.get('k')).toBeUndefined();
    expect(b.set('k', entry('late', tags, before))).toBe(false);
    expect(b.generations(tags)[0]!).toBeGreaterThan(before[0]!);
    const now = b.generations(tags);
    expect(b.set('k', entry('fresh', tags, now))).toBe(true);
    expect(b.get('k')?.value).toBe('fresh');
  });

  it('keeps LRU order through batched recency updates (other processes see it after the flush)', async () => {
    const path = cacheFile(dir);
    const b = open({ path, maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) b.set(k, entry(k));
    b.get('a');
    await b.close(); // flushes recency
    const c = open({ path, maxEntries: 3 });
    c.set('d', entry('d'));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.value).toBe('a');
  });
});

describe('DiskBackend through AgentCache', () => {
  it('returns an unserializable result without storing it, warns, and counts nothing as an error', async () => {
    resetMetrics();
    const warnings = captureWarnings();
    const backend = open(cacheFile(dir));
    let runs = 0;
    const tool = AgentCache({ name: 'makeHandle', backend })(async (id: string) => {
      runs++;
      return { id, close: () => id };
    });
    expect((await tool('h')).id).toBe('h');
    expect((await tool('h')).id).toBe('h');
    expect(runs).toBe(2);
    expect(warnings.filter((w) => /cannot serialize/.test(w))).toHaveLength(1);
    expect(getMetrics().errors).toBe(0);
  });

  it('a closed backend makes calls run uncached, never fail', async () => {
    resetMetrics();
    captureWarnings();
    const backend = new DiskBackend(cacheFile(dir));
    let runs = 0;
    const tool = AgentCache({ name: 'afterClose', backend })(async () => ++runs);
    expect(await tool()).toBe(1);
    await backend.close();
    expect(await tool()).toBe(2);
    expect(getMetrics().backendErrors).toBeGreaterThan(0);
  });
});

describe('DiskBackend crash safety', () => {
  it('opens cleanly with only whole entries after writers are SIGKILLed mid-write, again and again', async () => {
    const path = cacheFile(dir);
    const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    for (let round = 0; round < 6; round++) {
      const child = spawnTs(writer, [path]);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 60));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const warnings = captureWarnings();
      const b = new DiskBackend(path);
      let whole = 0;
      for (let k = 0; k < 50; k++) {
        const value = b.get(`k${k}`, { stale: true })?.value as
          | { payload: Uint8Array; digest: string }
          | undefined;
        if (value === undefined) continue;
        expect(createHash('sha256').update(value.payload).digest('hex')).toBe(value.digest);
        whole++;
      }
      expect(whole).toBeGreaterThan(0);
      expect(warnings).toEqual([]);
      await b.close();
    }
    expect(existsSync(path)).toBe(true);
    expect(asideFiles(path)).toEqual([]);
  });
});
