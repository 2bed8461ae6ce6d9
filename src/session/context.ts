import { AsyncLocalStorage } from 'node:async_hooks';
import type { AgentCacheSession } from './session.js';

/** What follows an agent's async work: its session, and how many wrapped-tool executions enclose this point. */
export interface ActiveContext {
  readonly session: AgentCacheSession;
  readonly depth: number;
}

export const contextStorage = new AsyncLocalStorage<ActiveContext>();
