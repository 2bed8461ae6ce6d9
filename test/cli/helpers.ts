/** Running the `agent-cache` command in tests: in this process (fast), or as the real process (under tsx). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs one command line in this process, with stdout and stderr captured. */
export async function cli(
  argv: readonly string[],
  terminal: Partial<Pick<CliIo, 'stderrIsTTY' | 'columns'>> = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stderrIsTTY: terminal.stderrIsTTY ?? false,
    columns: terminal.columns ?? 80,
  });
  return { code, stdout, stderr };
}

/** Runs the command as its own process (src/cli/main.ts under tsx), as a shell would. */
export function cliProcess(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Exactly one line on stderr, nothing on stdout. */
export function oneLineError(result: CliResult): string {
  if (result.stdout !== '') throw new Error(`expected no output, got ${JSON.stringify(result.stdout)}`);
  const lines = result.stderr.split('\n');
  if (lines.length !== 2 || lines[1] !== '')
    throw new Error(`expected one line on stderr, got ${JSON.stringify(result.stderr)}`);
  return lines[0]!;
}
