/**
 * The package as a user gets it: `npm pack` of a fresh build, installed into a new project in a temporary directory
 * together with the optional peers (ai, the MCP SDK, LangChain core, OpenAI Agents, ioredis, OpenTelemetry) at the
 * versions this repository develops against — so every entry point resolves the frameworks from the user's own
 * node_modules, never from ours.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The optional peers a user would install next to agent-cache, with the dev versions of this repository. */
const PEERS = [
  'ai',
  '@ai-sdk/provider',
  'zod',
  '@modelcontextprotocol/sdk',
  '@langchain/core',
  '@openai/agents',
  'ioredis',
  '@opentelemetry/api',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/sdk-trace-base',
];

export interface PackedProject {
  readonly dir: string;
  readonly tarball: string;
  /** Runs `node <file>` inside the project (the file is copied there first); `node`: another Node.js binary. */
  run(file: string, env?: NodeJS.ProcessEnv, node?: string): { status: number | null; output: string };
  remove(): void;
}

function sh(cmd: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/**
 * `extra`: more packages the user installs (the README examples' imports), at this repository's dev versions when it
 * has them.
 */
export function createPackedProject(extra: readonly string[] = []): PackedProject {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cache-packed-'));
  sh('npm', ['run', 'build'], root);
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dir], root)) as {
    filename: string;
  }[];
  const tarball = join(dir, packed[0]!.filename);
  const dev = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies;
  const dependencies: Record<string, string> = { 'agent-cache': `file:${tarball}` };
  for (const name of [...PEERS, ...extra]) dependencies[name] ??= dev[name] ?? '*';
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'user-project', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return {
    dir,
    tarball,
    run(file, env = {}, node = process.execPath) {
      const target = join(dir, file.split('/').pop()!);
      writeFileSync(target, readFileSync(file));
      const r = spawnSync(node, [target], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
        timeout: 60_000,
      });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every case script in test/package/cases/ (plain ESM run by Node in the user's project). */
export function caseFiles(): string[] {
  const dir = join(root, 'test/package/cases');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * A Node.js binary older than the package supports (no `node:sqlite`), such as the distribution's /usr/bin/node,
 * with its version; undefined when the machine has none.
 */
export function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const r = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const version = r.stdout.trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 13)) return { path, version };
  }
  return undefined;
}
