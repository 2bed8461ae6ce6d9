/**
 * SQLite under faults: a writer SIGKILLed at random moments, again and again (the file stays whole), and a write
 * lock held by another process for seconds (no invalidation lost, no stale read, no call failed, the event loop
 * never held long). See sqlite/crash.ts and sqlite/lock.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Scenario, type ScenarioSize, table } from './scenario.js';
import { type CrashFigures, crashRounds } from './sqlite/crash.js';
import { type LockFigures, lockRound } from './sqlite/lock.js';

const SIZES: Record<ScenarioSize, { kills: number; holdMs: number; busyTimeout: number }> = {
  ci: { kills: 8, holdMs: 1_500, busyTimeout: 500 },
  full: { kills: 50, holdMs: 5_000, busyTimeout: 2_000 },
};
const ITEMS = 32;
const LANES = 8;
/** "No backend call blocks the event loop for longer than about 100 ms." */
const BLOCK_BOUND_MS = 100;

const ms = (x: number) => `${x.toFixed(1)} ms`;

function markdown(crash: CrashFigures, lock: LockFigures): string {
  const l = lock.load;
  const crashTable = table([
    [
      'kills',
      'integrity_check failures',
      'row counts off',
      'opens failed',
      'files moved aside',
      'entries read back',
      'whole',
      'partial',
    ],
    [
      crash.kills,
      crash.integrityFailures,
      crash.countMismatches,
      crash.openFailures,
      crash.movedAside,
      crash.entriesChecked,
      crash.wholeEntries,
      crash.partialEntries,
    ],
  ]);
  const lockTable = table([
    ['figure', 'value'],
    ['write lock held by another process', `${lock.holdMs} ms (\`busyTimeout\` ${lock.busyTimeout} ms)`],
    ['calls made (reads / writes)', `${l.reads + l.writes} (${l.reads} / ${l.writes})`],
    ['calls failed', l.failed],
    ['stale reads in the writer’s process', l.stale],
    ['writes that returned with their invalidation pending', l.writesLeftPending],
    ['most invalidations pending at once', l.pendingMax],
    [
      'lost invalidations (the other process still served a pre-write value after recovery)',
      lock.lostInvalidations,
    ],
    ['stale reads in the writer’s process after recovery', lock.staleAfterRecovery],
    ['lock released → every pending invalidation recorded', ms(lock.recoveryMs)],
    ['longest synchronous part of a backend call', `${ms(l.longestBackendCallMs)} (${l.longestBackendOp})`],
    [
      'longest event-loop delay (monitorEventLoopDelay; scheduling on a busy machine included)',
      `${ms(l.loopDelayMaxMs)} (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
    ],
    ['longest call (a tool call, waits included)', ms(l.longestCallMs)],
    ['hits / run uncached (bypassed) / backend errors', `${l.hits} / ${l.bypassed} / ${l.backendErrors}`],
    [
      'the other process, half-way through the hold: items read older than the source of truth',
      `${lock.olderDuringHold} of ${lock.items} (the documented window: it sees an invalidation when it lands)`,
    ],
  ]);
  return `**Crash safety.** A writer process works one DiskBackend file through the public API (${'read tools storing entries of up to 32 KB, write tools, session-scoped entries and sessions that end, an occasional `clear()`; 6 concurrent lanes'}) and is SIGKILLed ${crash.kills} times, at a random moment ${crash.killAfterMs[0]}–${crash.killAfterMs[1]} ms after it started writing. After each kill the file must pass \`PRAGMA integrity_check\`, its row counts (kept by triggers) must agree with its tables, it must open without being moved aside, and every entry must read back whole (each value carries the SHA-256 of its payload).

${crashTable}

**Write lock held by another process.** Two processes share a cache file and have all ${ITEMS} items cached. A third process takes the file's write lock (\`BEGIN IMMEDIATE\`, then holds it) for ${lock.holdMs} ms. Meanwhile the writer process runs ${LANES} lanes of calls for ${lock.holdMs + 500} ms (75% cached reads, 25% invalidating writes that bump the item's version in the source of truth). Its invalidations cannot be recorded (\`busyTimeout\` ${lock.busyTimeout} ms): they stay pending in the writer's process, which serves none of the affected entries and retries; writes after the first do not wait for the busy file again. After the release, the other process reads every item: a version older than the source of truth would be a lost invalidation.

${lockTable}
${
  [...crash.examples].length === 0
    ? ''
    : `\nNotes from the crash rounds:\n\n${crash.examples
        .slice(0, 10)
        .map((e) => `- ${e}`)
        .join('\n')}\n`
}`;
}

const scenario: Scenario = {
  id: 'sqlite',
  title: 'SQLite under faults: writers killed mid-write, a write lock held by another process',
  async run(size) {
    const { kills, holdMs, busyTimeout } = SIZES[size];
    const dir = mkdtempSync(join(tmpdir(), 'agent-cache-stress-sqlite-'));
    try {
      const crash = await crashRounds(join(dir, 'crash.db'), kills);
      const lock = await lockRound(dir, { holdMs, busyTimeout, items: ITEMS, lanes: LANES });
      const l = lock.load;
      const figures: Record<string, number> = {
        kills: crash.kills,
        integrityFailures: crash.integrityFailures,
        countMismatches: crash.countMismatches,
        openFailures: crash.openFailures,
        movedAside: crash.movedAside,
        entriesChecked: crash.entriesChecked,
        wholeEntries: crash.wholeEntries,
        partialEntries: crash.partialEntries,
        holdMs,
        calls: l.reads + l.writes,
        writes: l.writes,
        failedCalls: l.failed,
        staleReads: l.stale + lock.staleAfterRecovery,
        writesLeftPending: l.writesLeftPending,
        lostInvalidations: lock.lostInvalidations,
        recoveryMs: lock.recoveryMs,
        longestBackendCallMs: l.longestBackendCallMs,
        loopDelayMaxMs: l.loopDelayMaxMs,
        longestCallMs: l.longestCallMs,
        olderDuringHold: lock.olderDuringHold,
      };
      const ok =
        crash.integrityFailures === 0 &&
        crash.countMismatches === 0 &&
        crash.openFailures === 0 &&
        crash.movedAside === 0 &&
        crash.partialEntries === 0 &&
        crash.wholeEntries > 0 &&
        l.failed === 0 &&
        figures.staleReads === 0 &&
        lock.lostInvalidations === 0 &&
        l.writesLeftPending > 0 &&
        l.longestBackendCallMs <= BLOCK_BOUND_MS;
      return { markdown: markdown(crash, lock), ok, figures };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
