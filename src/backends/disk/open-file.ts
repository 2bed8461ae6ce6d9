import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  openSync,
  renameSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { getDefaults } from '../../config.js';
import { AgentCacheError } from '../../errors.js';
import { ensureSchema, WrongSchemaError } from './schema.js';
import { sqlite } from './sqlite.js';
import { isBusy } from './write-queue.js';

export interface OpenOptions {
  /** How long opening may wait for another process that is creating the same file, in ms. */
  readonly busyTimeout: number;
  /** The connection's synchronous busy wait afterwards, in ms (longer waits are the caller's, asynchronously). */
  readonly busyWait: number;
  /** Throws when the schema, though it has the right tables and version, cannot serve (a damaged column list). */
  readonly validate?: (db: DatabaseSync) => unknown;
}

/**
 * Opens (creating if needed) the cache file at `path`. A file that is not a valid cache is moved aside to
 * `<path>.corrupt-<timestamp>` (with its -wal and -shm files, which belong to it) and a fresh cache is started:
 * a cache can always be rebuilt, so refusing to start would turn a cache problem into an outage. A directory that
 * is missing or not writable is a configuration error and throws.
 */
export function openCacheFile(path: string, options: OpenOptions): DatabaseSync {
  const file = resolve(path);
  checkDirectory(file);
  try {
    return openAndCheck(file, options);
  } catch (error) {
    if (!isNotACache(error)) {
      throw new AgentCacheError(
        'E_BACKEND_OPEN',
        `DiskBackend: cannot open ${file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const aside = `${file}.corrupt-${Date.now()}`;
    moveAside(file, aside);
    getDefaults().logger.warn(
      `agent-cache: ${file} is not a valid agent-cache file (${(error as Error).message}); moved it to ${aside} and started a fresh cache`,
    );
    return openAndCheck(file, options);
  }
}

function openAndCheck(file: string, options: OpenOptions): DatabaseSync {
  createPrivate(file);
  const db = new (sqlite().DatabaseSync)(file);
  try {
    // The busy timeout first: switching a new file to WAL and creating its schema may wait for another process
    // doing the same (an existing cache is only read, which never waits for a writer in WAL mode).
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeout))}`);
    switchToWal(db, file, options.busyTimeout);
    // NORMAL is durable against a killed process in WAL mode (only a power loss can drop the last commits).
    db.exec('PRAGMA synchronous = NORMAL');
    ensureSchema(db);
    if (options.validate !== undefined) {
      try {
        options.validate(db);
      } catch (error) {
        throw new WrongSchemaError(`its tables cannot serve: ${(error as Error).message}`);
      }
    }
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyWait))}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * WAL is what lets readers and one writer of different processes work at once. Switching needs a moment alone with
 * the file: when another process is opening it at the same time, SQLite either answers with the old mode or fails
 * with SQLITE_BUSY at once (the busy timeout does not apply to the switch), so we retry both until the busy timeout
 * has passed.
 */
function switchToWal(db: DatabaseSync, file: string, busyTimeout: number): void {
  const deadline = Date.now() + Math.max(busyTimeout, 100);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let mode: string;
    try {
      ({ journal_mode: mode } = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string });
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      mode = 'busy';
    }
    if (mode === 'wal') return;
    if (Date.now() >= deadline)
      throw new AgentCacheError('E_BACKEND_OPEN', `could not switch ${file} to WAL mode (it stays ${mode})`);
    Atomics.wait(pause, 0, 0, 5); // a synchronous 5 ms pause: the constructor is synchronous
  }
}

/** Creates the file with mode 0600 (SQLite gives its -wal and -shm files the same mode). */
function createPrivate(file: string): void {
  if (existsSync(file)) return;
  let fd: number;
  try {
    fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return; // another process created it first
    throw new AgentCacheError(
      'E_BACKEND_OPEN',
      `DiskBackend: cannot create ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    fchmodSync(fd, 0o600); // the umask may have taken bits away, never added: make it exact
  } finally {
    closeSync(fd);
  }
}

function checkDirectory(file: string): void {
  const dir = dirname(file);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new AgentCacheError(
      'E_BACKEND_OPEN',
      `DiskBackend: directory ${dir} does not exist (create it first)`,
    );
  }
  if (!isDir) throw new AgentCacheError('E_BACKEND_OPEN', `DiskBackend: ${dir} is not a directory`);
  try {
    // W_OK on the directory: SQLite needs to create the -wal and -shm files beside the database.
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new AgentCacheError(
      'E_BACKEND_OPEN',
      `DiskBackend: directory ${dir} is not writable (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

/** SQLITE_CORRUPT (11), SQLITE_NOTADB (26), or a database that is not our schema. */
function isNotACache(error: unknown): boolean {
  if (error instanceof WrongSchemaError) return true;
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' && ((code & 0xff) === 11 || (code & 0xff) === 26);
}

function moveAside(file: string, aside: string): void {
  renameSync(file, aside);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
}
