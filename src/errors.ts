/**
 * Every error agent-cache throws is an `AgentCacheError` with a stable `code` (`E_...`), so callers can tell errors
 * apart without parsing messages: `if (AgentCacheError.isInstance(e) && e.code === 'E_LOOP_DETECTED')`.
 *
 * Errors about bad input stay `TypeError`s (`AgentCacheTypeError`), as JavaScript users expect, and are still
 * `instanceof AgentCacheError`: membership is decided by a `Symbol.for` marker rather than the prototype chain, which
 * also holds across two copies of the package loaded side by side (the AI SDK's errors work the same way).
 */
const MARKER: unique symbol = Symbol.for('agent-cache.error');

export type AgentCacheErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_NOT_CANONICALISABLE'
  | 'E_LOOP_DETECTED'
  | 'E_SESSION_ENDED'
  | 'E_PROMPT_PREFIX_VIOLATION'
  | 'E_BACKEND_CLOSED'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_BACKEND_FAILED'
  | 'E_BACKEND_OPEN'
  | 'E_NOT_A_CACHE'
  | 'E_BACKEND_READ_ONLY'
  | 'E_MISSING_PEER_DEPENDENCY'
  | 'E_UNSUPPORTED_RUNTIME'
  | 'E_INVALIDATION_UNRECORDED'
  | 'E_BACKEND_TIMEOUT'
  | 'E_BACKEND_BUSY'
  | 'E_STREAM_CANCELLED'
  | 'E_USAGE'
  | 'E_COMMAND_FAILED'
  | 'E_BAD_TRACE'
  // Room for codes added by later modules without a breaking change of this union's consumers.
  | (string & {});

function isMarked(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}

// plain Error on purpose: the base of every agent-cache error
export class AgentCacheError extends Error {
  readonly code: AgentCacheErrorCode;

  constructor(code: AgentCacheErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** True for every error agent-cache throws, `AgentCacheTypeError`s included. */
  static isInstance(value: unknown): value is AgentCacheError | AgentCacheTypeError {
    return isMarked(value);
  }

  /** `e instanceof AgentCacheError` is true for every agent-cache error; subclasses keep the usual check. */
  // `this` is the class the check runs on: AgentCacheError itself, or a subclass inheriting this method.
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the receiver decides between the marker and the prototype check
    if (this === AgentCacheError) return isMarked(value);
    // biome-ignore lint/complexity/noThisInStatic: a subclass keeps the ordinary prototype-chain check
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}
Object.defineProperty(AgentCacheError.prototype, MARKER, { value: true });

/** Bad input: a wrong option, argument or value. A `TypeError` (and an `AgentCacheError`). */
// plain Error on purpose: the base of agent-cache's bad-input errors, a TypeError as JavaScript users expect
export class AgentCacheTypeError extends TypeError {
  readonly code: AgentCacheErrorCode;

  constructor(message: string, options?: ErrorOptions & { readonly code?: AgentCacheErrorCode }) {
    super(message, options);
    this.code = options?.code ?? 'E_INVALID_ARGUMENT';
    this.name = new.target.name;
  }
}
Object.defineProperty(AgentCacheTypeError.prototype, MARKER, { value: true });

/** A backend was used after `close()`. The core turns it into an uncached call; direct callers see it thrown. */
export class BackendClosedError extends AgentCacheError {
  /** Which backend, e.g. `MemoryBackend` or `DiskBackend(/var/cache/agent.sqlite)`. */
  readonly backend: string;

  constructor(backend: string) {
    super('E_BACKEND_CLOSED', `${backend} is closed`);
    this.backend = backend;
  }
}

/**
 * The store under a backend failed an operation (a SQLite error other than a busy file, an error reply from
 * Redis); `cause` is the store's own error. The core turns it into an uncached call; direct callers see it thrown.
 */
export class BackendFailedError extends AgentCacheError {
  /** Which backend, e.g. `DiskBackend(/var/cache/agent.sqlite)`. */
  readonly backend: string;

  constructor(backend: string, cause: unknown) {
    super('E_BACKEND_FAILED', `${backend}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.backend = backend;
  }
}

/** An optional peer dependency (ioredis, a framework, OpenTelemetry) is needed by the entry point in use. */
export class MissingPeerDependencyError extends AgentCacheError {
  readonly packageName: string;

  constructor(packageName: string, neededBy: string, options?: ErrorOptions) {
    super(
      'E_MISSING_PEER_DEPENDENCY',
      `${neededBy} needs the \`${packageName}\` package: npm install ${packageName}`,
      options,
    );
    this.packageName = packageName;
  }
}

/** The running Node.js lacks something a feature needs (DiskBackend needs `node:sqlite`: Node.js >= 22.13). */
export class UnsupportedRuntimeError extends AgentCacheError {
  constructor(message: string) {
    super('E_UNSUPPORTED_RUNTIME', message);
  }
}
