import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Generation of a tag that is not in `gens`: the floor, raised by clear() and when old tags are forgotten. */
const FLOOR = `(SELECT v FROM meta WHERE k = 'floor')`;
/**
 * Generations below this were handed out before the last clear(): such a row reads as the floor, exactly as if it
 * were already deleted, so clear() makes everything stale in one small transaction and deletes the old rows in
 * batches afterwards without anything observable changing. (Absent in files no clear() of this version touched.)
 */
const CLEARED = `coalesce((SELECT v FROM meta WHERE k = 'cleared'), 0)`;
/** The current generation of a tag, from its `gens` row (or NULL when it has none). */
const current = (gen: string) => `coalesce(CASE WHEN ${gen} >= ${CLEARED} THEN ${gen} END, ${FLOOR})`;

/**
 * Every statement the backend runs, prepared once. Freshness is checked inside SQL (one statement, one snapshot):
 * an entry is fresh when no tag of its `tags` array has a current generation different from the one at the same
 * index of its `gens` array.
 */
export interface Statements {
  /** → [value, expires_at, tags, gens, session_id, created_at, duration_ms] of a fresh, unexpired entry. Params: key, now. */
  readonly getFresh: StatementSync;
  /** → the same columns whatever the entry's state. Param: key. */
  readonly getAny: StatementSync;
  /** → [gen] per tag, in order. Param: JSON array of tags. */
  readonly generations: StatementSync;
  /** Inserts/replaces the entry only if its gens are current. Params: key, value, expires, tags, gens, sid, used,
   * created, duration. */
  readonly setIfCurrent: StatementSync;
  /** Advances the clock by n and returns the new value. Param: n. */
  readonly advanceClock: StatementSync;
  /** Sets tags[i] to first + i. Params: JSON array of tags, first, sid. */
  readonly bumpTags: StatementSync;
  readonly deleteEntry: StatementSync;
  readonly touch: StatementSync;
  readonly count: StatementSync;
  readonly evictLru: StatementSync;
  readonly sweepExpired: StatementSync;
  readonly forgetOldestGens: StatementSync;
  readonly raiseFloor: StatementSync;
  /** Deletes up to n entries of a session. Params: sid, n. */
  readonly clearSessionEntries: StatementSync;
  /** Deletes up to n tag generations of a session. Params: sid, n. */
  readonly clearSessionGens: StatementSync;
  /** Records where the last clear() happened. Param: the clock at that moment. */
  readonly markCleared: StatementSync;
  /** Deletes up to n generations below a floor (clear()). Params: floor, n. */
  readonly deleteOldGens: StatementSync;
  /** Deletes up to n entries (clear()). Param: n. */
  readonly deleteSomeEntries: StatementSync;
}

export function prepareStatements(db: DatabaseSync): Statements {
  const prepare = (sql: string, arrays = false): StatementSync => {
    const statement = db.prepare(sql);
    // Rows as arrays: no per-row object with named properties to build on the hot path.
    if (arrays) statement.setReturnArrays(true);
    return statement;
  };
  return {
    getFresh: prepare(
      `SELECT value, expires_at, tags, gens, session_id, created_at, duration_ms FROM entries e
       WHERE key = ?1 AND (expires_at = 0 OR expires_at > ?2) AND json_valid(e.tags) AND json_valid(e.gens)
         AND NOT EXISTS (SELECT 1 FROM json_each(e.tags) t LEFT JOIN gens g ON g.tag = t.value
                         WHERE ${current('g.gen')} IS NOT (e.gens ->> t.key))`,
      true,
    ),
    getAny: prepare(
      `SELECT value, expires_at, tags, gens, session_id, created_at, duration_ms FROM entries
       WHERE key = ?1 AND json_valid(tags) AND json_valid(gens)`,
      true,
    ),
    generations: prepare(
      `SELECT ${current('(SELECT gen FROM gens WHERE tag = t.value)')} FROM json_each(?1) t ORDER BY t.key`,
      true,
    ),
    setIfCurrent: prepare(
      `INSERT INTO entries (key, value, expires_at, tags, gens, session_id, used_at, created_at, duration_ms)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
       WHERE NOT EXISTS (SELECT 1 FROM json_each(?4) t LEFT JOIN gens g ON g.tag = t.value
                         WHERE ${current('g.gen')} IS NOT (?5 ->> t.key))
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, tags = excluded.tags,
         gens = excluded.gens, session_id = excluded.session_id, used_at = excluded.used_at,
         created_at = excluded.created_at, duration_ms = excluded.duration_ms`,
    ),
    advanceClock: prepare(`UPDATE meta SET v = v + ?1 WHERE k = 'clock' RETURNING v`, true),
    bumpTags: prepare(
      `INSERT INTO gens (tag, gen, session_id) SELECT t.value, ?2 + t.key, ?3 FROM json_each(?1) t WHERE true
       ON CONFLICT (tag) DO UPDATE SET gen = excluded.gen, session_id = coalesce(excluded.session_id, gens.session_id)`,
    ),
    deleteEntry: prepare(`DELETE FROM entries WHERE key = ?1`),
    touch: prepare(`UPDATE entries SET used_at = ?2 WHERE key = ?1 AND used_at < ?2`),
    count: prepare(
      `SELECT (SELECT v FROM meta WHERE k = 'entries'), (SELECT v FROM meta WHERE k = 'gens')`,
      true,
    ),
    evictLru: prepare(`DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY used_at LIMIT ?1)`),
    sweepExpired: prepare(
      `DELETE FROM entries WHERE key IN
         (SELECT key FROM entries WHERE expires_at > 0 AND expires_at <= ?1 LIMIT ?2)`,
    ),
    forgetOldestGens: prepare(
      `DELETE FROM gens WHERE tag IN (SELECT tag FROM gens ORDER BY gen LIMIT ?1) RETURNING gen`,
      true,
    ),
    raiseFloor: prepare(`UPDATE meta SET v = max(v, ?1) WHERE k = 'floor'`),
    clearSessionEntries: prepare(
      `DELETE FROM entries WHERE key IN (SELECT key FROM entries WHERE session_id = ?1 LIMIT ?2)`,
    ),
    clearSessionGens: prepare(
      `DELETE FROM gens WHERE tag IN (SELECT tag FROM gens WHERE session_id = ?1 LIMIT ?2)`,
    ),
    markCleared: prepare(
      `INSERT INTO meta (k, v) VALUES ('cleared', ?1) ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)`,
    ),
    deleteOldGens: prepare(`DELETE FROM gens WHERE tag IN (SELECT tag FROM gens WHERE gen < ?1 LIMIT ?2)`),
    deleteSomeEntries: prepare(`DELETE FROM entries WHERE key IN (SELECT key FROM entries LIMIT ?1)`),
  };
}
