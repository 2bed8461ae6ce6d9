import type { OptionSpec, ParsedArgs } from './args.js';
import type { CliIo } from './io.js';

/** One `agent-cache` subcommand: its usage line, its options and what it does. Resolves to the exit code. */
export interface Command {
  readonly name: string;
  /** `agent-cache stats <target> [--json]`… */
  readonly usage: string;
  /** One line for the command list of `--help`. */
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export const FLAG: OptionSpec = { value: false };
export const VALUE: OptionSpec = { value: true };

/** The options every cache command takes. */
export const TARGET_OPTIONS = { prefix: VALUE, namespace: VALUE } as const;
