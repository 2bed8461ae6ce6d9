import { AgentCacheError } from '../errors.js';

/** `run` was called on a session that has ended. */
export class AgentCacheSessionEndedError extends AgentCacheError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(
      'E_SESSION_ENDED',
      `agent-cache session ${JSON.stringify(sessionId)} has ended; create a new AgentCacheSession`,
    );
    this.sessionId = sessionId;
  }
}
