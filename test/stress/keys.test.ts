import { expect, it } from 'vitest';
import scenario from '../../stress/keys.stress.js';

it('key encoder fuzz (CI size): no shared keys, no split twins, only NotCanonicalisableError', async () => {
  const report = await scenario.run('ci');
  expect(report.markdown).not.toMatch(/First failures/);
  expect(report.figures).toMatchObject({
    cases: 3_000,
    unexpectedErrors: 0,
    wrongVerdicts: 0,
    formsDisagree: 0,
    collisions: 0,
    twinSplits: 0,
  });
  // The run exercised both sides: values keyed and values refused.
  expect(report.figures.keyed).toBeGreaterThan(1_000);
  expect(report.figures.refused).toBeGreaterThan(100);
  expect(report.ok).toBe(true);
}, 120_000);
