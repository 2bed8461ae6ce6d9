import { AgentCacheError } from '../../errors.js';

/**
 * The file is not an agent-cache file, or not one of this version (`DiskBackend({ create: false })` and the
 * `agent-cache` command refuse it). The file was left exactly as it was.
 */
export class NotACacheError extends AgentCacheError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('E_NOT_A_CACHE', `${path} is not an agent-cache file (${reason})`);
    this.path = path;
  }
}
