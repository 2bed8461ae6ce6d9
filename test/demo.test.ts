/**
 * `npm run demo` as a user runs it: from a fresh copy of the project in a 0700 directory whose path has a space,
 * started from a subdirectory, twice (the second run starts warm from `.agent-cache/demo.sqlite` and says so),
 * then with `--fresh`. Every figure of the summary is checked against an independent count of the lines it
 * printed, and the run leaves no file outside `.agent-cache/`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'agent-cache demo '));
  chmodSync(copy, 0o700);
  for (const path of ['package.json', 'tsconfig.json', 'src', 'examples/demo.ts', 'examples/demo']) {
    cpSync(join(root, path), join(copy, path), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
});

afterAll(() => {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
});

/** `npm run demo` from the copy's `examples/` directory; stdout is a pipe, not a terminal. */
function demo(args: string[], env: Record<string, string> = {}): string {
  const clean = { ...process.env };
  delete clean.FORCE_COLOR;
  delete clean.NO_COLOR;
  const run = spawnSync('npm', ['run', '--silent', 'demo', '--', ...args], {
    cwd: join(copy, 'examples'),
    encoding: 'utf8',
    env: { ...clean, ...env },
  });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** Every file of the copy outside node_modules and .agent-cache. */
function files(dir = copy): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (dir === copy && (entry.name === 'node_modules' || entry.name === '.agent-cache')) continue;
    if (entry.isDirectory()) out.push(...files(path));
    else out.push(relative(copy, path));
  }
  return out.sort();
}

interface Call {
  readonly agent: string;
  readonly what: string;
  readonly args: string;
  readonly outcome: string;
  readonly note: string;
  readonly step: number;
}

const CALL =
  /^ {2}(\S+)\s+(\S+(?: guard)?)\s+(.*?)\s(HIT|MISS|INVALIDATE|LOOP|BYPASS|PREFIX-BREAK)\s+(\d+\.\d) ms(?: {2}(.*))?$/;

function calls(out: string): Call[] {
  const found: Call[] = [];
  let step = 0;
  for (const line of out.split('\n')) {
    const heading = /^(\d)\. /.exec(line);
    if (heading) step = Number(heading[1]);
    const m = CALL.exec(line);
    if (m)
      found.push({ agent: m[1]!, what: m[2]!, args: m[3]!.trim(), outcome: m[4]!, note: m[6] ?? '', step });
  }
  return found;
}

