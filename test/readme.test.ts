/**
 * Every ```ts block of the README runs as written: each is saved inside the package (so `import 'agent-cache'`
 * resolves to this package through its own exports map) and run in a fresh Node process, with the services it reads
 * from the environment (test/helpers/example-services.ts: a Redis Cluster for the cluster example).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleServices, startExampleServices } from './helpers/example-services.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = `${root}test/.generated/readme/`;
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** Every public entry point resolves to its source, as in the repository's own type check. */
const paths = (
  JSON.parse(readFileSync(`${root}tsconfig.json`, 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  }
).compilerOptions.paths;

let services: ExampleServices | undefined;

function run(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: dir, // files an example writes (a SQLite cache) land here and are removed afterwards
      env: { ...process.env, ...services?.env, NODE_NO_WARNINGS: '1' },
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('README examples', () => {
  beforeAll(async () => {
    services = await startExampleServices(blocks);
  }, 120_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await services?.stop();
  });

  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  it('every example type-checks in strict mode', { timeout: 60_000 }, () => {
    mkdirSync(`${dir}types/`, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = `${dir}types/block-${i + 1}.ts`;
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.decorators.d.ts'],
      baseUrl: root,
      paths,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName.includes('/readme/types/'))
      .map(
        (d) => `${d.file?.fileName.split('/').pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
    expect(problems).toEqual([]);
  });

  blocks.forEach((code, i) => {
    const firstLine = code.split('\n').find((l) => l.trim() && !l.startsWith('import')) ?? '';
    it(`block ${i + 1} runs: ${firstLine.slice(0, 60)}`, { timeout: 60_000 }, async () => {
      mkdirSync(dir, { recursive: true });
      const file = `${dir}block-${i + 1}.ts`;
      writeFileSync(
        file,
        code.includes('export ') || code.includes('import ') ? code : `${code}\nexport {};\n`,
      );
      const { code: exit, output } = await run(file);
      expect(exit, output).toBe(0);
    });
  });
});
