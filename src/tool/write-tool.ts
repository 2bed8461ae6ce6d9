import type { Backend } from '../backends/contract.js';
import { backendsToInvalidate, getDefaults } from '../config.js';
import { KeyMemo } from '../key/memo.js';
import { noteInvalidation } from '../loop/clock.js';
import type { Counters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { currentStatus, needsRecording, tracing } from '../observe/call-status.js';
import { bypassChannel, invalidateChannel } from '../observe/channels.js';
import { observeBypass, observed, publishInvalidate } from '../observe/publish.js';
import { recordCall } from '../observe/record-call.js';
import { contextStorage } from '../session/context.js';
import type { AgentCacheSession } from '../session/session.js';
import { InvalidationUnrecordedError } from './errors.js';
import { bumpAll, invalidationTags } from './invalidate.js';
import { loopGate, trackOutcome } from './loop-gate.js';
import type { WriteSpec } from './options.js';
import { whenRecorded } from './pending.js';
import { toolKeyPrefix } from './tags.js';
import type { AnyFunction } from './wrap.js';

/**
 * The write path of one invalidating tool: its resources are invalidated before the mutation runs and again when
 * it settles (also when it throws), so a read that overlapped the mutation can neither be stored nor joined.
 */
export class WriteTool {
  readonly name: string;
  readonly #spec: WriteSpec;
  readonly #fn: AnyFunction;
  readonly #counters: Counters;
  /** Keys of calls, for loop detection's notion of "identical call". */
  readonly #keys = new KeyMemo({ slots: 64, maxSlots: 64 });
  #warned = false;
  #warnedNoSession = false;

  constructor(name: string, spec: WriteSpec, fn: AnyFunction) {
    this.name = name;
    this.#spec = spec;
    this.#fn = fn;
    this.#counters = globalMetrics.tool(name);
  }

  call(thisArg: unknown, args: unknown[]): Promise<unknown> {
    if (tracing && needsRecording()) {
      const spec = this.#spec;
      return recordCall(
        { tool: this.name, kind: 'write', scope: spec.scope, thisArg, args, resources: spec.resources },
        () => this.call(thisArg, args),
      );
    }
    const frame = contextStorage.getStore();
    const session = frame?.session;
    const depth = frame === undefined ? 0 : frame.depth;
    const scoped = this.#spec.scope === 'session';
    let resources: readonly string[] | undefined;
    try {
      resources = this.#spec.resources(thisArg, args);
    } catch (error) {
      this.#warn(error, session);
    }
    // Without resources (or a session for a session-scoped write) there is nothing to invalidate: the mutation runs
    // as is, counted in `bypassed` (once it is let through loop detection, like an invalidation).
    if (scoped && session === undefined) this.#warnNoSession();
    const invalidates = resources !== undefined && !(scoped && session === undefined);
    return this.#guarded(thisArg, args, session, depth, invalidates ? resources! : undefined);
  }

  #guarded(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
    resources: readonly string[] | undefined,
  ): Promise<unknown> {
    if (session?.loop === undefined || session.ended)
      return this.#run(thisArg, args, session, depth, resources);
    let key: string | undefined;
    try {
      key = this.#keys.key(args, toolKeyPrefix(getDefaults().namespace, this.name), '');
    } catch {
      key = undefined; // still counts toward depth and retry storms
    }
    const verdict = loopGate(session, this.name, key, args, depth + 1, this.#counters);
    if (verdict instanceof Error) return Promise.reject(verdict);
    // A write has no stored value: short-circuiting it means not running it.
    if (verdict === 'short_circuit') return Promise.resolve(undefined);
    return trackOutcome(session, this.name, this.#run(thisArg, args, session, depth, resources));
  }

  async #run(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
    resources: readonly string[] | undefined,
  ): Promise<unknown> {
    if (resources === undefined) {
      this.#count('bypassed', session);
      const execute = () => this.#mutate(thisArg, args, session, depth);
      if (!observed(bypassChannel)) return execute();
      const reason =
        this.#spec.scope === 'session' && session === undefined ? 'no-session' : 'resource-error';
      return observeBypass(execute, this.name, undefined, session, reason);
    }
    this.#count('invalidations', session);
    const started = observed(invalidateChannel) ? performance.now() : -1;
    const scoped = this.#spec.scope === 'session';
    const tags = resources.length === 0 ? [] : invalidationTags(resources, this.#spec.scope, session);
    const backends: readonly Backend[] = this.#spec.backend ? [this.#spec.backend] : backendsToInvalidate();
    if (tags.length > 0) {
      noteInvalidation(resources, this.#spec.scope, session);
      const recorded = await bumpAll(tags, backends, session, scoped, this.#counters, this.name);
      if (!recorded && !(await this.#strictlyRecorded(backends, tags))) {
        throw new InvalidationUnrecordedError(this.name, resources, 'before');
      }
    }
    let outcome: PromiseSettledResult<unknown>;
    try {
      outcome = { status: 'fulfilled', value: await this.#mutate(thisArg, args, session, depth) };
    } catch (error) {
      outcome = { status: 'rejected', reason: error };
    }
    // Again when the mutation settles: a read that started during it must not be stored or joined.
    const recorded =
      tags.length === 0 || (await bumpAll(tags, backends, session, scoped, this.#counters, this.name));
    if (started >= 0) {
      const durationMs = performance.now() - started;
      const thrown = outcome.status === 'rejected' ? outcome.reason : undefined;
      publishInvalidate(
        this.name,
        resources,
        this.#spec.scope,
        session,
        durationMs,
        outcome.status === 'rejected',
        thrown,
      );
    }
    if (!recorded && !(await this.#strictlyRecorded(backends, tags))) {
      throw new InvalidationUnrecordedError(this.name, resources, 'after', outcome);
    }
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  /** Not strict: true at once (what failed stays pending). Strict: whether the retries recorded it in time. */
  #strictlyRecorded(backends: readonly Backend[], tags: readonly string[]): Promise<boolean> | true {
    const timeout = this.#spec.strictTimeout;
    return timeout === undefined || whenRecorded(backends, tags, timeout);
  }

  /** Runs the mutation itself (errors counted); a trace recorder learns how long it took. */
  async #mutate(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    const status = currentStatus();
    const started = status === undefined ? 0 : performance.now();
    try {
      return await (session?.loop === undefined
        ? this.#fn.apply(thisArg, args)
        : contextStorage.run({ session, depth: depth + 1 }, () => this.#fn.apply(thisArg, args)));
    } catch (error) {
      this.#count('errors', session);
      throw error;
    } finally {
      if (status !== undefined) status.executedMs = performance.now() - started;
    }
  }

  #count(counter: 'invalidations' | 'bypassed' | 'errors', session: AgentCacheSession | undefined): void {
    this.#counters[counter]++;
    if (session !== undefined) session.metrics.tool(this.name)[counter]++;
  }

  #warnNoSession(): void {
    if (this.#warnedNoSession) return;
    this.#warnedNoSession = true;
    getDefaults().logger.warn(
      `agent-cache: ${this.name} is a session-scoped write called outside any AgentCacheSession; it runs without invalidating anything (warned once per tool)`,
    );
  }

  #warn(error: unknown, session: AgentCacheSession | undefined): void {
    if (this.#warned) return;
    this.#warned = true;
    (session?.logger ?? getDefaults().logger).warn(
      `agent-cache: the resource function of ${this.name} threw; the write runs without invalidating (warned once)`,
      error,
    );
  }
}
