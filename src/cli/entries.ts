import type { EntryInfo } from '../backends/inspection.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { openTarget, type Target } from './target.js';

export interface EntryFilter {
  readonly namespace?: string | undefined;
  readonly tool?: string | undefined;
  readonly resource?: string | undefined;
  readonly session?: string | undefined;
  /** Also the invalidated entries still stored (flagged `stale`). Default false. */
  readonly stale?: boolean;
}

/** The entries of the target that pass the filter. */
export async function* filtered(target: Target, filter: EntryFilter): AsyncGenerator<EntryInfo> {
  for await (const entry of target.backend.inspect({ stale: filter.stale === true })) {
    if (filter.namespace !== undefined && entry.namespace !== filter.namespace) continue;
    if (filter.tool !== undefined && entry.tool !== filter.tool) continue;
    if (filter.resource !== undefined && !entry.resources.includes(filter.resource)) continue;
    if (filter.session !== undefined && entry.sessionId !== filter.session) continue;
    yield entry;
  }
}

/** The one positional argument of stats, inspect and clear: the target. */
export function singleTarget(args: ParsedArgs): string {
  if (args.positional.length === 0) throw new UsageError('missing <target>');
  if (args.positional.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(args.positional[1])}`);
  }
  return args.positional[0]!;
}

/** Opens the target, runs `fn`, closes it (also when `fn` throws). */
export async function withTarget<T>(
  target: string,
  args: ParsedArgs,
  readOnly: boolean,
  fn: (opened: Target) => Promise<T>,
): Promise<T> {
  const opened = await openTarget(target, { prefix: args.values.get('prefix'), readOnly });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
