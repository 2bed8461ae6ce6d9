/**
 * Damage inside a cache file that the schema check at open does not see: a row whose tags or gens are not JSON, a
 * table whose column list was changed, a damaged index page met by the sweep at open. None may make the
 * constructor or a call throw, and none may stop the key from being cached again.
 */
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentCache, configure, DiskBackend, getMetrics, resetMetrics } from '../../src/index.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();
const opened: DiskBackend[] = [];
const warnings: string[] = [];

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
  configure({ logger: console });
});

function open(path: string): DiskBackend {
  configure({ logger: { warn: (m: string) => void warnings.push(m), error: () => {} } });
  const backend = new DiskBackend({ path, busyTimeout: 200 });
  opened.push(backend);
  return backend;
}

async function seeded(ttl?: number): Promise<string> {
  const path = cacheFile(dir);
  const backend = new DiskBackend(path);
  const tool = AgentCache({ name: 'damaged.seed', backend, resource: 'r', ...(ttl ? { ttl } : {}) })(
    async function seed(i: number) {
      return `v${i}`;
    },
  );
  for (let i = 0; i < 50; i++) await tool(i);
  await backend.close();
  return path;
}

function sql(path: string, text: string): void {
  const db = new DatabaseSync(path);
  db.exec(text);
  db.close();
}

function counted(backend: DiskBackend) {
  const runs = { n: 0 };
  const tool = AgentCache({ name: 'damaged.seed', backend, resource: 'r' })(async function seed(i: number) {
    runs.n++;
    return `v${i}`;
  });
  return { tool, runs };
}

describe('DiskBackend with damage inside the file', () => {
  for (const [what, change] of [
    ['tags that are not JSON', "UPDATE entries SET tags = 'not json'"],
    ['gens that are not JSON', "UPDATE entries SET gens = '['"],
    // SQLite's JSON reader takes a raw control character inside a string; JSON.parse does not.
    ['tags only SQLite reads as JSON', `UPDATE entries SET tags = replace(tags, '"]', char(1) || '"]')`],
    ['gens only SQLite reads as JSON', "UPDATE entries SET gens = replace(gens, ']', ',]')"],
  ] as const) {
    it(`a row with ${what} is a miss, dropped, and cached again`, async () => {
      const path = await seeded();
      sql(path, change);
      resetMetrics();
      const { tool, runs } = counted(open(path));
      expect(await tool(1)).toBe('v1');
      expect(runs.n).toBe(1);
      expect(await tool(1)).toBe('v1');
      expect(runs.n).toBe(1); // stored again: the damaged row no longer stands in the way
      expect(getMetrics().backendErrors).toBe(0);
    });
  }

  for (const [table, from, to] of [
    ['entries', 'duration_ms REAL', 'duratio_ms REAL'],
    ['meta', ' v INTEGER', ' w INTEGER'],
  ] as const) {
    it(`a ${table} table whose columns were changed is not a cache: moved aside, fresh start`, async () => {
      const path = await seeded();
      const db = new DatabaseSync(path, { defensive: false } as ConstructorParameters<
        typeof DatabaseSync
      >[1]);
      db.exec('PRAGMA writable_schema = ON');
      db.exec(`UPDATE sqlite_master SET sql = replace(sql, '${from}', '${to}') WHERE name = '${table}'`);
      db.close();
      warnings.length = 0;
      const { tool, runs } = counted(open(path));
      expect(await tool(1)).toBe('v1');
      expect(await tool(1)).toBe('v1');
      expect(runs.n).toBe(1);
      expect(readdirSync(dir).some((f) => f.startsWith(`${path.slice(dir.length + 1)}.corrupt-`))).toBe(true);
      expect(warnings.some((w) => w.includes('moved it to'))).toBe(true);
    });
  }

  it('a damaged index page met by the sweep at open does not make the constructor throw', async () => {
    const path = await seeded(60_000);
    const db = new DatabaseSync(path);
    const { rootpage } = db
      .prepare(`SELECT rootpage FROM sqlite_schema WHERE name = 'entries_expiry'`)
      .get() as {
      rootpage: number;
    };
    const { page_size: pageSize } = db.prepare('PRAGMA page_size').get() as { page_size: number };
    db.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);
    let backend: DiskBackend | undefined;
    expect(() => {
      backend = open(path);
    }).not.toThrow();
    const { tool } = counted(backend!);
    expect(await tool(1)).toBe('v1'); // a hit or a miss, never an exception
  });
});
