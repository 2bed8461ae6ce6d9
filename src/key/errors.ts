import { AgentCacheTypeError } from '../errors.js';

/** Thrown when a value cannot be turned into a canonical key (a function, a symbol, a cycle...). */
export class NotCanonicalisableError extends AgentCacheTypeError {
  /** Where the offending value sits, e.g. `$[0].messages[3].content` (`$` is the root). */
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`cannot canonicalise ${reason} at ${path}`, { code: 'E_NOT_CANONICALISABLE' });
    this.path = path;
    this.reason = reason;
  }
}
