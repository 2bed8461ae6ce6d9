import { expect, it } from 'vitest';
import scenario from '../../stress/memory.stress.js';

it('memory (CI size): bounded heap for distinct calls, ended sessions and a long loop-detecting session', async () => {
  const { figures, markdown, ok } = await scenario.run('ci');
  const f = (name: string): number => {
    const value = figures[name];
    if (value === undefined) throw new Error(`the memory scenario reports no figure ${name}`);
    return value;
  };
  const MB = 1 << 20;
  // Distinct calls: the backend stays at its bound, and the heap stops growing once the key memo is full (an
  // unevicted cache would keep growing by some 600 bytes a call: ~60 MB over the second half).
  expect(f('distinctMinEntries')).toBe(f('maxEntries'));
  expect(f('distinctEntries')).toBe(f('maxEntries'));
  const distinctGrowth = f('distinctRetained') - f('distinctRetainedAtHalf');
  expect(distinctGrowth, markdown).toBeLessThan(MB + 0.1 * f('distinctRetainedAtHalf'));
  expect(f('distinctRetained'), markdown).toBeLessThan(0.2 * f('distinctUnevicted'));
  // Ended sessions: nothing of theirs left in the backend, no session object reachable, and the heap back to a
  // fraction of what they held alive (when entries stayed reachable after they left the backend, half stayed).
  expect(f('liveEntries')).toBe(f('sessions') * 5 + 1);
  expect(f('entriesAfterEnd')).toBe(1);
  expect(f('sessionsHeldByBackend')).toBe(0);
  expect(f('sessionsWatched')).toBeGreaterThan(0);
  expect(f('sessionsReachable'), markdown).toBe(0);
  expect(f('endedRetained'), markdown).toBeLessThan(0.25 * f('liveRetained'));
  expect(f('serialRetained'), markdown).toBeLessThan(0.25 * f('liveRetained'));
  // The same on DiskBackend and RedisBackend: nothing of the ended sessions left in the backend or reachable.
  expect(f('persistentRuns')).toBeGreaterThanOrEqual(1);
  expect(f('persistentEntriesAfter')).toBe(f('persistentRuns'));
  expect(f('persistentSessionsHeld'), markdown).toBe(0);
  expect(f('persistentSessionsReachable'), markdown).toBe(0);
  // The long session: a bounded history, loops caught, and no growth once every document has been seen.
  expect(f('loopMaxHistory')).toBe(50);
  expect(f('loopMaxTracked')).toBeLessThanOrEqual(256);
  expect(f('loopDetections')).toBeGreaterThan(0);
  const loopGrowth = f('loopRetained') - f('loopRetainedSettled');
  expect(loopGrowth, markdown).toBeLessThan(MB + 0.1 * f('loopRetainedSettled'));
  expect(ok).toBe(true);
}, 300_000);
