import { AgentCacheError, type AgentCacheErrorCode } from '../errors.js';

/**
 * The command line: a command, its positional arguments and its options, in any order (`--json` may come before
 * or after the target). `--name value` and `--name=value` both work; `--` ends the options, for a file whose name
 * starts with a dash. Anything wrong is a `UsageError` (exit code 2).
 */
export class UsageError extends AgentCacheError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** A failure that is not the user's wording: a missing target, a file that is not a cache (exit code 1). */
export class CommandError extends AgentCacheError {
  constructor(message: string, options?: ErrorOptions & { readonly code?: AgentCacheErrorCode }) {
    super(options?.code ?? 'E_COMMAND_FAILED', message, options);
  }
}

export interface OptionSpec {
  /** Takes a value (`--tool getTicket`); otherwise a flag (`--json`). */
  readonly value: boolean;
}

export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
}

export function parseArgs(
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): ParsedArgs {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    if (!spec.value) {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (values.has(name)) throw new UsageError(`option --${name} given twice`);
    values.set(name, value);
  }
  return { positional, flags, values };
}
