import { expect, it } from 'vitest';
import scenario from '../../stress/sqlite.stress.js';

it('SQLite under faults (CI size): killed writers leave whole files; a held write lock loses no invalidation', async () => {
  const { figures, markdown } = await scenario.run('ci');
  // Crash safety: every kill leaves a file that checks, opens as it is, and holds only whole entries.
  expect(figures.kills).toBe(8);
  expect(figures.integrityFailures, markdown).toBe(0);
  expect(figures.countMismatches, markdown).toBe(0);
  expect(figures.openFailures, markdown).toBe(0);
  expect(figures.movedAside, markdown).toBe(0);
  expect(figures.partialEntries, markdown).toBe(0);
  expect(figures.wholeEntries).toBeGreaterThan(0);
  // The lock: invalidations really went pending (the fault happened), and none was lost or served around.
  expect(figures.writesLeftPending, markdown).toBeGreaterThan(0);
  expect(figures.olderDuringHold, markdown).toBeGreaterThan(0);
  expect(figures.failedCalls, markdown).toBe(0);
  expect(figures.staleReads, markdown).toBe(0);
  expect(figures.lostInvalidations, markdown).toBe(0);
  // A busy wait inside a call used to keep the event loop for the whole busy timeout (500 ms here); the bound the
  // library aims at is ~100 ms, asserted with room for a loaded machine.
  expect(figures.longestBackendCallMs, markdown).toBeLessThan(400);
}, 180_000);
