/**
 * The file-mode check's child process: runs with umask 0 (nothing taken away from the modes files are created
 * with), so a mode wider than 0600 on a file the library creates would show. Answers one request: the modes of
 * every file DiskBackend created, in the states a cache file goes through.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentCache, AgentCacheSession, configure, DiskBackend } from '../../src/index.js';
import { serve } from '../lib/child.js';

export interface ModeRow {
  /** What was going on when the file was looked at. */
  readonly when: string;
  /** The file's name in the directory. */
  readonly file: string;
  /** `mode & 0o777`. */
  readonly mode: number;
  /** Whether the library created it (a file the user put there keeps its mode). */
  readonly ours: boolean;
}

export interface ModeReport {
  readonly umask: number;
  readonly rows: readonly ModeRow[];
  /** Directories that appeared although the library was only asked to open a file in a missing one. */
  readonly directoriesCreated: number;
  /** Whether opening a file in a missing directory threw (it must: the library creates no directory). */
  readonly missingDirectoryRefused: boolean;
}

const silent = { warn() {}, error() {} };

function look(dir: string, when: string, ours: (file: string) => boolean, rows: ModeRow[]): void {
  for (const file of readdirSync(dir).sort()) {
    rows.push({ when, file, mode: statSync(join(dir, file)).mode & 0o777, ours: ours(file) });
  }
}

async function use(backend: DiskBackend): Promise<void> {
  const read = AgentCache({ name: 'isolation.modes', backend, resource: 'modes' })(async (i: number) => ({
    i,
    text: 'x'.repeat(1_000),
  }));
  const mine = AgentCache({ name: 'isolation.modes.mine', scope: 'session', backend, resource: 'modes' })(
    async (i: number) => i,
  );
  for (let i = 0; i < 50; i++) await read(i);
  await AgentCacheSession.run({}, async () => {
    for (let i = 0; i < 10; i++) await mine(i);
  });
}

serve(async (dir: string): Promise<ModeReport> => {
  process.umask(0);
  configure({ logger: silent });
  const rows: ModeRow[] = [];
  // A new cache: the file and, once written, its -wal and -shm.
  const fresh = join(dir, 'fresh');
  mkdirSync(fresh, { mode: 0o755 });
  const backend = new DiskBackend(join(fresh, 'cache.sqlite'));
  look(fresh, 'opened, nothing stored yet', () => true, rows);
  await use(backend);
  look(fresh, 'entries stored, open', () => true, rows);
  await backend.close();
  look(fresh, 'closed', () => true, rows);
  const again = new DiskBackend(join(fresh, 'cache.sqlite'));
  await use(again);
  look(fresh, 'reopened and written again', () => true, rows);
  await again.close();

  // A file that is not a cache (the user's, mode 0644) is moved aside and a fresh cache is started beside it.
  const corrupt = join(dir, 'corrupt');
  mkdirSync(corrupt, { mode: 0o755 });
  writeFileSync(join(corrupt, 'cache.sqlite'), 'not a cache', { mode: 0o644 });
  const restarted = new DiskBackend(join(corrupt, 'cache.sqlite'));
  await use(restarted);
  look(corrupt, 'a non-cache file moved aside, a fresh cache written', (f) => !f.includes('.corrupt-'), rows);
  await restarted.close();

  // A file in a directory that does not exist: refused, and no directory made.
  const before = readdirSync(dir).length;
  let missingDirectoryRefused = false;
  try {
    new DiskBackend(join(dir, 'missing', 'cache.sqlite'));
  } catch {
    missingDirectoryRefused = true;
  }
  const directoriesCreated = readdirSync(dir).length - before;
  return { umask: process.umask(), rows, directoriesCreated, missingDirectoryRefused };
});
