/**
 * Replays every agent trace of test/fixtures/loops through the real public API (AgentCache and
 * AgentCacheInvalidator tools inside an AgentCacheSession with loop detection, onLoop recording and warning) and
 * compares the detections with the ones each trace expects. Prints precision and recall over the whole set.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type LoopDetection,
  type LoopKind,
} from '../../src/index.js';
import { countCalls, type Trace, type TraceCall, type TraceStep } from '../fixtures/loops/trace.js';
import { recordingLogger } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/loops/', import.meta.url));
const traces: Trace[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(`${dir}${f}`, 'utf8')) as Trace);

interface Found {
  readonly call: number;
  readonly kind: LoopKind;
}

interface Replay {
  readonly found: Found[];
  readonly calls: number;
  /** Calls declared `fails` that did not reject, or calls that rejected without being declared so. */
  readonly outcomeMismatches: number[];
}

type Tool = (...args: unknown[]) => Promise<unknown>;

async function replay(trace: Trace): Promise<Replay> {
  const found: Found[] = [];
  const outcomeMismatches: number[] = [];
  let index = -1;
  /**
   * Calls issued and not yet started, by tool and arguments: a tool function takes its own when it starts (a write
   * starts after its invalidation, so later than the call itself). Coalesced callers leave theirs behind; each call
   * removes its entry when it settles.
   */
  const waiting = new Map<string, TraceCall[]>();
  const waitKey = (tool: string, args: readonly unknown[]) => `${tool} ${JSON.stringify(args)}`;

  const tools = new Map<string, Tool>();
  for (const [name, def] of Object.entries(trace.tools)) {
    // Each call may name its own resources; the resource function finds them by arguments.
    const byArgs = new Map<string, readonly string[]>();
    const resource = (...args: unknown[]) => [...(byArgs.get(JSON.stringify(args)) ?? def.resources)];
    const fn = async (...args: unknown[]) => {
      const spec = waiting.get(waitKey(name, args))?.shift();
      if (spec === undefined) throw new Error(`${trace.name}: ${name} ran without being issued`);
      for (const step of spec.calls ?? []) await issue(step);
      if (spec.fails) throw new Error(`${spec.tool} failed (declared by the trace)`);
      return { tool: spec.tool, ok: true };
    };
    Object.defineProperty(fn, 'name', { value: name });
    const wrapped =
      def.kind === 'read'
        ? AgentCache({ resource, scope: 'session', name })(fn)
        : AgentCacheInvalidator({ resource, scope: 'session', name })(fn);
    tools.set(name, Object.assign(wrapped, { byArgs }) as Tool);
  }

  function start(c: TraceCall): Promise<unknown> {
    const tool = tools.get(c.tool) as (Tool & { byArgs: Map<string, readonly string[]> }) | undefined;
    if (tool === undefined) throw new Error(`${trace.name}: unknown tool ${c.tool}`);
    if (c.resources) tool.byArgs.set(JSON.stringify(c.args), c.resources);
    index++;
    const mine = index;
    const queue = waiting.get(waitKey(c.tool, c.args)) ?? [];
    waiting.set(waitKey(c.tool, c.args), queue);
    queue.push(c);
    const settle = (rejected: boolean) => {
      const left = queue.indexOf(c);
      if (left >= 0) queue.splice(left, 1);
      if (rejected !== Boolean(c.fails)) outcomeMismatches.push(mine);
    };
    return tool(...c.args).then(
      () => settle(false),
      () => settle(true),
    );
  }

  async function issue(step: TraceStep): Promise<void> {
    if ('parallel' in step) await Promise.all(step.parallel.map(start));
    else await start(step);
  }

  const onLoop = (d: LoopDetection) => {
    found.push({ call: index, kind: d.kind });
    return 'warn' as const;
  };
  await AgentCacheSession.run(
    { sessionId: trace.name, loopDetection: true, onLoop, logger: recordingLogger(), ...trace.options },
    async () => {
      for (const step of trace.calls) await issue(step);
    },
  );
  return { found, calls: index + 1, outcomeMismatches };
}

const key = (d: Found) => `${d.call}:${d.kind}`;
const totals = { tp: 0, fp: 0, fn: 0 };
const rows: string[] = [];

describe('loop detection on the fixture traces', () => {
  it('has the fixture set the issue asks for', () => {
    const categories = new Set(traces.map((t) => t.category));
    for (const c of [
      'stuck-repeat',
      'cycle',
      'broken-cycle',
      'batch-edit',
      'polling',
      'retry-storm',
      'recursion',
    ]) {
      expect(categories).toContain(c);
    }
    const healthy = traces.filter((t) => t.category === 'healthy' && countCalls(t.calls) >= 200);
    expect(healthy.length).toBeGreaterThanOrEqual(2);
    for (const t of healthy) expect(t.expected).toEqual([]);
    const periods = traces.filter((t) => t.category === 'cycle').length;
    expect(periods).toBeGreaterThanOrEqual(4); // cycles of 2, 3, 4 and 5 steps
  });

  it.each(traces.map((t) => [t.name, t] as const))('%s', async (_name, trace) => {
    const { found, calls, outcomeMismatches } = await replay(trace);
    expect(calls).toBe(countCalls(trace.calls));
    expect(outcomeMismatches, 'every call fails exactly when the trace says so').toEqual([]);
    const expected = new Set(trace.expected.map(key));
    const got = new Set(found.map(key));
    const tp = [...got].filter((k) => expected.has(k)).length;
    totals.tp += tp;
    totals.fp += got.size - tp;
    totals.fn += expected.size - tp;
    rows.push(
      `| ${trace.name} | ${trace.category} | ${calls} | ${[...expected].join(' ') || '—'} | ${[...got].join(' ') || '—'} |`,
    );
    expect(found.map(key)).toEqual(trace.expected.map(key));
  });

  afterAll(() => {
    const precision = totals.tp + totals.fp === 0 ? 1 : totals.tp / (totals.tp + totals.fp);
    const recall = totals.tp + totals.fn === 0 ? 1 : totals.tp / (totals.tp + totals.fn);
    console.log(
      [
        `loop detection over ${traces.length} fixture traces (${traces.reduce((n, t) => n + countCalls(t.calls), 0)} calls)`,
        '| trace | category | calls | expected (call:kind) | detected |',
        '| --- | --- | ---: | --- | --- |',
        ...rows,
        `detections: ${totals.tp} true, ${totals.fp} false, ${totals.fn} missed`,
        `precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}`,
      ].join('\n'),
    );
    // Every trace is labelled from the loop rules (docs/api.md), so anything short of exact is a bug.
    expect(precision).toBe(1);
    expect(recall).toBe(1);
  });
});
