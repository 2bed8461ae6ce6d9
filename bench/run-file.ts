/**
 * The child process of `npm run bench`: runs one bench file (its exported `main`, or just its top-level code) and
 * exits as soon as it is done, so a client or timer left open by the bench or by a library it compares against can
 * never keep the run from finishing. argv: <path of the bench file>
 */
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: run-file.ts <bench file>');
/** Exits once what was printed has been handed to the pipe (pipes are asynchronous on some platforms). */
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
try {
  const mod = (await import(pathToFileURL(file).href)) as { main?: () => unknown };
  if (typeof mod.main === 'function') await mod.main();
  exit(0);
} catch (error) {
  console.error(error);
  exit(1);
}
