import { describe, expect, it } from 'vitest';
import { AgentCacheSession, type AgentCacheSessionOptions } from '../../src/index.js';

const THRESHOLDS = [
  'maxToolRepeats',
  'maxExecutionDepth',
  'maxCyclePeriod',
  'minCycleRepeats',
  'maxConsecutiveFailures',
  'historyWindow',
] as const;

describe('session loop options', () => {
  it.each(THRESHOLDS)('%s: 0, negative, non-integer and non-numbers are a TypeError naming it', (option) => {
    for (const value of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null]) {
      const options = { loopDetection: true, [option]: value } as unknown as AgentCacheSessionOptions;
      expect(() => new AgentCacheSession(options)).toThrow(TypeError);
      expect(() => new AgentCacheSession(options)).toThrow(option);
    }
  });

  it('is validated even with loop detection off (the options are wrong either way)', () => {
    expect(() => new AgentCacheSession({ maxToolRepeats: 0 })).toThrow(/maxToolRepeats/);
  });

  it('a cycle needs a period of at least 2 repeated at least twice', () => {
    expect(() => new AgentCacheSession({ maxCyclePeriod: 1 })).toThrow(/maxCyclePeriod/);
    expect(() => new AgentCacheSession({ minCycleRepeats: 1 })).toThrow(/minCycleRepeats/);
  });

  it('onLoop must be a mode or a function', () => {
    expect(
      () => new AgentCacheSession({ onLoop: 'ignore' as unknown as AgentCacheSessionOptions['onLoop'] }),
    ).toThrow(/onLoop/);
  });

  it('accepts valid thresholds and the defaults', () => {
    const s = new AgentCacheSession({ loopDetection: true });
    expect(s.loop?.options).toMatchObject({
      maxToolRepeats: 5,
      maxExecutionDepth: 50,
      onLoop: 'raise',
      maxCyclePeriod: 5,
      minCycleRepeats: 3,
      maxConsecutiveFailures: 3,
      historyWindow: 50,
    });
    const t = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 1, historyWindow: 1 });
    expect(t.loop?.options.historyWindow).toBe(1);
  });
});
