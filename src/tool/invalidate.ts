import { type Backend, isPromiseLike } from '../backends/contract.js';
import { backendsToInvalidate, getDefaults } from '../config.js';
import { noteInvalidation } from '../loop/clock.js';
import type { Counters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { invalidateChannel } from '../observe/channels.js';
import { observed, publishBackendError, publishInvalidate } from '../observe/publish.js';
import { contextStorage } from '../session/context.js';
import type { AgentCacheSession } from '../session/session.js';
import { checkScope, resourceNames, type Scope } from './options.js';
import { resourceTag, sessionResourceTag } from './tags.js';

/** The generation tags a write to `resources` advances: global tags, or the active session's own. */
export function invalidationTags(
  resources: readonly string[],
  scope: Scope,
  session: AgentCacheSession | undefined,
): string[] {
  const ns = getDefaults().namespace;
  return scope === 'session'
    ? resources.map((r) => sessionResourceTag(ns, session!.keyPart, r))
    : resources.map((r) => resourceTag(ns, r));
}

/**
 * Advances the tags in every backend. A backend that fails is counted and reported but does not stop the others,
 * nor the write tool: a cache failure never fails a working call.
 */
export async function bumpAll(
  tags: readonly string[],
  backends: readonly Backend[],
  session: AgentCacheSession | undefined,
  sessionScoped: boolean,
  counters: Counters,
  tool?: string,
): Promise<void> {
  const sessionId = sessionScoped ? session!.sessionId : undefined;
  const pending: Promise<void>[] = [];
  for (const backend of backends) {
    if (sessionScoped) session!.track(backend);
    try {
      const done = backend.bump(tags, sessionId);
      if (isPromiseLike(done))
        pending.push(done.catch((error: unknown) => bumpFailed(error, session, counters, tool)));
    } catch (error) {
      bumpFailed(error, session, counters, tool);
    }
  }
  if (pending.length > 0) await Promise.all(pending);
}

function bumpFailed(
  error: unknown,
  session: AgentCacheSession | undefined,
  counters: Counters,
  tool: string | undefined,
): void {
  counters.backendErrors++;
  if (session) session.metrics.untooled.backendErrors++;
  publishBackendError(tool, undefined, session?.sessionId, 'bump', error);
  (session?.logger ?? getDefaults().logger).error('agent-cache: could not invalidate in a backend', error);
}

/**
 * Makes every entry tagged with one of `resource` stale, outside any tool call. With `scope: 'session'` only the
 * active session's entries (outside a session: a no-op counted in `bypassed`).
 */
export async function invalidateResource(
  resource: string | readonly string[],
  options: { readonly scope?: Scope } = {},
): Promise<void> {
  const names = resourceNames(resource, 'invalidateResource');
  const scope = checkScope(options.scope, 'invalidateResource');
  const session = contextStorage.getStore()?.session;
  const counters = globalMetrics.untooled;
  if (scope === 'session' && session === undefined) {
    counters.bypassed++;
    return;
  }
  counters.invalidations++;
  if (session) {
    session.metrics.untooled.invalidations++;
  }
  const started = observed(invalidateChannel) ? performance.now() : -1;
  noteInvalidation(names, scope, session);
  await bumpAll(
    invalidationTags(names, scope, session),
    backendsToInvalidate(),
    session,
    scope === 'session',
    counters,
  );
  if (started >= 0) publishInvalidate(undefined, names, scope, session, performance.now() - started, false);
}
