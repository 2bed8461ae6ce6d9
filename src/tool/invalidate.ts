import { type Backend, isPromiseLike } from '../backends/contract.js';
import { backendsToInvalidate, getDefaults } from '../config.js';
import { noteInvalidation } from '../loop/clock.js';
import type { Counters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { invalidateChannel } from '../observe/channels.js';
import { observed, publishBackendError, publishInvalidate } from '../observe/publish.js';
import { contextStorage } from '../session/context.js';
import type { AgentCacheSession } from '../session/session.js';
import { InvalidationUnrecordedError } from './errors.js';
import { checkScope, resourceNames, type Scope, type Strict, strictTimeout } from './options.js';
import { recordBump, whenRecorded } from './pending.js';
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
 * nor the write tool: a cache failure never fails a working call. What a backend could not record stays pending in
 * this process (see pending.ts). Resolves to whether every backend recorded it.
 */
export async function bumpAll(
  tags: readonly string[],
  backends: readonly Backend[],
  session: AgentCacheSession | undefined,
  sessionScoped: boolean,
  counters: Counters,
  tool?: string,
): Promise<boolean> {
  const sessionId = sessionScoped ? session!.sessionId : undefined;
  const onError = (error: unknown) => bumpFailed(error, session, counters, tool);
  let recorded = true;
  const answers: Promise<boolean>[] = [];
  for (const backend of backends) {
    if (sessionScoped) session!.track(backend);
    const done = recordBump(backend, tags, sessionId, onError);
    if (isPromiseLike(done)) answers.push(done);
    else if (!done) recorded = false;
  }
  if (answers.length > 0) for (const ok of await Promise.all(answers)) if (!ok) recorded = false;
  return recorded;
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
  (session?.logger ?? getDefaults().logger).error(
    'agent-cache: could not invalidate in a backend; the invalidation stays pending in this process (nothing it affects is served from that backend here) and is retried',
    error,
  );
}

/**
 * Makes every entry tagged with one of `resource` stale, outside any tool call. With `scope: 'session'` only the
 * active session's entries (outside a session: a no-op counted in `bypassed`). With `strict`, rejects with
 * `InvalidationUnrecordedError` when a backend could not record it in time.
 */
export async function invalidateResource(
  resource: string | readonly string[],
  options: { readonly scope?: Scope; readonly strict?: Strict } = {},
): Promise<void> {
  const names = resourceNames(resource, 'invalidateResource');
  const scope = checkScope(options.scope, 'invalidateResource');
  const strict = strictTimeout(options.strict, 'invalidateResource');
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
  const tags = invalidationTags(names, scope, session);
  const backends = backendsToInvalidate();
  const recorded = await bumpAll(tags, backends, session, scope === 'session', counters);
  if (started >= 0) publishInvalidate(undefined, names, scope, session, performance.now() - started, false);
  if (!recorded && strict !== undefined && !(await whenRecorded(backends, tags, strict))) {
    throw new InvalidationUnrecordedError('invalidateResource', names, 'after');
  }
}
