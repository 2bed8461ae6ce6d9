/**
 * `npm run stress [-- <filter>...]`: runs every stress/*.stress.ts scenario at full size (or those whose id contains
 * a filter) and rewrites their sections of RELIABILITY.md, leaving the other sections as they were. Exits 1 when a
 * scenario reports that a guarantee did not hold.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine } from '../bench/harness.js';
import { byId, readSections, writeSections } from '../bench/marked-sections.js';
import type { Scenario } from './scenario.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const out = fileURLToPath(new URL('../RELIABILITY.md', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.stress.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const HEADER = `# Reliability figures

What agent-cache guarantees under load and under faults, measured. Each section below is written by \`npm run stress\`
(the scenario files are \`stress/*.stress.ts\`; the same scenarios run at a smaller size in \`npm test\`, under
\`test/stress/\`). A section names the command, the machine and the counts it ran.
`;

const sections = readSections(out, 'stress');

let failed = 0;
for (const f of files) {
  const scenario = ((await import(pathToFileURL(`${dir}${f}`).href)) as { default: Scenario }).default;
  console.error(`stress: ${scenario.id} ...`);
  const started = Date.now();
  const report = await scenario.run('full');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!report.ok) failed++;
  console.error(`stress: ${scenario.id} ${report.ok ? 'ok' : 'FAILED'} in ${seconds} s`);
  sections.set(
    scenario.id,
    `## ${scenario.title}\n\ncommand: \`npm run stress -- ${scenario.id}\` · machine: ${machine()} · ` +
      `run ${new Date().toISOString().slice(0, 10)} in ${seconds} s · ${report.ok ? 'every guarantee held' : '**A GUARANTEE DID NOT HOLD**'}\n\n` +
      `${report.markdown.trim()}\n\n`,
  );
}

writeSections(out, 'stress', HEADER, byId(sections));
console.error(`stress: wrote ${out}${failed ? ` — ${failed} scenario(s) FAILED` : ''}`);
process.exitCode = failed ? 1 : 0;
