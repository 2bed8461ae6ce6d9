import { expect, it } from 'vitest';
import scenario from '../../stress/freshness.stress.js';
import { redisOrSkip } from '../backends/fixtures/redis.js';

it('freshness under load (CI size): no stale read on any backend, in process and across processes', async () => {
  const redis = await redisOrSkip('freshness stress scenario (Redis rows)');
  const { figures, ok, markdown } = await scenario.run('ci');
  const rows = ['memory.in-process', 'disk.in-process', 'disk.processes'];
  if (redis)
    rows.push(
      'redis-strict.in-process',
      'redis-strict.processes',
      'redis-l1.in-process',
      'redis-l1.processes',
    );
  for (const row of rows) {
    expect(figures[`${row}.ops`], row).toBeGreaterThanOrEqual(2_500);
    expect(figures[`${row}.failed`], row).toBe(0);
    expect(figures[`${row}.corrupt`], row).toBe(0);
    expect(figures[`${row}.staleOwn`], row).toBe(0);
    // With the L1 on, another process may lag behind a write by the pub/sub delay, never beyond the heartbeat.
    if (row !== 'redis-l1.processes') expect(figures[`${row}.staleOther`], row).toBe(0);
    expect(figures[`${row}.beyondBound`], row).toBe(0);
    expect(figures[`${row}.hits`], row).toBeGreaterThan(0);
  }
  // The check catches real stale reads: the guarantees broken on purpose by a backend wrapper.
  for (const control of [
    'memory.in-process.skip-second-bump',
    'memory.in-process.stale-entry',
    'disk.processes.skip-second-bump',
  ]) {
    expect(figures[`${control}.staleOwn`]! + figures[`${control}.staleOther`]!, control).toBeGreaterThan(0);
    expect(figures[`${control}.corrupt`], control).toBe(0);
  }
  if (redis) expect(ok, markdown).toBe(true);
}, 120_000);
