import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CommandError } from '../args.js';

/**
 * One recorded tool call: a line of a trace file (JSON Lines, in call order).
 * `{ "session", "tool", "kind": "read" | "write", "args", "resources", "scope"?, "durationMs", "error"? }`.
 */
export interface TraceCall {
  /** 1-based physical line in the file (blank lines are skipped but counted). */
  readonly line: number;
  readonly session: string;
  readonly tool: string;
  readonly kind: 'read' | 'write';
  readonly args: readonly unknown[];
  readonly resources: readonly string[];
  readonly scope: 'global' | 'session';
  readonly durationMs: number;
  /** The error the call ended with; undefined when it succeeded. */
  readonly error: string | undefined;
}

/** A line that is not a valid trace call. */
export class TraceError extends CommandError {
  constructor(message: string) {
    super(message, { code: 'E_BAD_TRACE' });
  }
}

/**
 * Reads the calls of a trace file one by one, without loading it whole. `onBytes` hears how far the reading got,
 * for a progress bar. A malformed line stops the reading with a `TraceError` naming the file and line.
 */
export async function* readTrace(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<TraceCall> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('ready', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new CommandError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  let bytes = 0;
  try {
    for await (const text of lines) {
      number++;
      bytes += Buffer.byteLength(text) + 1;
      onBytes?.(bytes);
      if (text.trim() === '') continue;
      yield parseCall(text, number, path);
    }
  } catch (error) {
    if (error instanceof TraceError) throw error;
    throw new CommandError(`cannot read ${path}: ${(error as Error).message}`);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Validates one line; unknown fields are ignored (a recorder may add its own). */
export function parseCall(text: string, line: number, file = 'trace'): TraceCall {
  const fail = (problem: string): never => {
    throw new TraceError(`${file}:${line}: ${problem}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : show(value)}`);
  }
  const o = value as Record<string, unknown>;
  const nonEmpty = (field: string): string => {
    const v = o[field];
    return typeof v === 'string' && v !== ''
      ? v
      : fail(`\`${field}\` must be a non-empty string, got ${show(v)}`);
  };
  const session = nonEmpty('session');
  const tool = nonEmpty('tool');
  const kind = o.kind;
  if (kind !== 'read' && kind !== 'write') fail(`\`kind\` must be "read" or "write", got ${show(kind)}`);
  if (!Array.isArray(o.args)) fail(`\`args\` must be an array of the call's arguments, got ${show(o.args)}`);
  const resources = o.resources;
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string' && r !== '')) {
    fail(`\`resources\` must be an array of non-empty strings, got ${show(resources)}`);
  }
  const scope = o.scope ?? 'global';
  if (scope !== 'global' && scope !== 'session') {
    fail(`\`scope\` must be "global" or "session" when given, got ${show(scope)}`);
  }
  const durationMs = o.durationMs;
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
    fail(`\`durationMs\` must be a non-negative number, got ${show(durationMs)}`);
  }
  const error = o.error ?? undefined;
  if (error !== undefined && typeof error !== 'string') {
    fail(`\`error\` must be a string (the error's message) when given, got ${show(error)}`);
  }
  return {
    line,
    session,
    tool,
    kind: kind as 'read' | 'write',
    args: o.args as unknown[],
    resources: resources as string[],
    scope: scope as 'global' | 'session',
    durationMs: durationMs as number,
    error: error as string | undefined,
  };
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
