/**
 * The detector against a naive reference written straight from the loop rules of docs/api.md (it keeps the whole session and rescans it
 * on every call), on random sessions with small thresholds and windows, so that eviction from the ring, resets by
 * invalidation, cycles and failures all happen often.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentTick } from '../../src/loop/clock.js';
import { LoopDetector } from '../../src/loop/detector.js';
import type { RuleHit } from '../../src/loop/rules.js';
import { type ResolvedLoopOptions, resolveLoopOptions } from '../../src/session/options.js';

interface Step {
  readonly tool: number; // 0 and 1 are reads of resources r0 and r1; 2 is a write of r<arg % 2>
  readonly arg: number;
  readonly keyless: boolean; // arguments with no canonical form
  readonly fails: boolean;
}

const toolName = (s: Step) => `tool${s.tool}`;
const keyOf = (s: Step) => (s.keyless ? undefined : `${s.tool}:${s.arg}`);
const resourcesOf = (s: Step) => (s.tool === 2 ? [`r${s.arg % 2}`] : [`r${s.tool}`]);

/** What the loop rules say about call `i` of `steps`, given everything before it. */
function reference(
  steps: readonly Step[],
  i: number,
  o: ResolvedLoopOptions,
): Pick<RuleHit, 'kind' | 'count'> | undefined {
  const tool = toolName(steps[i]!);
  let failures = 0;
  for (let j = i - 1; j >= 0; j--) {
    if (toolName(steps[j]!) !== tool) continue;
    if (!steps[j]!.fails) break;
    failures++;
  }
  if (failures >= o.maxConsecutiveFailures) return { kind: 'retry_storm', count: failures };
  const start = Math.max(0, i + 1 - o.historyWindow);
  const window = steps.slice(start, i + 1).map(keyOf);
  const n = window.length;
  for (let p = 2; p <= o.maxCyclePeriod; p++) {
    const needed = p * o.minCycleRepeats;
    if (n < needed) break;
    const same = (a: number) =>
      window[n - 1 - a] !== undefined && window[n - 1 - a] === window[n - 1 - a - p];
    let matched = 0;
    while (matched + p < n && same(matched)) matched++;
    if (matched + p < needed) continue;
    const block = window.slice(n - p);
    const periodic = (q: number) => p % q === 0 && block.every((k, x) => x + q >= p || k === block[x + q]);
    if ([...Array(p - 1).keys()].some((q) => periodic(q + 1))) continue;
    return { kind: 'oscillation', count: Math.floor((matched + p) / p) };
  }
  const key = keyOf(steps[i]!);
  if (key === undefined) return undefined;
  let since = start; // index of the first call that counts
  if (steps[i]!.tool !== 2) {
    for (let j = i - 1; j >= start; j--) {
      const s = steps[j]!;
      if (s.tool === 2 && resourcesOf(s).some((r) => resourcesOf(steps[i]!).includes(r))) {
        since = j + 1;
        break;
      }
    }
  }
  let count = 0;
  for (let j = since; j <= i; j++) if (keyOf(steps[j]!) === key) count++;
  return count > o.maxToolRepeats ? { kind: 'repeat', count } : undefined;
}

const step = fc.record({
  tool: fc.integer({ min: 0, max: 2 }),
  arg: fc.integer({ min: 0, max: 2 }),
  keyless: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
  fails: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
});
const options = fc.record({
  historyWindow: fc.integer({ min: 3, max: 14 }),
  maxToolRepeats: fc.integer({ min: 1, max: 4 }),
  maxCyclePeriod: fc.integer({ min: 2, max: 4 }),
  minCycleRepeats: fc.integer({ min: 2, max: 3 }),
  maxConsecutiveFailures: fc.integer({ min: 1, max: 3 }),
});

describe('LoopDetector against the reference', () => {
  it('reports exactly what the rules say, call after call', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), options, (steps, opts) => {
        const o = resolveLoopOptions(opts);
        const detector = new LoopDetector(o);
        steps.forEach((s, i) => {
          const hit = detector.observe(
            toolName(s),
            keyOf(s),
            1,
            s.tool === 2 ? undefined : () => resourcesOf(s),
          );
          expect(hit && { kind: hit.kind, count: hit.count }, `call ${i}`).toEqual(reference(steps, i, o));
          if (s.tool === 2) detector.invalidated(resourcesOf(s));
          detector.settled(toolName(s), currentTick(), !s.fails, new Error('failed'));
        });
      }),
      { numRuns: 400 },
    );
  });
});
