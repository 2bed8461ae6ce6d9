import { AgentCacheError } from '../errors.js';

/**
 * A strict write (`strict` option) could not have its invalidation recorded in every backend in time. `phase` says
 * when: `'before'` the mutation (which then did not run), or `'after'` it (it ran: `outcome` is how it settled).
 * Either way the invalidation stays pending in this process and keeps being retried.
 */
export class InvalidationUnrecordedError extends AgentCacheError {
  readonly toolName: string;
  readonly resources: readonly string[];
  readonly phase: 'before' | 'after';
  /** After the mutation: its result or error (undefined for `invalidateResource`, which has no mutation). */
  readonly outcome: PromiseSettledResult<unknown> | undefined;

  constructor(
    toolName: string,
    resources: readonly string[],
    phase: 'before' | 'after',
    outcome?: PromiseSettledResult<unknown>,
  ) {
    const what = resources.map((r) => JSON.stringify(r)).join(', ');
    super(
      'E_INVALIDATION_UNRECORDED',
      phase === 'before'
        ? `${toolName}: the invalidation of ${what} could not be recorded in every backend in time; the mutation did not run`
        : outcome === undefined
          ? `${toolName}: the invalidation of ${what} could not be recorded in every backend in time; it stays pending in this process`
          : `${toolName}: the mutation ran (${outcome.status === 'rejected' ? 'and threw' : 'and succeeded'}), but the invalidation of ${what} after it could not be recorded in every backend in time; it stays pending in this process`,
      outcome?.status === 'rejected' ? { cause: outcome.reason } : undefined,
    );
    this.toolName = toolName;
    this.resources = resources;
    this.phase = phase;
    this.outcome = outcome;
  }
}
