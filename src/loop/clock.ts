import type { AgentCacheSession } from '../session/session.js';

/**
 * One monotonic tick for every loop-detection event of the process: calls recorded by any session and
 * invalidations. A shared clock lets a session compare its calls with invalidations made elsewhere (another
 * session, a background job, `invalidateResource` outside any session): a read repeated after someone else changed
 * its resource is progress, not a stuck agent.
 */
let tick = 0;

export function nextTick(): number {
  return ++tick;
}

/** The newest tick handed out. */
export function currentTick(): number {
  return tick;
}

/**
 * Tick of the last global invalidation of each resource. Bounded: when it is full the oldest mark goes first. A
 * mark is only useful while some history still holds a call older than it, and a history holds at most
 * `historyWindow` calls, so forgetting the oldest of thousands of marks practically never changes a verdict (and
 * when it does, it can only make a repeat count higher, never hide a loop).
 */
const MAX_GLOBAL_MARKS = 10_000;
const globalMarks = new Map<string, number>();
/** No loop-detecting session was ever created: writes skip the bookkeeping altogether. */
let enabled = false;

export function enableGlobalMarks(): void {
  enabled = true;
}

export function globalMark(resource: string): number | undefined {
  return enabled ? globalMarks.get(resource) : undefined;
}

/**
 * A write or `invalidateResource` made `resources` stale. Global-scope invalidations reach every session (they make
 * every session's entries stale); session-scope ones only the active session's detector.
 */
export function noteInvalidation(
  resources: readonly string[],
  scope: 'global' | 'session',
  session: AgentCacheSession | undefined,
): void {
  if (scope === 'session') {
    session?.loop?.invalidated(resources);
    return;
  }
  if (!enabled || resources.length === 0) return;
  const at = nextTick();
  for (const r of resources) {
    globalMarks.delete(r); // re-insert: Map order is then the order of the marks, oldest first
    globalMarks.set(r, at);
  }
  while (globalMarks.size > MAX_GLOBAL_MARKS) globalMarks.delete(globalMarks.keys().next().value!);
}
