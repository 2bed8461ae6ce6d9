import { AgentCacheTypeError } from '../errors.js';

/** Past this length, a path is shortened in the message (it is kept whole in `path`). */
const MESSAGE_PATH = 160;

/** Thrown when a value cannot be turned into a canonical key (a function, a symbol, a cycle...). */
export class NotCanonicalisableError extends AgentCacheTypeError {
  /** Where the offending value sits, e.g. `$[0].messages[3].content` (`$` is the root). */
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    const shown =
      path.length > MESSAGE_PATH
        ? `${path.slice(0, MESSAGE_PATH / 2)}…${path.slice(-MESSAGE_PATH / 2)}`
        : path;
    super(`cannot canonicalise ${reason} at ${shown}`, { ...options, code: 'E_NOT_CANONICALISABLE' });
    this.path = path;
    this.reason = reason;
  }
}
