/**
 * What the `agent-cache` command does with a target it cannot use (exit code 1, one line on stderr, nothing created
 * or changed) and with a command line it cannot understand (exit code 2, a usage line).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBackend } from '../../src/index.js';
import { freePort, OwnRedis } from '../backends/fixtures/redis.js';
import { cacheFile, tempDir } from '../backends/fixtures/temp.js';
import { cli, cliProcess, oneLineError } from './helpers.js';

const dir = tempDir();
const COMMANDS: string[][] = [['stats'], ['inspect'], ['invalidate', '@', 'tickets'], ['clear']];
/** The command line of `command` with `target` in its place. */
const line = (command: string[], target: string) =>
  command.includes('@') ? command.map((a) => (a === '@' ? target : a)) : [...command, target];

function snapshot(path: string) {
  const stat = statSync(path);
  return {
    bytes: readFileSync(path).toString('base64'),
    mtimeMs: stat.mtimeMs,
    siblings: readdirSync(dir)
      .filter((f) => f.startsWith(path.slice(dir.length + 1)))
      .filter((f) => !/-(wal|shm)$/.test(f)),
  };
}

describe('a target that does not exist or is not a cache: exit code 1, one line, nothing touched', () => {
  for (const command of COMMANDS) {
    it(`${command[0]}: a missing file is not created`, async () => {
      const path = join(dir, `missing-${command[0]}.sqlite`);
      const r = await cli(line(command, path));
      expect(r.code).toBe(1);
      expect(oneLineError(r)).toBe(`agent-cache ${command[0]}: ${path} does not exist`);
      expect(readdirSync(dir).filter((f) => f.startsWith(`missing-${command[0]}`))).toEqual([]);
    });
  }

  const foreign: [string, (path: string) => void, string][] = [
    ['a text file', (p) => writeFileSync(p, '{"not": "a cache"}\n'), 'not a SQLite database'],
    ['an empty file', (p) => writeFileSync(p, ''), 'an empty file'],
    [
      "another application's SQLite database",
      (p) => {
        const db = new DatabaseSync(p);
        db.exec('CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1)');
        db.close();
      },
      'a SQLite database that is not in WAL mode, so not one of ours',
    ],
    [
      "another application's WAL SQLite database",
      (p) => {
        const db = new DatabaseSync(p);
        db.exec('PRAGMA journal_mode = WAL; CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1)');
        db.close();
      },
      'unexpected tables: orders',
    ],
  ];
  for (const [what, make, reason] of foreign) {
    it(`${what} is refused by every command and left exactly as it was`, async () => {
      const path = cacheFile(dir);
      make(path);
      const before = snapshot(path);
      for (const command of COMMANDS) {
        const r = await cli(line(command, path));
        expect(r.code).toBe(1);
        expect(oneLineError(r)).toBe(
          `agent-cache ${command[0]}: ${path} is not an agent-cache file (${reason})`,
        );
      }
      expect(snapshot(path)).toEqual(before);
    });
  }

  it('a directory is refused', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    const r = await cli(['stats', path]);
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toMatch(/not a regular file/);
  });

  it('a cache of an older schema version is refused, not moved aside or migrated', async () => {
    const path = cacheFile(dir);
    await new DiskBackend(path).close();
    const db = new DatabaseSync(path);
    db.exec(`UPDATE meta SET v = 1 WHERE k = 'schema'`);
    db.close();
    const before = snapshot(path);
    const r = await cli(['clear', path]);
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toBe(
      `agent-cache clear: ${path} is not an agent-cache file (schema version 1, expected 2)`,
    );
    expect(snapshot(path)).toEqual(before);
  });

  describe('Redis', () => {
    let redis: OwnRedis;
    beforeAll(async () => {
      redis = await OwnRedis.start();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('an unreachable server', async () => {
      const url = `redis://127.0.0.1:${await freePort()}`;
      for (const command of COMMANDS) {
        const r = await cli(line(command, url));
        expect(r.code).toBe(1);
        expect(oneLineError(r)).toMatch(
          new RegExp(`^agent-cache ${command[0]}: cannot connect to ${url}: connect ECONNREFUSED`),
        );
      }
    });

    it('a prefix nothing ever used (a typo) is refused rather than reported empty or written to', async () => {
      for (const command of COMMANDS) {
        const r = await cli([...line(command, redis.url), '--prefix', 'agnet-cache:']);
        expect(r.code).toBe(1);
        expect(oneLineError(r)).toBe(
          `agent-cache ${command[0]}: ${redis.url} holds no agent-cache under prefix "agnet-cache:" (check --prefix)`,
        );
      }
    });

    it('never prints a password from the URL', async () => {
      const url = `redis://user:s3cret@127.0.0.1:${await freePort()}`;
      const r = await cli(['stats', url]);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain('s3cret');
      expect(r.stderr).toContain('redis://user:***@127.0.0.1');
    });
  });
});

describe('bad usage: exit code 2 and a usage line', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /^agent-cache: no command given$/],
    ['only options', ['--json'], /^agent-cache: no command given$/],
    ['an unknown command', ['purge', 'x.sqlite'], /^agent-cache: unknown command "purge"$/],
    [
      'invalidate without a resource',
      ['invalidate', 'x.sqlite'],
      /^agent-cache invalidate: missing <resource>/,
    ],
    ['invalidate without anything', ['invalidate'], /^agent-cache invalidate: missing <target>/],
    ['stats without a target', ['stats', '--json'], /^agent-cache stats: missing <target>$/],
    ['two targets', ['stats', 'a.sqlite', 'b.sqlite'], /^agent-cache stats: unexpected argument "b.sqlite"$/],
    [
      'an unknown option',
      ['stats', 'x.sqlite', '--verbose'],
      /^agent-cache stats: unknown option --verbose$/,
    ],
    [
      'an option of another command',
      ['stats', 'x.sqlite', '--tool', 'a'],
      /^agent-cache stats: unknown option --tool$/,
    ],
    [
      'an option without its value',
      ['inspect', 'x.sqlite', '--tool'],
      /^agent-cache inspect: option --tool needs a value$/,
    ],
    [
      'a bad --limit',
      ['inspect', 'x.sqlite', '--limit', 'ten'],
      /^agent-cache inspect: --limit must be a positive integer/,
    ],
    [
      '--prefix with a file',
      ['stats', 'x.sqlite', '--prefix', 'p:'],
      /^agent-cache stats: --prefix applies to redis/,
    ],
    ['report without a trace', ['report'], /^agent-cache report: missing <trace.jsonl>$/],
  ];
  for (const [what, argv, message] of cases) {
    it(what, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const [first, usage, rest] = r.stderr.split('\n');
      expect(first).toMatch(message);
      expect(usage).toMatch(/^usage: agent-cache /);
      expect(rest).toBe('');
    });
  }

  it('no file was created by any of them', () => {
    expect(readdirSync(process.cwd()).filter((f) => /^[abx]\.sqlite/.test(f))).toEqual([]);
  });

  it('--help and --version answer on stdout with exit code 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['stats', 'inspect', 'invalidate', 'clear', 'report'])
      expect(help.stdout).toContain(name);
    const one = await cli(['inspect', '--help']);
    expect(one).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^usage: agent-cache inspect <target>/),
    });
    const version = await cli(['--version']);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('the real process exits with these codes', async () => {
    expect((await cliProcess([])).code).toBe(2);
    expect((await cliProcess(['invalidate', 'x.sqlite'])).code).toBe(2);
    const missing = await cliProcess(['stats', join(dir, 'nope.sqlite')]);
    expect(missing.code).toBe(1);
    expect(oneLineError(missing)).toMatch(/does not exist$/);
  });
});
