/**
 * DiskBackend `create: false` and `readOnly`: opening a cache file that must already exist, as the `agent-cache`
 * command does. A missing file is never created; a file that is not a cache is never moved aside nor modified.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentCache, AgentCacheError, DiskBackend } from '../../src/index.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const opened: DiskBackend[] = [];
const open = (options: ConstructorParameters<typeof DiskBackend>[0]) => {
  const backend = new DiskBackend(options);
  opened.push(backend);
  return backend;
};
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

function snapshot(path: string) {
  const stat = statSync(path);
  const siblings = readdirSync(dir).filter((f) => f.startsWith(path.slice(dir.length + 1)));
  return { bytes: readFileSync(path), mtimeMs: stat.mtimeMs, mode: stat.mode, siblings };
}

function expectRefused(path: string, code: string, message: RegExp) {
  for (const options of [{ create: false }, { readOnly: true }]) {
    let caught: unknown;
    try {
      open({ path, ...options });
    } catch (error) {
      caught = error;
    }
    expect(AgentCacheError.isInstance(caught)).toBe(true);
    expect((caught as AgentCacheError).code).toBe(code);
    expect((caught as Error).message).toMatch(message);
  }
}

describe('DiskBackend({ create: false }) and ({ readOnly: true })', () => {
  it('refuse a missing file and never create it', () => {
    const path = join(dir, 'missing.sqlite');
    expectRefused(path, 'E_BACKEND_OPEN', /does not exist/);
    expect(readdirSync(dir).filter((f) => f.startsWith('missing.sqlite'))).toEqual([]);
  });

  const foreign: [string, (path: string) => void, RegExp][] = [
    ['an empty file', (path) => writeFileSync(path, ''), /empty file/],
    ['a text file', (path) => writeFileSync(path, 'hello\n'.repeat(100)), /not a SQLite database/],
    [
      'a rollback-journal SQLite database',
      (path) => {
        const db = new DatabaseSync(path);
        db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)');
        db.close();
      },
      /not in WAL mode/,
    ],
    [
      'a WAL SQLite database of another application',
      (path) => {
        const db = new DatabaseSync(path);
        db.exec('PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)');
        db.close();
      },
      /unexpected tables: notes/,
    ],
  ];
  for (const [what, make, message] of foreign) {
    it(`refuse ${what} and leave it exactly as it was`, () => {
      const path = cacheFile(dir);
      make(path);
      const before = snapshot(path);
      expectRefused(path, 'E_NOT_A_CACHE', message);
      const after = snapshot(path);
      expect(after.bytes.equals(before.bytes)).toBe(true);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.mode).toBe(before.mode);
      // Not moved aside (no .corrupt- file), nothing new beside it except SQLite's own -shm/-wal of a WAL file.
      expect(after.siblings.filter((f) => !/-(wal|shm)$/.test(f))).toEqual(before.siblings);
    });
  }

  it('open an existing cache and use it like any other', async () => {
    const path = cacheFile(dir);
    await new DiskBackend(path).close();
    const backend = open({ path, create: false });
    const tool = AgentCache({ backend, resource: 'r' })(async function tool() {
      return 42;
    });
    await tool();
    expect((await backend.get('"""tool"g[]'))?.value).toBe(42);
  });

  it('readOnly: reads and inspects without writing anything, not even the sweep of expired entries', async () => {
    const path = cacheFile(dir);
    const writer = new DiskBackend(path);
    await writer.set('"""fresh"g[]', { value: 1, expiresAt: 0, tags: [], gens: [] });
    await writer.set('"""old"g[]', { value: 2, expiresAt: Date.now() - 1_000, tags: [], gens: [] });
    await writer.close();
    const reader = open({ path, readOnly: true });
    expect((await reader.get('"""fresh"g[]'))?.value).toBe(1);
    const tools: string[] = [];
    for await (const entry of reader.inspect()) tools.push(entry.tool);
    expect(tools.sort()).toEqual(['fresh', 'old']);
    expect(() => reader.set('k', { value: 3, expiresAt: 0, tags: [], gens: [] })).toThrow(
      expect.objectContaining({ code: 'E_BACKEND_READ_ONLY' }),
    );
    expect(() => reader.bump(['t'])).toThrow(/read-only/);
    expect(() => reader.clear()).toThrow(/read-only/);
    await reader.close();
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('SELECT count(*) AS n FROM entries').get()).toEqual({ n: 2 });
    check.close();
  });
});
