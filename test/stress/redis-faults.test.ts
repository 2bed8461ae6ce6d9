import { expect, it } from 'vitest';
import scenario from '../../stress/redis-faults.stress.js';
import { redisOrSkip } from '../backends/fixtures/redis.js';

const available = await redisOrSkip('Redis faults stress scenario');

it.runIf(available)(
  'Redis faults (CI size): kill -9, SIGSTOP, CLIENT KILL — no failed call, no stale read, caching resumes',
  async () => {
    const { figures, ok, markdown } = await scenario.run('ci');
    for (const fault of ['kill-9-and-restart', 'SIGSTOP', 'CLIENT-KILL-normal', 'CLIENT-KILL-pubsub'])
      for (const mode of ['strict', 'l1']) {
        const row = `${fault}.${mode}`;
        const f = (name: string) => figures[`${row}.${name}`];
        expect(f('calls'), row).toBeGreaterThan(0);
        expect(f('writes'), row).toBeGreaterThan(0);
        expect(f('failed'), `${row}\n${markdown}`).toBe(0);
        expect(f('corrupt'), `${row}\n${markdown}`).toBe(0);
        expect(f('staleOwn'), `${row}\n${markdown}`).toBe(0);
        // Strict: none once the invalidation landed. L1: another process may lag by the pub/sub delay, never
        // beyond the heartbeat bound.
        if (mode === 'strict') expect(f('staleLanded'), `${row}\n${markdown}`).toBe(0);
        expect(f('beyondBound'), `${row}\n${markdown}`).toBe(0);
        expect(f('lost'), `${row}\n${markdown}`).toBe(0);
        expect(f('resumeMs'), `${row}: caching resumed in every process\n${markdown}`).toBeGreaterThanOrEqual(
          0,
        );
        // The outages really made invalidations go pending.
        if (fault === 'kill-9-and-restart' || fault === 'SIGSTOP')
          expect(f('writesPending'), row).toBeGreaterThan(0);
      }
    // The checks catch real stale reads: invalidations that failed, reported as recorded.
    for (const mode of ['strict', 'l1']) {
      const row = `control.SIGSTOP.${mode}`;
      expect(figures[`${row}.staleOwn`], row).toBeGreaterThan(0);
      expect(figures[`${row}.${mode === 'strict' ? 'staleLanded' : 'beyondBound'}`], row).toBeGreaterThan(0);
    }
    expect(ok, markdown).toBe(true);
  },
  240_000,
);
