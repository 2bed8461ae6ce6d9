/**
 * Every ```ts block of the README runs as written: each is saved inside the package (so `import 'agent-cache'`
 * resolves to this package through its own exports map) and run in a fresh Node process, with the services it reads
 * from the environment (test/helpers/example-services.ts: a Redis Cluster for the cluster example). The packed
 * package runs the same blocks from its tarball (test/package/packed.test.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleServices, startExampleServices } from './helpers/example-services.js';
import { readmeExamples, runExample, saveExample, typeCheckExamples } from './helpers/readme-examples.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = `${root}test/.generated/readme/`;
const examples = readmeExamples(readFileSync(`${root}README.md`, 'utf8'));
/** Every public entry point resolves to its source, as in the repository's own type check. */
const paths = (
  JSON.parse(readFileSync(`${root}tsconfig.json`, 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  }
).compilerOptions.paths;

let services: ExampleServices | undefined;

describe('README examples', () => {
  beforeAll(async () => {
    services = await startExampleServices(examples.map((e) => e.code));
  }, 120_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await services?.stop();
  }, 120_000);

  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(5);
  });

  it('every example type-checks in strict mode', { timeout: 60_000 }, () => {
    expect(typeCheckExamples(examples, `${dir}types/`, { baseUrl: root, paths })).toEqual([]);
  });

  for (const example of examples) {
    it(`block ${example.index} runs: ${example.title}`, { timeout: 60_000 }, async () => {
      // files an example writes (a SQLite cache) land in `dir` and are removed afterwards
      const { code, output } = await runExample(saveExample(example, dir), { cwd: dir, env: services?.env });
      expect(code, output).toBe(0);
    });
  }
});
