/**
 * The source of truth of the freshness scenario, and the register its staleness check reads.
 *
 * Every resource has a version that only the write tool's mutation changes (an atomic increment, whichever process
 * makes it), so versions of one resource are totally ordered by the truth itself. When a write tool call has
 * returned to its caller, its lane raises the resource's `done` register to that version. A read reads `done`
 * *before* it calls the read tool: that is the highest version whose write had completed before the read started.
 * A read that returns an older version than that is stale, by definition.
 *
 * No clock decides the order. `process.hrtime()` and `performance.now()` are monotonic per process with an
 * arbitrary origin (Node promises no relation between two processes), and `Date.now()` is shared but has a
 * millisecond resolution and can be stepped by NTP. The register is linearizable instead: in process it is a Map;
 * across processes it is a row of a SQLite file in WAL mode, where a commit is visible to every statement that
 * starts after it returned, in any process. Reading it before the call and raising it after the write returned can
 * only make the check miss a stale read (a write that completes in between is not counted), never report one that is
 * not, so the check is sound; it is sensitive enough to catch a disabled second invalidation in a few thousand
 * operations (see test/stress/freshness.test.ts).
 *
 * A second register, `recorded`, is raised only by writes that returned with nothing pending in their process. A
 * write whose invalidation the backend could not record in time (a Redis command timeout on a loaded machine) still
 * returns, and other processes see the invalidation only when the retry lands (docs/reliability.md): a read of
 * another process that is older than `done` but not older than `recorded` is in that documented window.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface Truth {
  /** The current version of `r` (what the read tool's function returns). */
  read(r: string): number;
  /** The mutation: advances `r` and returns its new version. */
  bump(r: string): number;
  /**
   * A write of `r` that produced `version` has returned to its caller; `recorded`: with nothing left pending in its
   * process (its invalidations reached the backend).
   */
  completed(r: string, version: number, recorded: boolean): void;
  /** The highest version of `r` whose write had returned before now, and of those that were recorded. */
  floor(r: string): Floor;
  close(): void;
}

export interface Floor {
  readonly all: number;
  readonly recorded: number;
}

export function resourceNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `r${i}`);
}

/** A random pick of `names`, skewed towards the first ones, so some are hot (hits) and some written often. */
export function skewedPick(names: readonly string[]): () => string {
  return () => names[Math.floor(names.length * Math.random() ** 2)]!;
}

/** The truth of one process. */
export class MemoryTruth implements Truth {
  readonly #versions = new Map<string, number>();
  readonly #done = new Map<string, number>();
  readonly #recorded = new Map<string, number>();

  read(r: string): number {
    return this.#versions.get(r) ?? 0;
  }

  bump(r: string): number {
    const v = this.read(r) + 1;
    this.#versions.set(r, v);
    return v;
  }

  completed(r: string, version: number, recorded: boolean): void {
    if (version > (this.#done.get(r) ?? 0)) this.#done.set(r, version);
    if (recorded && version > (this.#recorded.get(r) ?? 0)) this.#recorded.set(r, version);
  }

  floor(r: string): Floor {
    return { all: this.#done.get(r) ?? 0, recorded: this.#recorded.get(r) ?? 0 };
  }

  close(): void {}
}

/** The truth shared by the processes of a run: one SQLite file (WAL; no fsync, it is thrown away). */
export class SqliteTruth implements Truth {
  readonly #db: DatabaseSync;
  readonly #read: StatementSync;
  readonly #bump: StatementSync;
  readonly #completed: StatementSync;
  readonly #floor: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { timeout: 30_000 });
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF');
    this.#read = this.#db.prepare('SELECT v FROM truth WHERE r = ?');
    this.#bump = this.#db.prepare('UPDATE truth SET v = v + 1 WHERE r = ? RETURNING v');
    this.#completed = this.#db.prepare(
      'UPDATE truth SET done = max(done, ?1), recorded = CASE WHEN ?2 THEN max(recorded, ?1) ELSE recorded END WHERE r = ?3',
    );
    this.#floor = this.#db.prepare('SELECT done, recorded FROM truth WHERE r = ?');
    for (const s of [this.#read, this.#bump, this.#floor]) s.setReturnArrays(true);
  }

  /** Creates the file with every resource at version 0. */
  static create(path: string, resources: readonly string[]): void {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(
      'CREATE TABLE truth (r TEXT PRIMARY KEY, v INTEGER NOT NULL, done INTEGER NOT NULL, recorded INTEGER NOT NULL)',
    );
    const insert = db.prepare('INSERT INTO truth (r, v, done, recorded) VALUES (?, 0, 0, 0)');
    db.exec('BEGIN');
    for (const r of resources) insert.run(r);
    db.exec('COMMIT');
    db.close();
  }

  read(r: string): number {
    return one(this.#read.get(r), r);
  }

  bump(r: string): number {
    return one(this.#bump.get(r), r);
  }

  completed(r: string, version: number, recorded: boolean): void {
    this.#completed.run(version, recorded ? 1 : 0, r);
  }

  floor(r: string): Floor {
    const row = this.#floor.get(r) as [number, number] | undefined;
    if (row === undefined) throw new Error(`truth: no resource ${r}`);
    return { all: row[0], recorded: row[1] };
  }

  close(): void {
    this.#db.close();
  }
}

function one(row: unknown, r: string): number {
  const value = (row as [number] | undefined)?.[0];
  if (typeof value !== 'number') throw new Error(`truth: no resource ${r}`);
  return value;
}
