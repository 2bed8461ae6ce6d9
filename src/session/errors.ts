/** `run` was called on a session that has ended. */
export class AgentCacheSessionEndedError extends Error {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(`agent-cache session ${JSON.stringify(sessionId)} has ended; create a new AgentCacheSession`);
    this.name = 'AgentCacheSessionEndedError';
    this.sessionId = sessionId;
  }
}
