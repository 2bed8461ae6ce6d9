/**
 * Freshness property: several readers and writers on one resource with random delays; no read that starts after a
 * write completed may return data older than that write. Run over several seeds, in global and session scope.
 */
import { describe, expect, it } from 'vitest';
import { AgentCache, AgentCacheInvalidator, AgentCacheSession } from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits a random number of event-loop turns (0..max), so operations interleave differently per seed. */
async function jitter(random: () => number, max = 6): Promise<void> {
  const turns = Math.floor(random() * (max + 1));
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

async function scenario(
  seed: number,
  scope: 'global' | 'session',
): Promise<{ reads: number; violations: string[] }> {
  freshCache();
  const random = prng(seed);
  let version = 0; // the data
  let committed = 0; // the newest version whose write has completed
  const violations: string[] = [];
  let reads = 0;

  const read = AgentCache({ resource: 'doc', scope })(async function readDoc() {
    await jitter(random);
    const seen = version;
    await jitter(random);
    return seen;
  });
  const write = AgentCacheInvalidator({ resource: 'doc' })(async function writeDoc() {
    await jitter(random);
    const next = ++version;
    await jitter(random);
    return next;
  });

  const reader = async (id: number) => {
    for (let i = 0; i < 25; i++) {
      await jitter(random, 3);
      const mustSee = committed;
      const value = await read();
      reads++;
      if (value < mustSee) violations.push(`reader ${id} got v${value} after v${mustSee} was committed`);
    }
  };
  const writer = async () => {
    for (let i = 0; i < 8; i++) {
      await jitter(random, 10);
      const wrote = await write();
      if (wrote > committed) committed = wrote;
    }
  };
  const actors = () => Promise.all([reader(1), reader(2), reader(3), reader(4), writer(), writer()]);
  if (scope === 'session') await AgentCacheSession.run({}, actors);
  else await actors();
  return { reads, violations };
}

describe('freshness property', () => {
  for (const scope of ['global', 'session'] as const) {
    it(`no read that starts after a completed write returns older data (${scope} scope, 12 seeds)`, async () => {
      for (let seed = 1; seed <= 12; seed++) {
        const { reads, violations } = await scenario(seed * 7919, scope);
        expect(reads).toBe(100);
        expect(violations, `seed ${seed}`).toEqual([]);
      }
    });
  }
});
