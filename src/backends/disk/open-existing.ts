import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { AgentCacheError } from '../../errors.js';
import { NotACacheError } from './errors.js';
import { checkSchema } from './schema.js';
import { sqlite } from './sqlite.js';

export interface OpenExistingOptions {
  readonly busyTimeout: number;
  /** Open with a read-only connection: nothing is ever written to the file. */
  readonly readOnly: boolean;
}

/** The 16 bytes every SQLite 3 database starts with. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens a cache file that must already exist, for the `agent-cache` command and for anyone who wants an error
 * rather than a fresh cache: a missing file, or a file that is not an agent-cache file, throws and is never
 * created, moved aside or modified.
 *
 * The file's header is checked before SQLite opens it at all: every agent-cache file is a SQLite database in WAL
 * mode (DiskBackend switches to WAL before it creates its tables), so anything else — an empty file, a text file,
 * another application's rollback-journal database — is refused without SQLite ever touching it.
 */
export function openExistingCacheFile(path: string, options: OpenExistingOptions): DatabaseSync {
  const file = resolve(path);
  checkHeader(file);
  let db: DatabaseSync;
  try {
    db = new (sqlite().DatabaseSync)(file, { readOnly: options.readOnly });
  } catch (error) {
    throw new AgentCacheError('E_BACKEND_OPEN', `cannot open ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeout))}`);
    if (checkSchema(db) === 'empty') throw new NotACacheError(file, 'a SQLite database without its tables');
    if (!options.readOnly) db.exec('PRAGMA synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    if (error instanceof NotACacheError) throw error;
    if (error instanceof AgentCacheError && error.code === 'E_NOT_A_CACHE') {
      throw new NotACacheError(file, error.message);
    }
    const code = (error as { errcode?: unknown }).errcode;
    if (typeof code === 'number' && ((code & 0xff) === 11 || (code & 0xff) === 26)) {
      throw new NotACacheError(file, 'a damaged SQLite database');
    }
    throw new AgentCacheError('E_BACKEND_OPEN', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function checkHeader(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new NotACacheError(file, 'not a regular file');
    size = stat.size;
  } catch (error) {
    if (error instanceof NotACacheError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentCacheError(
      'E_BACKEND_OPEN',
      code === 'ENOENT' ? `${file} does not exist` : `cannot open ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (size === 0) throw new NotACacheError(file, 'an empty file');
  const header = Buffer.alloc(20);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new AgentCacheError('E_BACKEND_OPEN', `cannot open ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read < header.length || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new NotACacheError(file, 'not a SQLite database');
  }
  // Bytes 18 and 19: the file format read/write versions, 2 for a WAL database.
  if (header[18] !== 2 || header[19] !== 2) {
    throw new NotACacheError(file, 'a SQLite database that is not in WAL mode, so not one of ours');
  }
}
