import { AgentCacheTypeError } from './errors.js';

type LogMethod = (message: string, ...meta: unknown[]) => void;

/**
 * Where agent-cache reports what it decided (uncached calls, unstorable values, loops in warn mode) and what failed
 * (a backend). `console`, a pino logger or any object with these methods; only `warn` is required (`error` falls
 * back to `warn`, `info` and `debug` are dropped when missing). Levels: `error` for failures the operator must see
 * (a backend failing, an invalidation that could not be recorded), `warn` for calls that run uncached or behave
 * differently than asked, `debug` for routine detail (a session's summary when it ends).
 */
export interface Logger {
  warn: LogMethod;
  error?: LogMethod;
  info?: LogMethod;
  debug?: LogMethod;
}

/** A logger with every level, as the library calls it: `(message, ...meta)` whatever the user's logger expects. */
export interface LogSink {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  /** Whether `debug` reaches anything (so detail is only assembled when it does). */
  readonly debugEnabled: boolean;
}

const SINKS = new WeakMap<object, LogSink>();

/**
 * Adapts a user's logger. pino (recognised by its `bindings()` and `child()` methods) takes `(fields, message)`:
 * an error goes to its `err` field (pino's standard error serializer), anything else to `details`. Every other
 * logger is called `(message, ...meta)`, like `console`.
 */
export function toLogSink(logger: Logger, owner: string): LogSink {
  if (typeof logger?.warn !== 'function') {
    throw new AgentCacheTypeError(
      `${owner}: option \`logger\` must have a warn(message) method (console, pino, or any { debug, info, warn, error })`,
    );
  }
  const known = SINKS.get(logger);
  if (known !== undefined) return known;
  const pinoLike =
    typeof (logger as { bindings?: unknown }).bindings === 'function' &&
    typeof (logger as { child?: unknown }).child === 'function';
  // Methods are looked up on every call, so a logger whose methods are replaced later (spies, level changes that
  // swap methods, as pino does) is followed.
  const method = (name: keyof Logger, fallback?: LogMethod): LogMethod | undefined => {
    if (typeof logger[name] !== 'function') return fallback;
    if (!pinoLike) return (message, ...meta) => (logger[name] as LogMethod).call(logger, message, ...meta);
    return (message, ...meta) => {
      const fn = logger[name] as unknown as (first: unknown, message?: string) => void;
      if (meta.length === 0) fn.call(logger, message);
      else fn.call(logger, fieldsOf(meta), message);
    };
  };
  const noop: LogMethod = () => {};
  const warn = method('warn')!;
  const debug = method('debug');
  const sink: LogSink = {
    debug: debug ?? noop,
    info: method('info') ?? noop,
    warn,
    error: method('error', warn)!,
    get debugEnabled() {
      return debug !== undefined && debugLevelOn(logger);
    },
  };
  SINKS.set(logger, sink);
  return sink;
}

function fieldsOf(meta: readonly unknown[]): object {
  if (meta.length === 1) {
    const only = meta[0];
    return only instanceof Error ? { err: only } : { details: only };
  }
  const err = meta.find((m) => m instanceof Error);
  const rest = meta.filter((m) => m !== err);
  return err === undefined ? { details: rest } : { err, details: rest.length === 1 ? rest[0] : rest };
}

/** pino and friends tell whether debug is on; others are taken at their word (they have the method). */
function debugLevelOn(logger: Logger): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  if (typeof check !== 'function') return logger !== console;
  try {
    return check.call(logger, 'debug') !== false;
  } catch {
    return true;
  }
}

/** The default: `console`. Its debug line is left out (console has no level filter). */
export const consoleLogger: LogSink = toLogSink(console, 'configure');
