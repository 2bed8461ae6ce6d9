/**
 * The crash rounds of the SQLite scenario: a writer is SIGKILLed at a random moment, again and again, on one file;
 * after each kill the file must pass SQLite's integrity check, hold row counts that agree with its tables, open
 * without being moved aside, and read back only whole entries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { configure, DiskBackend } from '../../src/index.js';

export interface CrashFigures {
  readonly kills: number;
  readonly integrityFailures: number;
  readonly countMismatches: number;
  readonly openFailures: number;
  readonly movedAside: number;
  readonly entriesChecked: number;
  readonly wholeEntries: number;
  readonly partialEntries: number;
  /** Delay between the writer saying it writes and the kill, ms. */
  readonly killAfterMs: readonly [min: number, max: number];
  readonly examples: readonly string[];
}

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

export async function crashRounds(path: string, rounds: number): Promise<CrashFigures> {
  const f = {
    kills: 0,
    integrityFailures: 0,
    countMismatches: 0,
    openFailures: 0,
    entriesChecked: 0,
    wholeEntries: 0,
    partialEntries: 0,
  };
  const examples: string[] = [];
  const killAfter: [number, number] = [5, 250];
  for (let round = 0; round < rounds; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await writing(child);
    await new Promise((r) => setTimeout(r, killAfter[0] + Math.random() * (killAfter[1] - killAfter[0])));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    f.kills++;

    const raw = new DatabaseSync(path);
    try {
      const integrity = raw.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
      if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') {
        f.integrityFailures++;
        examples.push(`round ${round}: integrity_check ${JSON.stringify(integrity.slice(0, 3))}`);
      }
      const counts = raw
        .prepare(
          `SELECT (SELECT count(*) FROM entries), (SELECT v FROM meta WHERE k = 'entries'),
                  (SELECT count(*) FROM gens), (SELECT v FROM meta WHERE k = 'gens')`,
        )
        .get() as Record<string, number>;
      const [entries, entriesMeta, gens, gensMeta] = Object.values(counts);
      if (entries !== entriesMeta || gens !== gensMeta) {
        f.countMismatches++;
        examples.push(`round ${round}: counts ${entries}/${entriesMeta} entries, ${gens}/${gensMeta} gens`);
      }
      const keys = (raw.prepare('SELECT key FROM entries').all() as { key: string }[]).map((r) => r.key);
      raw.close();

      const warnings: string[] = [];
      configure({ logger: { warn: (m: string) => void warnings.push(m) } });
      let backend: DiskBackend;
      try {
        backend = new DiskBackend(path);
      } catch (error) {
        f.openFailures++;
        examples.push(`round ${round}: open failed: ${(error as Error).message}`);
        continue;
      }
      for (const key of keys) {
        f.entriesChecked++;
        const value = backend.get(key, { stale: true })?.value as
          | { payload?: Uint8Array; digest?: string }
          | undefined;
        const whole =
          value?.payload instanceof Uint8Array &&
          createHash('sha256').update(value.payload).digest('hex') === value.digest;
        if (whole) f.wholeEntries++;
        else {
          f.partialEntries++;
          if (examples.length < 10) examples.push(`round ${round}: entry ${key} does not read back whole`);
        }
      }
      await backend.close();
      if (warnings.length > 0) examples.push(`round ${round}: ${warnings.join('; ')}`);
    } finally {
      if (raw.isOpen) raw.close();
    }
  }
  const movedAside = readdirSync(dirname(path)).filter((n) =>
    n.startsWith(`${basename(path)}.corrupt-`),
  ).length;
  return { ...f, movedAside, killAfterMs: killAfter, examples };
}

function writing(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the crash writer exited early (${code})`)));
  });
}
