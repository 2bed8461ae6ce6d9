/**
 * The README's ```ts blocks as runnable examples, shared by test/readme.test.ts (against the source, through the
 * repository's paths) and the packed-package test (against the tarball installed into a fresh project): how blocks
 * are found, saved as modules, type-checked in strict mode and run in a fresh Node process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export interface ReadmeExample {
  /** 1-based position among the README's ts blocks. */
  readonly index: number;
  readonly code: string;
  /** The block's first line that is not an import, to name its test. */
  readonly title: string;
  /** `block-<index>.ts` */
  readonly fileName: string;
}

/** Every ```ts block of `markdown`, in order. */
export function readmeExamples(markdown: string): ReadmeExample[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => {
    const code = m[1]!;
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('import')) ?? '';
    return { index: i + 1, code, title: title.slice(0, 60), fileName: `block-${i + 1}.ts` };
  });
}

/**
 * The packages the examples import besides agent-cache and Node's own modules (`pino`, `ioredis`, `ai`...): what a
 * user installs to run them.
 */
export function importedPackages(examples: readonly ReadmeExample[]): string[] {
  const names = new Set<string>();
  for (const { code } of examples) {
    for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
      const specifier = m[1]!;
      if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('/')) continue;
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (name !== 'agent-cache') names.add(name);
    }
  }
  return [...names].sort();
}

/** The block as a module file (one without imports or exports gets `export {}`, so top-level await works). */
function moduleText(code: string): string {
  return code.includes('export ') || code.includes('import ') ? code : `${code}\nexport {};\n`;
}

/** Writes the example into `dir` and returns its path. */
export function saveExample(example: ReadmeExample, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, example.fileName);
  writeFileSync(file, moduleText(example.code));
  return file;
}

/**
 * Type-checks every example in strict mode, saved in `dir`; `options` say how `agent-cache` resolves (the
 * repository's `paths`, or the package installed beside `dir`). Returns one line per problem.
 */
export function typeCheckExamples(
  examples: readonly ReadmeExample[],
  dir: string,
  options: ts.CompilerOptions = {},
): string[] {
  const files = examples.map((e) => saveExample(e, dir));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.decorators.d.ts'],
    ...options,
  });
  const saved = new Set(files);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && saved.has(d.file.fileName))
    .map(
      (d) => `${d.file?.fileName.split('/').pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
}

export interface RunOptions {
  /** Where the example runs: files it writes (a SQLite cache) land here. */
  readonly cwd: string;
  /** Added to the environment (the services of test/helpers/example-services.ts). */
  readonly env?: Readonly<Record<string, string>>;
  /** What `--import` loads to run TypeScript: `tsx` as the cwd resolves it, or a file URL of it. */
  readonly tsx?: string;
}

/** Runs a saved example with Node (through tsx); its exit code and everything it printed. */
export function runExample(
  file: string,
  options: RunOptions,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', options.tsx ?? 'tsx', file], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, NODE_NO_WARNINGS: '1' },
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
