import { CommandError, parseArgs, UsageError } from './args.js';
import { clearCommand } from './clear.js';
import type { Command } from './command.js';
import { inspectCommand } from './inspect.js';
import { invalidateCommand } from './invalidate.js';
import type { CliIo } from './io.js';
import { reportCommand } from './report.js';
import { statsCommand } from './stats.js';
import { packageVersion } from './version.js';

const COMMANDS: readonly Command[] = [
  statsCommand,
  inspectCommand,
  invalidateCommand,
  clearCommand,
  reportCommand,
];

const USAGE_LINE = `usage: agent-cache <${COMMANDS.map((c) => c.name).join('|')}> ... (agent-cache --help for more)`;

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'agent-cache: look inside an agent-cache cache, invalidate it, or measure what caching saves on a recorded run',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'usage:',
    ...COMMANDS.map((c) => `  ${c.usage}`),
    '',
    '<target> is a cache file (SQLite, as DiskBackend writes it) or a redis:// URL (--prefix, default "agent-cache:").',
    'Exit codes: 0 done, 1 the target or trace could not be used, 2 bad usage.',
  ].join('\n');
}

/**
 * Runs one command line and resolves to its exit code: 0 done, 1 a failure (a missing target, a file that is not
 * a cache, an unreachable Redis, a malformed trace: one line on stderr), 2 bad usage (a usage line on stderr).
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const at = commandIndex(argv);
  const name = at === -1 ? argv[0] : argv[at];
  const rest = at === -1 ? argv.slice(1) : [...argv.slice(0, at), ...argv.slice(at + 1)];
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${help()}\n`);
    return 0;
  }
  if (name === '--version') {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || at === -1) return usage(io, 'no command given');
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return usage(io, `unknown command ${JSON.stringify(name)}`);
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`usage: ${command.usage}\n`);
      return 0;
    }
    return await command.run(parseArgs(rest, command.options), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`agent-cache ${command.name}: ${error.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    const message = error instanceof CommandError ? error.message : unexpected(error);
    io.stderr(`agent-cache ${command.name}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

/**
 * Where the command name is: the first word that is neither an option nor an option's value, so that options may
 * also come before it (`agent-cache --json stats cache.sqlite`). Every command spells its options alike (`--json`
 * is always a flag, `--prefix` always takes a value), so one table tells which options take the next word.
 */
function commandIndex(argv: readonly string[]): number {
  const takesValue = new Set(
    COMMANDS.flatMap((c) =>
      Object.entries(c.options)
        .filter(([, o]) => o.value)
        .map(([k]) => k),
    ),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (arg.startsWith('--') && !arg.includes('=') && takesValue.has(arg.slice(2))) i++;
  }
  return -1;
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`agent-cache: ${problem}\n${USAGE_LINE}\n`);
  return 2;
}

function unexpected(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
