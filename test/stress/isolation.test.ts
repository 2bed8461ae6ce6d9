import { expect, it } from 'vitest';
import scenario from '../../stress/isolation.stress.js';
import { redisOrSkip } from '../backends/fixtures/redis.js';

it('isolation (CI size): sessions, side-by-side caches and file modes', async () => {
  const redis = await redisOrSkip('isolation scenario');
  const { figures: f, markdown, ok } = await scenario.run('ci');
  // Sessions, on every backend: no value, hit, invalidation or counter of one session reaches another, and an
  // ended session leaves nothing behind.
  expect(f.backends).toBe(redis ? 4 : 2);
  expect(f.sessionHits).toBeGreaterThan(100);
  expect(f.sessionMisses).toBeGreaterThan(100);
  expect(f.leaks, markdown).toBe(0);
  expect(f.wrongOutcomes, markdown).toBe(0);
  expect(f.metricMismatches, markdown).toBe(0);
  expect(f.endedEntriesLeft, markdown).toBe(0);
  expect(f.hitsAfterEnd, markdown).toBe(0);
  expect(f.liveLost, markdown).toBe(0);
  expect(f.leftAtEnd, markdown).toBe(0);
  // Side by side (Redis `app:` and `app:tenant2:`, strict and L1; two files; two memory backends): a write, a
  // session end and clear() of one leave the other exactly as it was, and do drop the acting one's entries.
  expect(f.pairs).toBe(redis ? 4 : 2);
  expect(f.prefixSteps).toBe(6 * f.pairs!);
  expect(f.foreignChanged, markdown).toBe(0);
  expect(f.foreignMisses, markdown).toBe(0);
  expect(f.ownNotDropped, markdown).toBe(0);
  expect(f.strayKeys, markdown).toBe(0);
  if (redis) expect(f.braceRefused).toBe(1);
  // Files: the cache file, its -wal and -shm are 0600 under umask 0; no directory is created.
  expect(f.walFiles).toBeGreaterThan(0);
  expect(f.shmFiles).toBeGreaterThan(0);
  expect(f.wideModes, markdown).toBe(0);
  expect(f.missingDirectoryRefused).toBe(1);
  expect(f.directoriesCreated).toBe(0);
  expect(ok).toBe(true);
}, 300_000);