/** The numbers of the summary line that starts with `name`. */
function figures(out: string, name: string): number[] {
  const line = out.split('\n').find((l) => l.startsWith(`  ${name} `));
  expect(line, `summary line ${name}`).toBeDefined();
  return [...line!.slice(name.length + 2).matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

/** Checks every summary figure and the per-tool table against the call lines. */
function checkFigures(out: string): void {
  const all = calls(out);
  const tools = all.filter((c) => c.what !== 'model' && c.what !== 'prompt guard');
  const models = all.filter((c) => c.what === 'model');
  const count = (list: Call[], outcome: string) => list.filter((c) => c.outcome === outcome).length;
  const hits = count(tools, 'HIT');
  const misses = count(tools, 'MISS');
  const writes = count(tools, 'INVALIDATE');
  const loops = count(tools, 'LOOP');
  expect(count(tools, 'BYPASS')).toBe(0);

  expect(figures(out, 'tool calls')).toEqual([tools.length, hits, misses, writes, loops]);
  expect(tools.length).toBe(hits + misses + writes + loops);
  // The helpdesk API's own counter is the number of executions.
  expect(figures(out, 'executions')).toEqual([misses + writes, misses, writes, misses + writes]);
  const joined = tools.filter(
    (c) => c.outcome === 'HIT' && c.note.includes('joined the call in flight'),
  ).length;
  expect(figures(out, 'executions avoided')).toEqual([hits + loops, hits, joined, loops]);
  expect(figures(out, 'hit rate')).toEqual([Math.round((100 * hits) / (hits + misses)), hits, hits + misses]);
  const saved = tools
    .filter((c) => c.outcome === 'HIT')
    .reduce((sum, c) => sum + Number(/saved (\d+\.\d) ms/.exec(c.note)![1]), 0);
  expect(Math.abs(figures(out, 'time saved')[0]! - saved)).toBeLessThanOrEqual(0.05 * hits + 0.05);

  const modelHits = count(models, 'HIT');
  const modelMisses = count(models, 'MISS');
  expect(figures(out, 'model calls')).toEqual([models.length, modelHits, modelMisses, modelMisses]);
  const tokens = models
    .filter((c) => c.outcome === 'HIT')
    .map((c) => /saved (\d+) \+ (\d+) tokens/.exec(c.note)!.slice(1).map(Number));
  const input = tokens.reduce((s, [i]) => s + i!, 0);
  const output = tokens.reduce((s, [, o]) => s + o!, 0);
  expect(figures(out, 'tokens saved')).toEqual([input + output, input, output]);
  expect(input).toBeGreaterThan(0);

  expect(figures(out, 'invalidations')).toEqual([writes, writes]);
  const raise = tools.filter((c) => c.outcome === 'LOOP' && c.note.includes(', raise:')).length;
  expect(figures(out, 'loops')).toEqual([loops, raise, loops - raise]);
  expect(figures(out, 'prefix breaks')).toEqual([count(all, 'PREFIX-BREAK')]);
  expect(out).toContain('✓ every figure agrees with getMetrics() and with the API and model call counters');

  // The per-tool table: calls, hits, misses, writes, loops, ran, for every tool and in all.
  for (const name of [...new Set(tools.map((c) => c.what)), 'all tools']) {
    const own = name === 'all tools' ? tools : tools.filter((c) => c.what === name);
    const row = out.split('\n').find((l) => new RegExp(`^ {2}${name} +\\d`).test(l));
    expect(row, name).toBeDefined();
    const [c, h, m, w, l, ran] = [...row!.slice(name.length + 2).matchAll(/\d+(?:\.\d+)?/g)].map((x) =>
      Number(x[0]),
    );
    const n = (o: string) => count(own, o);
    expect([c, h, m, w, l, ran], name).toEqual([
      own.length,
      n('HIT'),
      n('MISS'),
      n('INVALIDATE'),
      n('LOOP'),
      n('MISS') + n('INVALIDATE'),
    ]);
  }
}

/** What each step claims, seen in its lines. */
function checkSteps(out: string): void {
  const all = calls(out);
  const step = (n: number) => all.filter((c) => c.step === n);
  const tool = (list: Call[], what: string, args?: string) =>
    list.filter((c) => c.what === what && (args === undefined || c.args === args));

  // 1. a ticket read twice: the second read is a hit.
  expect(tool(step(1), 'getTicket', '{"id":"T-100"}').at(-1)!.outcome).toBe('HIT');

  // 2. the reply invalidates ticket:T-100 only: T-100 runs again, T-102 and the search do not.
  const s2 = step(2);
  const write = s2.findIndex((c) => c.outcome === 'INVALIDATE');
  expect(s2[write]).toMatchObject({ what: 'replyToTicket', note: 'ticket:T-100' });
  const after = s2.slice(write + 1);
  expect(tool(after, 'getTicket', '{"id":"T-100"}').map((c) => c.outcome)).toEqual(['MISS']);
  expect(tool(after, 'getTicket', '{"id":"T-102"}').map((c) => c.outcome)).toEqual(['HIT']);
  expect(tool(after, 'searchTickets').map((c) => c.outcome)).toEqual(['HIT']);

  // 3. the same input in two sessions: Bob's call runs for Bob, Alice's repeat is a hit of her own.
  const mine = tool(step(3), 'getMyTickets');
  expect(mine.map((c) => `${c.agent} ${c.outcome}`)).toEqual(['alice MISS', 'bob MISS', 'alice HIT']);
  const bobAnswer = out.split('\n').find((l) => /^ {2}bob +↳ Your tickets:/.test(l))!;
  expect(bobAnswer).toContain('T-101');
  expect(bobAnswer).not.toContain('T-100');

  // 4. two agents read the new ticket at once: one execution, the other joins it.
  const opened = tool(step(4), 'getTicket');
  expect(opened.map((c) => c.outcome).sort()).toEqual(['HIT', 'MISS']);
  expect(opened.find((c) => c.outcome === 'HIT')!.note).toContain('joined the call in flight');
  expect(new Set(opened.map((c) => c.agent))).toEqual(new Set(['oncall', 'router']));

  // 5. the 4th identical poll is a loop: raised (the model gives up), then short-circuited until stopWhen.
  const polls = tool(step(5), 'getTicket', '{"id":"T-102"}');
  const stuck1 = polls.filter((c) => c.agent === 'stuck-1').map((c) => c.outcome);
  expect(stuck1).toEqual(['HIT', 'HIT', 'HIT', 'LOOP']);
  expect(out).toMatch(/stuck-1 +↳ Loop detection stopped me/);
  const stuck2 = polls.filter((c) => c.agent === 'stuck-2');
  expect(stuck2.slice(3).every((c) => c.outcome === 'LOOP' && c.note.includes('short_circuit'))).toBe(true);
  expect(stuck2.length).toBeGreaterThan(3);

  // 6. the repeated question: every model call of the second run is answered from the cache.
  const faq = step(6).filter((c) => c.what === 'model');
  expect(faq).toHaveLength(4);
  expect(faq.slice(2).map((c) => c.outcome)).toEqual(['HIT', 'HIT']);

  // 7. a timestamp in the system prompt: a prefix break, and no model call answered from the cache.
  const s7 = step(7);
  expect(s7.filter((c) => c.outcome === 'PREFIX-BREAK')).toMatchObject([
    { agent: 'clock', note: 'segment message:0 changed' },
  ]);
  expect(s7.filter((c) => c.what === 'model').map((c) => c.outcome)).toEqual([
    'MISS',
    'MISS',
    'MISS',
    'MISS',
  ]);
  expect(out).toMatch(/lintStablePrefix: iso-datetime/);
}

describe('npm run demo', { timeout: 180_000 }, () => {
  let cold: string;
  let warm: string;
  let colouredWarm: string;

  beforeAll(() => {
    const before = files();
    cold = demo([]);
    colouredWarm = demo([], { FORCE_COLOR: '1' });
    warm = stripVTControlCharacters(colouredWarm);
    expect(files()).toEqual(before);
  });

  it('starts cold the first time, in plain text (stdout is not a terminal)', () => {
    expect(cold).toMatch(/^Cold start \(no cache yet\): the cache is \.agent-cache\/demo\.sqlite\./m);
    expect(cold).not.toContain('\u001b[');
    expect(cold).not.toContain('from an earlier run');
    expect(cold).toContain('Run npm run demo again: it starts warm from .agent-cache/demo.sqlite.');
    expect(readdirSync(join(copy, '.agent-cache')).sort()).toEqual(
      expect.arrayContaining(['demo.sqlite', 'helpdesk.json']),
    );
  });

  it('the cold run shows every step, and its figures add up', () => {
    checkSteps(cold);
    checkFigures(cold);
  });

  it('starts warm the second time, says what it found and what it served from the file', () => {
    const found =
      /^Warm start: \.agent-cache\/demo\.sqlite holds (\d+) entries from earlier runs: (\d+) tool results \(.*\) and (\d+) model answers\.$/m.exec(
        warm,
      );
    expect(found, warm.slice(0, 400)).not.toBeNull();
    const [entries, toolEntries, modelEntries] = found!.slice(1).map(Number);
    expect(entries).toBe(toolEntries! + modelEntries!);
    expect(toolEntries).toBeGreaterThan(0);
    expect(modelEntries).toBeGreaterThan(0);
    const served =
      /^Served from the file: (\d+) tool calls and (\d+) model calls were answered by entries/m.exec(warm);
    expect(served).not.toBeNull();
    const fromFile = calls(warm).filter((c) => c.note.includes('from an earlier run'));
    expect(Number(served![1])).toBe(fromFile.filter((c) => c.what !== 'model').length);
    expect(Number(served![2])).toBe(fromFile.filter((c) => c.what === 'model').length);
    expect(Number(served![1])).toBeGreaterThan(0);
    expect(Number(served![2])).toBeGreaterThan(0);
  });

  it('the warm run shows every step, its figures add up, and FORCE_COLOR colours it', () => {
    expect(colouredWarm).toContain('\u001b[32mHIT');
    checkSteps(warm);
    checkFigures(warm);
  });

  it('--fresh starts cold again', () => {
    const fresh = demo(['--fresh'], { NO_COLOR: '1' });
    expect(fresh).toMatch(/^Cold start \(--fresh: removed the earlier run\)/m);
    expect(fresh).not.toContain('from an earlier run');
    checkFigures(fresh);
  });
});
