/**
 * `agent-cache report`: the replay of a recorded run through the real library, checked against figures worked out
 * by hand for the sample trace and against an independent reference of the replay rules on random traces.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROGRESS_MIN_BYTES } from '../../src/cli/report/progress.js';
import { replay } from '../../src/cli/report/replay.js';
import { parseCall } from '../../src/cli/report/trace.js';
import { reportJson } from '../../src/cli/report.js';
import { tempDir } from '../backends/fixtures/temp.js';
import { cli, cliProcess, oneLineError } from './helpers.js';
import { type RefCall, referenceReport } from './report-reference.js';

const SAMPLE = fileURLToPath(new URL('../../examples/traces/support-agent.jsonl', import.meta.url));
const dir = tempDir();

function traceFile(name: string, lines: readonly (object | string)[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return path;
}

/** The sample's calls as the reference reads them (physical line numbers, blank lines skipped). */
function sampleCalls(): RefCall[] {
  return readFileSync(SAMPLE, 'utf8')
    .split('\n')
    .flatMap((text, i) => (text.trim() === '' ? [] : [{ ...(JSON.parse(text) as RefCall), line: i + 1 }]));
}

describe('report on the sample trace (examples/traces/support-agent.jsonl)', () => {
  /*
   * Worked out by hand from the replay rules (the trace has 50 physical lines; 13 and 31 are blank):
   * - 48 calls: 41 reads, 7 writes (lines 9, 11, 29, 30, 32, 33, 38).
   * - 19 reads hit: 5 and 19 and 40 (searchKb "refund policy", stored at 3; kb is never written), 7 (getTicket
   *   T-101, stored at 1), 15 (T-102, stored at 4, written only at 30), 17 18 20 21 22 23 (T-104, stored at 16),
   *   35 (T-101 again, stored at 12 after the write at 11), 36 (getCustomer C-9, stored at 6), 37 (lookupShipment,
   *   stored by the success at 28; the failures at 25-27 store nothing), 42 (agent-a's own draft, stored at 10
   *   after its session write at 9), 47 48 49 50 (agent-e's getTicket T-106 and searchKb "warranty claim").
   *   So 22 reads executed, plus 7 writes: 29 executions.
   * - Misses worth noting: 10 (the session write at 9 made agent-a's draft stale), 12 (the write at 11), 34
   *   (refund at 32 wrote customer:C-7, although it failed), 39 (the write at 38), 43 and 44 (agent-b has no draft
   *   of its own: session scope).
   * - savedMs, the durations of the hits: getTicket 200+185+215+225+210+230+220+218+200+195+205 = 2303,
   *   searchKb 510+500+490+440+445 = 2385, getCustomer 135, lookupShipment 640, getDraft 14: 5477 in all.
   * - Loops: agent-c's getTicket T-104 is the 6th identical call at 22 and the 7th at 23 (repeat; after the write
   *   at 38, its call at 39 counts as the first again); agent-d's lookupShipment failed three times in a row
   *   (25-27), so the call at 28 is a retry storm (it succeeds: 37 is no loop, 5 identical calls is the limit);
   *   agent-e alternates getTicket/searchKb and the 6th call, at 50, completes three cycles (oscillation).
   */
  const expected = {
    calls: 48,
    executions: 29,
    avoided: 19,
    hitRate: 19 / 41,
    savedMs: 5477,
    loops: [
      { line: 22, session: 'agent-c', kind: 'repeat', tool: 'getTicket' },
      { line: 23, session: 'agent-c', kind: 'repeat', tool: 'getTicket' },
      { line: 28, session: 'agent-d', kind: 'retry_storm', tool: 'lookupShipment' },
      { line: 50, session: 'agent-e', kind: 'oscillation', tool: 'searchKb' },
    ],
    tools: {
      getTicket: { calls: 18, hits: 11, savedMs: 2303 },
      getCustomer: { calls: 4, hits: 1, savedMs: 135 },
      searchKb: { calls: 9, hits: 5, savedMs: 2385 },
      getDraft: { calls: 5, hits: 1, savedMs: 14 },
      saveDraft: { calls: 1, hits: 0, savedMs: 0 },
      updateTicket: { calls: 3, hits: 0, savedMs: 0 },
      lookupShipment: { calls: 5, hits: 1, savedMs: 640 },
      addNote: { calls: 1, hits: 0, savedMs: 0 },
      refund: { calls: 2, hits: 0, savedMs: 0 },
    },
  };

  it('--json prints exactly the figures worked out by hand, as one JSON document', async () => {
    const r = await cli(['report', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(doc).toEqual(expected);
    expect(Object.keys(doc)).toEqual([
      'calls',
      'executions',
      'avoided',
      'hitRate',
      'savedMs',
      'loops',
      'tools',
    ]);
    expect(Object.keys(doc.tools)).toEqual(Object.keys(expected.tools)); // every tool, in order of first call
  });

  it('the independent reference of the rules gives the same figures', () => {
    expect(referenceReport(sampleCalls())).toEqual(expected);
  });

  it('prints a readable summary and per-tool table', async () => {
    const r = await cli(['report', SAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('48 calls (41 reads, 7 writes) in 5 sessions');
    expect(r.stdout).toMatch(/executions\s+29/);
    expect(r.stdout).toMatch(/avoided\s+19\s+\(hit rate 46\.3% of reads\)/);
    expect(r.stdout).toMatch(/time saved\s+5\.5 s/);
    expect(r.stdout).toMatch(/invalidated\s+6\s+stored entries, by 7 writes/);
    expect(r.stdout).toMatch(/getTicket\s+read\s+18\s+11\s+61\.1%\s+7\s+2\.3 s/);
    expect(r.stdout).toMatch(/refund\s+write\s+2\s+-\s+-\s+2\s+-/);
    expect(r.stdout).toMatch(/line 28\s+retry_storm\s+lookupShipment\s+session agent-d/);
  });

  it('records which writes made which stored entries stale', async () => {
    const calls = readFileSync(SAMPLE, 'utf8')
      .split('\n')
      .flatMap((text, i) => (text.trim() === '' ? [] : [parseCall(text, i + 1)]));
    const report = await replay(calls);
    expect(
      report.invalidations.map((inv) => [inv.line, inv.tool, Object.fromEntries(inv.invalidated)]),
    ).toEqual([
      [9, 'saveDraft', { getDraft: 1 }],
      [11, 'updateTicket', { getTicket: 1 }],
      [29, 'addNote', { getTicket: 1 }],
      [30, 'updateTicket', { getTicket: 1 }],
      [32, 'refund', { getCustomer: 1 }],
      [33, 'refund', {}],
      [38, 'updateTicket', { getTicket: 1 }],
    ]);
  });

  it('works the same as its own process', async () => {
    const r = await cliProcess(['report', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });
});

describe('the replay agrees with the reference on random traces', () => {
  // A small world, so that traces repeat themselves, write what they read, fail, and loop.
  const tools = [
    { tool: 'getA', kind: 'read', resources: (a: number) => [`a:${a}`] },
    { tool: 'getB', kind: 'read', resources: () => ['b'] },
    { tool: 'getMine', kind: 'read', scope: 'session', resources: (a: number) => [`a:${a}`, 'mine'] },
    { tool: 'setA', kind: 'write', resources: (a: number) => [`a:${a}`] },
    { tool: 'setMine', kind: 'write', scope: 'session', resources: () => ['mine', 'b'] },
    { tool: 'ping', kind: 'read', resources: () => [] },
  ] as const;
  const call = fc.record({
    session: fc.constantFrom('s1', 's2', 's3'),
    t: fc.integer({ min: 0, max: tools.length - 1 }),
    arg: fc.integer({ min: 1, max: 2 }),
    durationMs: fc.integer({ min: 0, max: 1_000 }),
    fails: fc.boolean(),
  });
  // Runs of one call repeated (loops) and cycles of 2 to 5 calls, besides independent calls.
  const step = fc.oneof(
    { weight: 4, arbitrary: call.map((c) => [c]) },
    {
      weight: 1,
      arbitrary: fc.tuple(call, fc.integer({ min: 2, max: 8 })).map(([c, n]) => Array(n).fill(c)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(call, { minLength: 2, maxLength: 5 }), fc.integer({ min: 2, max: 4 }))
        .map(([cycle, n]) =>
          Array.from({ length: cycle.length * n }, (_, i) => ({
            ...cycle[i % cycle.length]!,
            session: cycle[0]!.session,
          })),
        ),
    },
  );

  it('for every trace: figures, loops and tools', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const calls: RefCall[] = steps.flat().map((c, i) => {
          const t = tools[c.t]!;
          return {
            line: i + 1,
            session: c.session,
            tool: t.tool,
            kind: t.kind,
            args: [c.arg],
            resources: t.resources(c.arg),
            ...('scope' in t ? { scope: t.scope } : {}),
            durationMs: c.durationMs,
            ...(c.fails && c.durationMs % 3 === 0 ? { error: 'failed' } : {}),
          };
        });
        const report = reportJson(await replay(calls.map((c) => parseCall(JSON.stringify(c), c.line))));
        expect(report).toEqual(referenceReport(calls));
      }),
      { numRuns: 300 },
    );
  });
});

describe('trace lines', () => {
  const ok = { session: 's', tool: 'getA', kind: 'read', args: [1], resources: ['a'], durationMs: 5 };

  it('blank lines are skipped but counted, extra fields ignored, error: null is no error', async () => {
    const path = traceFile('blank.jsonl', [
      '',
      ok,
      '   ',
      { ...ok, recordedAt: '2026-01-01T00:00:00Z', error: null },
      '',
      ...Array(5).fill(ok),
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout);
    expect(r).toMatchObject({ calls: 7, executions: 1, avoided: 6, savedMs: 30 });
    // Physical lines 2, 4, 6-10 hold the 7 calls: the 6th identical call is on line 9, the 7th on line 10.
    expect(r.loops).toEqual([
      { line: 9, session: 's', kind: 'repeat', tool: 'getA' },
      { line: 10, session: 's', kind: 'repeat', tool: 'getA' },
    ]);
  });

  const bad: [string, string, string][] = [
    ['{"session": "s", ', 'not valid JSON', 'broken JSON'],
    ['[1, 2]', 'expected a JSON object, got an array', 'an array'],
    [
      JSON.stringify({ ...ok, session: '' }),
      '`session` must be a non-empty string, got ""',
      'an empty session',
    ],
    [JSON.stringify({ ...ok, tool: 3 }), '`tool` must be a non-empty string, got 3', 'a numeric tool'],
    [
      JSON.stringify({ ...ok, kind: 'delete' }),
      '`kind` must be "read" or "write", got "delete"',
      'a bad kind',
    ],
    [
      JSON.stringify({ ...ok, args: 'T-1' }),
      '`args` must be an array of the call\'s arguments, got "T-1"',
      'args',
    ],
    [
      JSON.stringify({ ...ok, resources: ['a', ''] }),
      '`resources` must be an array of non-empty strings',
      'resources',
    ],
    [
      JSON.stringify({ ...ok, resources: undefined }),
      '`resources` must be an array of non-empty strings, got nothing',
      'no resources',
    ],
    [
      JSON.stringify({ ...ok, scope: 'user' }),
      '`scope` must be "global" or "session" when given, got "user"',
      'scope',
    ],
    [
      JSON.stringify({ ...ok, durationMs: -1 }),
      '`durationMs` must be a non-negative number, got -1',
      'a negative duration',
    ],
    [
      JSON.stringify({ ...ok, durationMs: '5' }),
      '`durationMs` must be a non-negative number, got "5"',
      'a string duration',
    ],
    [JSON.stringify({ ...ok, error: { message: 'x' } }), '`error` must be a string', 'an error object'],
  ];
  for (const [text, message, what] of bad) {
    it(`${what}: one line naming the file and line, exit code 1`, async () => {
      const path = traceFile(`bad-${what.replace(/\W/g, '-')}.jsonl`, [ok, '', text, ok]);
      const r = await cli(['report', path, '--json']);
      expect(r.code).toBe(1);
      const line = oneLineError(r);
      expect(line.startsWith(`agent-cache report: ${path}:3: ${message}`)).toBe(true);
    });
  }

  it('a missing trace file, a directory', async () => {
    const missing = await cli(['report', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(oneLineError(missing)).toBe(
      `agent-cache report: cannot read ${join(dir, 'nope.jsonl')}: no such file`,
    );
    const directory = await cli(['report', dir]);
    expect(directory.code).toBe(1);
    expect(oneLineError(directory)).toBe(`agent-cache report: ${dir} is not a file`);
  });

  it('an empty trace reports zeros', async () => {
    const path = traceFile('empty.jsonl', []);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout);
    expect(r).toEqual({ calls: 0, executions: 0, avoided: 0, hitRate: 0, savedMs: 0, loops: [], tools: {} });
  });

  it('an entry answers a read by the resources it was stored with (the library does the same)', async () => {
    // The same call recorded once with resource a and later with b: the entry stored under a is fresh until a is
    // written; a write of b (the later line's resource) does not reach it.
    const path = traceFile('resources.jsonl', [
      { ...ok, resources: ['a'] },
      { ...ok, tool: 'setB', kind: 'write', resources: ['b'] },
      { ...ok, resources: ['b'] },
      { ...ok, tool: 'setA', kind: 'write', resources: ['a'] },
      { ...ok, resources: ['b'] },
    ]);
    const r = JSON.parse((await cli(['report', path, '--json'])).stdout);
    expect(r.tools.getA).toEqual({ calls: 3, hits: 1, savedMs: 5 });
  });
});

describe('the progress bar', () => {
  const big = () => {
    const line = JSON.stringify({
      session: 's',
      tool: 'search',
      kind: 'read',
      args: ['x'.repeat(200)],
      resources: ['kb'],
      durationMs: 1,
    });
    const calls = Math.ceil(PROGRESS_MIN_BYTES / line.length) + 10;
    const path = traceFile(
      'big.jsonl',
      Array.from({ length: calls }, (_, i) => line.replace('"x', `"${i % 50}`)),
    );
    return { path, calls };
  };

  it('is drawn on a terminal for a long trace, then erased; stdout stays one JSON document', async () => {
    const { path, calls } = big();
    const r = await cli(['report', path, '--json'], { stderrIsTTY: true, columns: 100 });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).calls).toBe(calls);
    expect(r.stderr).toContain('\r  replaying ');
    expect(r.stderr).toContain('100%');
    expect(r.stderr.endsWith('\r\x1b[K')).toBe(true);
    const draws = r.stderr.split('\r  replaying').length - 1;
    expect(draws).toBeGreaterThan(10);
    expect(draws).toBeLessThanOrEqual(101);
  });

  it('is never drawn when stderr is not a terminal, nor for a short trace', async () => {
    const { path } = big();
    expect((await cli(['report', path, '--json'], { stderrIsTTY: false })).stderr).toBe('');
    expect((await cli(['report', SAMPLE, '--json'], { stderrIsTTY: true })).stderr).toBe('');
  });
});
