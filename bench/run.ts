/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or only those whose name contains an argument:
 * `npm run bench -- hit`).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine } from './harness.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
console.log(
  `# agent-cache benchmarks\nmachine: ${machine()}\ncommand: npm run bench${filters.length ? ` -- ${filters.join(' ')}` : ''}`,
);
for (const f of files) {
  console.log(`\n# ${f}`);
  const mod = (await import(pathToFileURL(`${dir}${f}`).href)) as { main?: () => Promise<void> };
  if (typeof mod.main === 'function') await mod.main();
}
