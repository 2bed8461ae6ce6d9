/**
 * `npm run bench [-- <filter>...]`: runs every bench/*.bench.ts (or those whose name contains a filter), each in its
 * own child process (bench/run-file.ts), shows what it prints as it runs, and writes that output into the file's own
 * section of BENCHMARKS.md. Sections of files that did not run are kept as they were (those of files that no longer
 * exist are dropped); the targets table at the top
 * is rebuilt from the `PASS`/`MISS` lines of every section. Exits 1 when a bench failed (its section then keeps its
 * previous content).
 *
 * A bench file prints markdown to stdout (tables from `compare()`, `target()` lines, notes); stderr is for progress
 * and is not recorded. Its headings are nested under the file's section heading.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machine } from './harness.js';
import { byId, readSections, writeSections } from './marked-sections.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
/** A bench that has not finished after this long is stopped and counted as failed. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 3600) * 1000;
/** Every bench may measure retained memory (`gc()`), and the 1M-key runs need more than the default heap. */
const NODE_FLAGS = ['--expose-gc', '--max-old-space-size=8192'];

const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`bench: no bench/*.bench.ts matches ${filters.join(' ')}`);
  process.exit(1);
}

const HEADER = `# Benchmarks

Every figure below is written by \`npm run bench\` (all files in \`bench/\`) or \`npm run bench -- <word>\` (the
\`bench/*.bench.ts\` files whose name contains the word); each file's section names its command, the machine and
the date of its run. Contenders run side by side in one process with their rounds interleaved (the order rotates
every round), and the figure is the **ratio** of medians to a baseline measured in the same run: absolute times on
a shared machine are noise, ratios are what carries over.`;

const sections = readSections(out, 'bench');
let failed = 0;
for (const f of files) {
  const id = f.slice(0, -'.bench.ts'.length);
  console.error(`bench: ${f} ...`);
  const started = Date.now();
  const { code, output } = await runFile(`${dir}${f}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (code !== 0) {
    failed++;
    console.error(
      `bench: ${f} FAILED (${code}) after ${seconds} s; its section of BENCHMARKS.md is unchanged`,
    );
    continue;
  }
  console.error(`bench: ${f} done in ${seconds} s`);
  sections.set(
    id,
    `## ${f}\n\n${summary(`${dir}${f}`)}command: \`npm run bench -- ${id}\` · machine: ${machine()} · ` +
      `run ${new Date().toISOString().slice(0, 10)} in ${seconds} s\n\n${tidy(output)}\n`,
  );
}

sections.delete('targets');
// A section whose bench file is gone (renamed or removed) describes nothing that `npm run bench` measures any more.
const existing = new Set(readdirSync(dir).filter((f) => f.endsWith('.bench.ts')));
for (const id of [...sections.keys()]) if (!existing.has(`${id}.bench.ts`)) sections.delete(id);
const all = new Map([['targets', targetsTable(sections)], ...byId(sections)]);
writeSections(out, 'bench', HEADER, all);
console.error(`bench: wrote ${out}${failed ? ` — ${failed} file(s) FAILED` : ''}`);
process.exitCode = failed ? 1 : 0;

/** Runs one bench file in a child process; its stdout is shown live and returned. */
function runFile(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, '--import', 'tsx', fileURLToPath(new URL('./run-file.ts', import.meta.url)), file],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    const timer = setTimeout(() => {
      console.error(`bench: ${file} still running after ${TIMEOUT_MS / 1000} s, stopping it`);
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** The first paragraph of the file's leading doc comment (what it measures), followed by a blank line. */
function summary(file: string): string {
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  if (!doc) return '';
  const lines = doc[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '').trim());
  const first: string[] = [];
  for (const line of lines.slice(lines[0] === '' ? 1 : 0)) {
    if (line === '') break;
    first.push(line);
  }
  return first.length ? `${first.join(' ')}\n\n` : '';
}

/**
 * The printed markdown, made safe to embed: headings moved below the section heading (the shallowest becomes `###`),
 * and blank lines around tables and around `PASS`/`MISS` lines so that neither runs into its neighbours.
 */
function tidy(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let fenced = false;
  let shallowest = 6;
  for (const line of lines) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6}) /.exec(line);
    if (m) shallowest = Math.min(shallowest, m[1]!.length);
  }
  const shift = Math.max(0, 3 - shallowest);
  const kept: string[] = [];
  fenced = false;
  let previous = 'blank';
  for (const line of lines) {
    if (line.startsWith('```')) fenced = !fenced;
    const kind = fenced
      ? 'text'
      : line.trim() === ''
        ? 'blank'
        : line.startsWith('|')
          ? 'table'
          : /^(PASS|MISS) /.test(line)
            ? 'target'
            : /^#{1,6} /.test(line)
              ? 'heading'
              : 'text';
    const separate =
      kind !== 'blank' &&
      previous !== 'blank' &&
      (kind !== previous || kind === 'target' || kind === 'heading') &&
      !(kind === 'text' && previous === 'text');
    if (separate) kept.push('');
    kept.push(kind === 'heading' ? `${'#'.repeat(shift)}${line}` : line);
    previous = kind;
  }
  return kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** One row per `PASS`/`MISS` line of every section (the format `target()` in bench/harness.ts prints). */
function targetsTable(all: ReadonlyMap<string, string>): string {
  const rows: string[] = [];
  for (const [id, text] of byId(all)) {
    for (const m of text.matchAll(
      /^(PASS|MISS) (.+): (\S+) \(target ([<>]=) ([^;)]+)(?:; spread ([^)]+))?\)$/gm,
    )) {
      rows.push(
        `| ${id} | ${m[2]} | ${m[4]} ${m[5]} | ${m[3]} | ${m[6] ?? '—'} | ${m[1] === 'PASS' ? 'met' : '**missed**'} |`,
      );
    }
  }
  return [
    '## Targets',
    '',
    'Every target line of the sections below, from their latest runs. A bench that repeats its comparisons gives the',
    "median of its runs as the figure and their spread (min–max of the runs' medians).",
    '',
    '| bench | measure | target | measured | spread | status |',
    '| --- | --- | --- | ---: | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
