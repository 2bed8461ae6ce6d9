import { AgentCacheError } from '../errors.js';
import type { CacheLayoutEvent } from './layout-event.js';

/** A change of the protected prompt prefix (policy `protectPromptPrefix: true`, `onViolation: 'raise'`). */
export class PromptPrefixViolationError extends AgentCacheError {
  readonly event: CacheLayoutEvent;
  /** The middleware whose pass changed the prefix (checkPass), if known. */
  readonly middleware: string | undefined;
  readonly firstChangedId: string | undefined;
  readonly sessionId: string | undefined;

  constructor(event: CacheLayoutEvent, sessionId?: string) {
    super('E_PROMPT_PREFIX_VIOLATION', event.describe());
    this.event = event;
    this.middleware = event.middleware;
    this.firstChangedId = event.firstChangedId;
    this.sessionId = sessionId;
  }
}
