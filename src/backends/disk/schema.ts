import type { DatabaseSync } from 'node:sqlite';
import { AgentCacheError } from '../../errors.js';
import { isBusy } from './write-queue.js';

/** Bumped whenever the layout below changes: a file with another version is moved aside, never migrated in place. */
export const SCHEMA_VERSION = 2;

/**
 * `meta` holds the schema version, the generation clock, the floor (the generation of every tag not in `gens`) and
 * the row counts kept by triggers, so the maxEntries check on every write is one primary-key read instead of a
 * count(*) scan. Tags and gens of an entry are JSON arrays so that one SQL statement can check them all.
 */
const SCHEMA = `
CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE entries (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  tags TEXT NOT NULL,
  gens TEXT NOT NULL,
  session_id TEXT,
  used_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT 0,
  duration_ms REAL NOT NULL DEFAULT 0
);
CREATE INDEX entries_expiry ON entries (expires_at) WHERE expires_at > 0;
CREATE INDEX entries_used ON entries (used_at);
CREATE INDEX entries_session ON entries (session_id) WHERE session_id IS NOT NULL;
CREATE TABLE gens (tag TEXT PRIMARY KEY, gen INTEGER NOT NULL, session_id TEXT);
CREATE INDEX gens_gen ON gens (gen);
CREATE INDEX gens_session ON gens (session_id) WHERE session_id IS NOT NULL;
CREATE TRIGGER entries_count_ins AFTER INSERT ON entries BEGIN UPDATE meta SET v = v + 1 WHERE k = 'entries'; END;
CREATE TRIGGER entries_count_del AFTER DELETE ON entries BEGIN UPDATE meta SET v = v - 1 WHERE k = 'entries'; END;
CREATE TRIGGER gens_count_ins AFTER INSERT ON gens BEGIN UPDATE meta SET v = v + 1 WHERE k = 'gens'; END;
CREATE TRIGGER gens_count_del AFTER DELETE ON gens BEGIN UPDATE meta SET v = v - 1 WHERE k = 'gens'; END;
INSERT INTO meta (k, v) VALUES ('schema', ${SCHEMA_VERSION}), ('clock', 0), ('floor', 0), ('entries', 0), ('gens', 0);
`;

const TABLES = ['entries', 'gens', 'meta'];

/** The file is a SQLite database but not an agent-cache of this version. */
export class WrongSchemaError extends AgentCacheError {
  constructor(message: string) {
    super('E_NOT_A_CACHE', message);
  }
}

/**
 * Creates the schema in an empty database or checks an existing one. An existing cache is only read, so opening it
 * never waits for another process's write lock; creating one runs under BEGIN IMMEDIATE (checked again inside it),
 * so that two processes opening a new file at once do not both create it.
 */
export function ensureSchema(db: DatabaseSync): void {
  if (checkSchema(db) === 'ok') return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (checkSchema(db) === 'empty') db.exec(SCHEMA);
    db.exec('COMMIT');
  } catch (error) {
    rollback(db);
    throw error;
  }
}

/**
 * Whether the database holds an agent-cache of this version (`'ok'`) or nothing at all (`'empty'`); anything else
 * throws `WrongSchemaError`. Only reads, so it also runs on a read-only connection.
 */
export function checkSchema(db: DatabaseSync): 'ok' | 'empty' {
  const tables = (
    db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]
  )
    .map((row) => row.name)
    .sort();
  if (tables.length === 0) return 'empty';
  if (tables.join() !== TABLES.join()) throw new WrongSchemaError(`unexpected tables: ${tables.join(', ')}`);
  let row: { v: number } | undefined;
  try {
    row = db.prepare(`SELECT v FROM meta WHERE k = 'schema'`).get() as { v: number } | undefined;
  } catch (error) {
    // A meta table whose columns were changed (a tampered or damaged schema): not a cache. A busy file is not
    // damage: the caller waits or retries.
    if (isBusy(error)) throw error;
    throw new WrongSchemaError(`its meta table cannot be read: ${(error as Error).message}`);
  }
  if (row?.v !== SCHEMA_VERSION) {
    throw new WrongSchemaError(`schema version ${String(row?.v)}, expected ${SCHEMA_VERSION}`);
  }
  return 'ok';
}

export function rollback(db: DatabaseSync): void {
  try {
    if (db.isTransaction) db.exec('ROLLBACK');
  } catch {
    // The transaction is already gone (SQLite rolls back by itself on some errors).
  }
}
