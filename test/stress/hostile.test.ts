import { expect, it } from 'vitest';
import scenario from '../../stress/hostile.stress.js';
import { redisOrSkip } from '../backends/fixtures/redis.js';

it('hostile input (CI size): large values, 100k-deep nesting, hostile names and ids, tampered files and Redis values', async () => {
  const redis = await redisOrSkip('hostile stress scenario (Redis checks)');
  const { figures, ok, markdown } = await scenario.run('ci');
  expect(figures.crashes, markdown).toBe(0);
  // The payload is live (a naive reviver runs it), and it stayed inert through agent-cache.
  expect(figures.payloadLive).toBe(1);
  expect(figures.largeValues).toBe(redis ? 9 : 6);
  const checks = Object.keys(figures).filter((k) => k.endsWith('.failures'));
  expect(checks.length).toBeGreaterThanOrEqual(redis ? 21 : 13);
  for (const check of checks) {
    expect(figures[check], `${check}\n${markdown}`).toBe(0);
    expect(figures[check.replace('.failures', '.cases')], check).toBeGreaterThan(0);
  }
  if (redis) expect(ok, markdown).toBe(true);
}, 180_000);
