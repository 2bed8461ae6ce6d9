import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { describeEntry, type EntryInfo, type InspectOptions } from '../inspection.js';
import { fromStorable } from '../storable-text.js';

/** Entries read per statement: one batch is one short read, and the event loop runs between batches. */
const BATCH = 500;

type Row = [
  key: string,
  tags: string,
  sessionId: string | null,
  bytes: number,
  createdAt: number,
  expiresAt: number,
  durationMs: number,
  stale: number,
];

const SELECT = `SELECT key, tags, session_id, length(value), created_at, expires_at, duration_ms,
    EXISTS (SELECT 1 FROM json_each(e.tags) t LEFT JOIN gens g ON g.tag = t.value
            WHERE coalesce(g.gen, (SELECT v FROM meta WHERE k = 'floor')) IS NOT (e.gens ->> t.key))
  FROM entries e`;

/** The first page (from the smallest key, '' included) and the pages after a key. */
const statements = new WeakMap<DatabaseSync, { first: StatementSync; next: StatementSync }>();

function pages(db: DatabaseSync): { first: StatementSync; next: StatementSync } {
  let prepared = statements.get(db);
  if (prepared === undefined) {
    prepared = {
      first: db.prepare(`${SELECT} ORDER BY key LIMIT ?1`),
      next: db.prepare(`${SELECT} WHERE key > ?2 ORDER BY key LIMIT ?1`),
    };
    prepared.first.setReturnArrays(true);
    prepared.next.setReturnArrays(true);
    statements.set(db, prepared);
  }
  return prepared;
}

/**
 * Pages through the entries in key order (`key > last`, on the primary key), one statement per batch; each batch
 * is its own snapshot, so an entry written meanwhile may or may not be seen, as with any live listing. Staleness is
 * decided in SQL exactly as a read decides it (see statements.ts).
 */
export async function* inspectFile(
  open: () => DatabaseSync,
  options: InspectOptions,
): AsyncGenerator<EntryInfo> {
  let last: string | undefined;
  for (;;) {
    const page = pages(open());
    const rows = (last === undefined
      ? page.first.all(BATCH)
      : page.next.all(BATCH, last)) as unknown as Row[];
    for (const row of rows) {
      const stale = row[7] === 1;
      if (stale && !options.stale) continue;
      yield describeEntry({
        key: fromStorable(row[0]),
        tags: (JSON.parse(row[1]) as string[]).map(fromStorable),
        sessionId: row[2] === null ? undefined : fromStorable(row[2]),
        bytes: row[3],
        createdAt: row[4],
        expiresAt: row[5],
        durationMs: row[6],
        stale,
      });
    }
    if (rows.length < BATCH) return;
    last = rows[rows.length - 1]![0];
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
