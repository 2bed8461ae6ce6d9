import { type Backend, type BackendEntry, isPromiseLike, type MaybePromise } from '../backends/contract.js';
import { registerBackend } from '../backends/registry.js';
import { type Defaults, getDefaults } from '../config.js';
import { KeyMemo } from '../key/memo.js';
import type { Counters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { needsRecording, tracing } from '../observe/call-status.js';
import {
  type BackendErrorMessage,
  type BypassReason,
  bypassChannel,
  hitChannel,
  missChannel,
} from '../observe/channels.js';
import { observeBypass, observed, publishBackendError, publishHit, publishMiss } from '../observe/publish.js';
import { recordCall } from '../observe/record-call.js';
import { contextStorage } from '../session/context.js';
import type { AgentCacheSession } from '../session/session.js';
import { abortedByItsCaller, anyAborted, signalsOf, untilAborted } from './abort.js';
import { describeCallContext, findCallContext } from './call-context.js';
import { insideFlight, runAsFlight } from './flight-context.js';
import { loopGate, settledHit, trackOutcome } from './loop-gate.js';
import type { ReadSpec } from './options.js';
import { answerBlocked, blocks, lookupToken, pendingState, recordBump, recordDelete } from './pending.js';
import { resourceTag, sessionResourceTag, toolKeyPrefix, toolTag } from './tags.js';
import type { AnyFunction } from './wrap.js';

interface InFlight {
  promise: Promise<unknown>;
  /** Generations of the entry's tags when the execution started: a later caller joins only while they hold. */
  readonly gens: readonly number[];
  readonly backend: Backend;
  /** Set by invalidate()/clear(): the result is still returned to its callers, but not stored. */
  cancelled: boolean;
  /** How long the execution took, once it settled successfully: what each joined caller saved. */
  durationMs: number;
  /** The executing call's arguments: where its AbortSignals are, if its rejection turns out to be its abort. */
  readonly args: readonly unknown[];
}

/**
 * The read path of one cached tool: key, lookup, single flight, store. A hit is one AsyncLocalStorage read, one
 * canonical encoding, one backend lookup and two counter increments; everything else is on the miss path.
 */
export class ReadTool {
  readonly name: string;
  readonly #spec: ReadSpec;
  readonly #fn: AnyFunction;
  readonly #counters: Counters;
  readonly #inflight = new Map<string, InFlight>();
  /** Argument keys, each with the backend entry last found under it when its backend can recheck one. */
  readonly #keys = new KeyMemo<KeyedEntry>();
  /** Backends this tool stored into, so clear() reaches them. */
  readonly #backends = new Set<Backend>();
  #version = -1;
  #namespace = '';
  #keyPrefix = '';
  #toolTag = '';
  #warnedBypass = false;
  /** The tags of the last miss, and what they were made from. */
  #lastTags:
    | { names: readonly string[]; namespace: string; keyPart: string; tags: readonly string[] }
    | undefined;
  #warnedNoSession = false;
  /** Set by a synchronous hit in #lookup, read (and reset) by #gated right after: loop detection skips waiting. */
  #syncHit = false;
  #warnedBackend = false;
  /**
   * The call whose tags a `tagsOnGet` backend may ask for during get() (it asks synchronously, at most once): one
   * object per tool rather than a closure per call.
   */
  readonly #tagsAsk: {
    thisArg: unknown;
    args: unknown[] | undefined;
    session: AgentCacheSession | undefined;
    tags: readonly string[] | undefined;
  } = { thisArg: undefined, args: undefined, session: undefined, tags: undefined };
  readonly #tagsOption = {
    tags: (): readonly string[] | undefined => {
      const ask = this.#tagsAsk;
      if (ask.args !== undefined && ask.tags === undefined)
        ask.tags = this.#tagsOrUndefined(ask.thisArg, ask.args, ask.session);
      return ask.tags;
    },
  };
  /** Misses left on which to look for framework per-call objects in the key material (0: done, or warned). */
  #contextChecks = CONTEXT_CHECKS;

  constructor(name: string, spec: ReadSpec, fn: AnyFunction) {
    this.name = name;
    this.#spec = spec;
    this.#fn = fn;
    this.#counters = globalMetrics.tool(name);
    if (spec.backend) registerBackend(spec.backend);
  }

  call(thisArg: unknown, args: unknown[]): Promise<unknown> {
    if (tracing && needsRecording()) return this.#recorded(thisArg, args);
    const frame = contextStorage.getStore();
    const defaults = getDefaults();
    if (defaults.version !== this.#version) this.#refresh(defaults);
    const session = frame?.session;
    const spec = this.#spec;
    const scoped = spec.scope === 'session';
    const depth = frame === undefined ? 0 : frame.depth;
    if (scoped && (session === undefined || session.ended)) {
      if (session === undefined) this.#warnNoSession();
      return this.#bypass(
        thisArg,
        args,
        session,
        depth,
        session === undefined ? 'no-session' : 'session-ended',
      );
    }

    let key: string;
    try {
      key = this.#keyFor(thisArg, args, session);
    } catch (error) {
      if (!(this.#contextChecks !== 0 && this.#checkCallContext(thisArg, args, session, true)))
        this.#warnBypass(error, session);
      return this.#bypass(thisArg, args, session, depth, 'uncacheable-arguments');
    }
    const backend = this.#backendFor(session, defaults);
    if (session?.loop !== undefined) return this.#gated(thisArg, args, key, backend, session, depth);
    return this.#lookup(thisArg, args, key, backend, session, depth);
  }

  /** Drops the entry for these arguments in the current scope (and keeps an in-flight result from landing). */
  async invalidate(thisArg: unknown, args: unknown[]): Promise<void> {
    const session = contextStorage.getStore()?.session;
    const defaults = getDefaults();
    if (defaults.version !== this.#version) this.#refresh(defaults);
    if (this.#spec.scope === 'session' && session === undefined) return;
    let key: string;
    try {
      key = this.#keyFor(thisArg, args, session);
    } catch {
      return; // such arguments are never cached
    }
    const flight = this.#inflight.get(key);
    if (flight) {
      flight.cancelled = true;
      this.#inflight.delete(key);
    }
    const backend = this.#backendFor(session, defaults);
    await recordDelete(backend, key, (error) => this.#backendFailed(error, session, key, 'delete'));
  }

  /** Drops every entry of this tool in every scope: its tool tag moves on, so no old entry is served again. */
  async clear(): Promise<void> {
    for (const flight of this.#inflight.values()) flight.cancelled = true;
    this.#inflight.clear();
    const defaults = getDefaults();
    if (defaults.version !== this.#version) this.#refresh(defaults);
    const backends = new Set(this.#backends);
    backends.add(this.#spec.backend ?? defaults.backend);
    const tags = [this.#toolTag];
    await Promise.all(
      [...backends].map((backend) =>
        recordBump(backend, tags, undefined, (error) =>
          this.#backendFailed(error, undefined, undefined, 'bump'),
        ),
      ),
    );
  }

  /** The entry key of a call in its scope (a session-scoped tool needs a session). Throws for arguments with no
   * canonical form, or when the `key` option throws. */
  #keyFor(thisArg: unknown, args: unknown[], session: AgentCacheSession | undefined): string {
    const material = this.#spec.key === undefined ? args : this.#spec.key.apply(thisArg, args);
    return this.#spec.scope === 'session'
      ? this.#keys.key(material, this.#keyPrefix, session!.keyPart, session!.keySeed)
      : this.#keys.key(material, this.#keyPrefix, 'g');
  }

  #backendFor(session: AgentCacheSession | undefined, defaults: Defaults): Backend {
    const own = this.#spec.backend;
    if (own !== undefined) return own;
    return (this.#spec.scope === 'session' ? session!.backend : undefined) ?? defaults.backend;
  }

  #refresh(defaults: Defaults): void {
    this.#version = defaults.version;
    this.#namespace = defaults.namespace;
    this.#keyPrefix = toolKeyPrefix(defaults.namespace, this.name);
    this.#toolTag = toolTag(defaults.namespace, this.name);
  }

  #lookup(
    thisArg: unknown,
    args: unknown[],
    key: string,
    backend: Backend,
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    // A backend that reads an entry and its tags' generations in one round trip (Redis) can ask for the tags when
    // it goes to its store (not for an in-process hit); the miss that may follow uses the same array.
    let tags: readonly string[] | undefined;
    let found: BackendEntry | undefined | Promise<BackendEntry | undefined>;
    try {
      // The entry found last time for these arguments, if the backend says it is still the one get() would return:
      // no lookup by key (at a million keys, each one is a few cache misses).
      const known = this.#keys.attached();
      if (known !== undefined && known.key === key && backend.current?.(known) === true) found = known;
      else if (backend.tagsOnGet === true) {
        const ask = this.#tagsAsk;
        ask.thisArg = thisArg;
        ask.args = args;
        ask.session = session;
        ask.tags = undefined;
        try {
          found = backend.get(key, this.#tagsOption);
        } finally {
          tags = ask.tags;
          ask.args = ask.thisArg = ask.session = ask.tags = undefined;
        }
      } else {
        found = backend.get(key);
        if (backend.current !== undefined && !isPromiseLike(found)) this.#keys.attach(keyed(found), key);
      }
    } catch (error) {
      this.#backendFailed(error, session, key, 'get');
      return this.#execute(thisArg, args, session, depth);
    }
    if (found === undefined) return this.#miss(thisArg, args, key, backend, session, depth, tags);
    if (isPromiseLike(found)) {
      // Timed only while someone listens: the event carries how long the backend took to answer.
      const started = observed(hitChannel) ? performance.now() : -1;
      const token = lookupToken();
      return found.then(
        (entry) => {
          if (entry === undefined) return this.#miss(thisArg, args, key, backend, session, depth, tags);
          // An invalidation of this entry is pending (or was recorded while the lookup ran): not served.
          if ((token !== -1 || pendingState.active !== 0) && answerBlocked(token, backend, key, entry.tags))
            return this.#heldBack(thisArg, args, key, session, depth);
          return this.#hit(entry, key, session, started);
        },
        (error: unknown) => {
          this.#backendFailed(error, session, key, 'get');
          return this.#execute(thisArg, args, session, depth);
        },
      );
    }
    if (pendingState.active !== 0 && blocks(backend, key, found.tags))
      return this.#heldBack(thisArg, args, key, session, depth);
    this.#syncHit = true;
    // Answered synchronously (from memory): its duration is taken as 0 rather than paying for two clock reads.
    return Promise.resolve(this.#hit(found, key, session, observed(hitChannel) ? SYNC : -1));
  }

  #hit(entry: BackendEntry, key: string, session: AgentCacheSession | undefined, started: number): unknown {
    const saved = entry.durationMs ?? 0;
    const counters = this.#counters;
    counters.hits++;
    counters.savedMs += saved;
    if (session !== undefined) {
      const own = session.metrics.tool(this.name);
      own.hits++;
      own.savedMs += saved;
    }
    if (started >= 0) {
      publishHit(this.name, key, session, saved, started === SYNC ? 0 : performance.now() - started, false);
    }
    return entry.value;
  }

  async #miss(
    thisArg: unknown,
    args: unknown[],
    key: string,
    backend: Backend,
    session: AgentCacheSession | undefined,
    depth: number,
    known?: readonly string[],
  ): Promise<unknown> {
    if (this.#contextChecks !== 0) this.#checkCallContext(thisArg, args, session, false);
    let tags: readonly string[];
    try {
      tags = known ?? this.#tagsFor(thisArg, args, session);
    } catch (error) {
      this.#warnBypass(error, session);
      this.#count('bypassed', session);
      return this.#uncached(thisArg, args, session, depth, 'resource-error', key);
    }
    if (pendingState.active !== 0 && blocks(backend, key, tags))
      return this.#heldBack(thisArg, args, key, session, depth);
    // Registered before generations are read, so a write that starts now already reaches this backend.
    registerBackend(backend);
    // The memo grows with the distinct arguments seen, up to what the backend can hold.
    if (backend.maxEntries !== undefined) this.#keys.allow(backend.maxEntries);
    let gens: readonly number[];
    try {
      const pending = backend.generations(tags);
      gens = isPromiseLike(pending) ? await pending : pending;
    } catch (error) {
      this.#backendFailed(error, session, key, 'generations');
      return this.#execute(thisArg, args, session, depth);
    }
    const flight = this.#inflight.get(key);
    if (
      flight !== undefined &&
      flight.backend === backend &&
      sameGenerations(flight.gens, gens) &&
      !insideFlight(flight)
    ) {
      this.#count('hits', session);
      this.#count('coalesced', session);
      return this.#joined(flight, thisArg, args, key, backend, session, depth);
    }
    this.#count('misses', session);
    const record: InFlight = {
      promise: undefined as unknown as Promise<unknown>,
      gens,
      backend,
      cancelled: false,
      durationMs: 0,
      args,
    };
    const started = performance.now();
    record.promise = runAsFlight(record, () => this.#start(thisArg, args, session, depth));
    this.#inflight.set(key, record);
    let value: unknown;
    try {
      value = await record.promise;
    } catch (error) {
      this.#count('errors', session); // once per execution: callers that joined it do not count it again
      if (observed(missChannel))
        publishMiss(this.name, key, session, performance.now() - started, true, error);
      throw error;
    } finally {
      if (this.#inflight.get(key) === record) this.#inflight.delete(key);
    }
    // Set before any joined caller resumes (they awaited the same promise after us), so they see what they saved.
    // Whole µs: finer is noise, and a whole number of µs is what a MemoryBackend keeps without a boxed number.
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    record.durationMs = durationMs;
    if (observed(missChannel)) publishMiss(this.name, key, session, durationMs, false);
    if (!record.cancelled) {
      const storing = this.#store(key, value, tags, gens, backend, session, durationMs);
      if (storing !== undefined) await storing;
    }
    return value;
  }

  /**
   * A caller that joined an execution in flight (counted as a hit): it saved that execution's time. It is never
   * failed by another caller's abort: when the execution rejects because its caller was aborted (see abort.ts), a
   * joined caller whose own signals are live runs again (joined callers that do so share one new execution). A
   * joined caller whose own signal aborts stops waiting, with its signal's reason.
   */
  async #joined(
    flight: InFlight,
    thisArg: unknown,
    args: unknown[],
    key: string,
    backend: Backend,
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    const started = observed(hitChannel) ? performance.now() : -1;
    const own = signalsOf(args);
    let value: unknown;
    try {
      value = await (own === undefined ? flight.promise : untilAborted(flight.promise, own));
    } catch (error) {
      if (anyAborted(own) || !abortedByItsCaller(error, flight.args)) throw error;
      this.#uncount('hits', session);
      this.#uncount('coalesced', session);
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key); // never join it again
      return this.#miss(thisArg, args, key, backend, session, depth);
    }
    const saved = flight.durationMs;
    this.#counters.savedMs += saved;
    if (session !== undefined) session.metrics.tool(this.name).savedMs += saved;
    if (started >= 0) publishHit(this.name, key, session, saved, performance.now() - started, true);
    return value;
  }

  /** Stores the result; a promise only when the backend answers asynchronously (the memory backend does not). */
  #store(
    key: string,
    value: unknown,
    tags: readonly string[],
    gens: readonly number[],
    backend: Backend,
    session: AgentCacheSession | undefined,
    durationMs: number,
  ): Promise<void> | undefined {
    const spec = this.#spec;
    const scoped = spec.scope === 'session';
    if (scoped && session!.ended) return undefined;
    if (spec.shouldCache !== undefined) {
      try {
        if (!spec.shouldCache(value)) return undefined;
      } catch (error) {
        (session?.logger ?? getDefaults().logger).warn(
          `agent-cache: shouldCache of ${this.name} threw`,
          error,
        );
        return undefined;
      }
    }
    // An invalidation of it could not be recorded yet: storing would bring back what it made stale.
    if (pendingState.active !== 0 && blocks(backend, key, tags)) return undefined;
    this.#backends.add(backend);
    if (scoped) session!.track(backend);
    const now = Date.now();
    const entry: BackendEntry = {
      value,
      expiresAt: spec.ttl === undefined ? 0 : now + spec.ttl,
      tags,
      gens,
      sessionId: scoped ? session!.sessionId : undefined,
      createdAt: now,
      durationMs,
    };
    let stored: MaybePromise<boolean>;
    try {
      stored = backend.set(key, entry);
    } catch (error) {
      this.#backendFailed(error, session, key, 'set');
      return undefined;
    }
    return isPromiseLike(stored) ? this.#stored(stored, key, backend, session, scoped) : undefined;
  }

  async #stored(
    stored: Promise<boolean>,
    key: string,
    backend: Backend,
    session: AgentCacheSession | undefined,
    scoped: boolean,
  ): Promise<void> {
    try {
      await stored;
      // The session ended while we were writing: do not leave its entry behind.
      if (scoped && session!.ended) await backend.delete(key);
    } catch (error) {
      this.#backendFailed(error, session, key, 'set');
    }
  }

  #gated(
    thisArg: unknown,
    args: unknown[],
    key: string | undefined,
    backend: Backend | undefined,
    session: AgentCacheSession,
    depth: number,
    reason: BypassReason = 'uncacheable-arguments',
  ): Promise<unknown> {
    const verdict = loopGate(
      session,
      this.name,
      key,
      args,
      depth + 1,
      this.#counters,
      this.#spec.resources,
      thisArg,
    );
    if (verdict instanceof Error) return Promise.reject(verdict);
    if (verdict === 'short_circuit') return shortCircuit(key, backend);
    if (key === undefined || backend === undefined) {
      return trackOutcome(session, this.name, this.#uncached(thisArg, args, session, depth, reason));
    }
    this.#syncHit = false;
    const result = this.#lookup(thisArg, args, key, backend, session, depth);
    // A synchronous hit cannot fail: record the success now instead of waiting on the promise.
    if (this.#syncHit) {
      this.#syncHit = false;
      settledHit(session, this.name);
      return result;
    }
    return trackOutcome(session, this.name, result);
  }

  /** Runs the call uncached (counted in `bypassed`), still under loop detection when the session has it. */
  #bypass(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
    reason: BypassReason,
  ): Promise<unknown> {
    this.#count('bypassed', session);
    if (session?.loop !== undefined && !session.ended) {
      return this.#gated(thisArg, args, undefined, undefined, session, depth, reason);
    }
    return this.#uncached(thisArg, args, session, depth, reason);
  }

  /** Runs the call without the cache, published as a bypass when someone listens. */
  #uncached(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
    reason: BypassReason,
    key?: string,
  ): Promise<unknown> {
    if (!observed(bypassChannel)) return this.#execute(thisArg, args, session, depth);
    return observeBypass(() => this.#execute(thisArg, args, session, depth), this.name, key, session, reason);
  }

  /** A trace recorder runs: the call is recorded as one trace line (see recordTrace). */
  #recorded(thisArg: unknown, args: unknown[]): Promise<unknown> {
    return recordCall(
      {
        tool: this.name,
        kind: 'read',
        scope: this.#spec.scope,
        thisArg,
        args,
        resources: this.#spec.resources,
        key: this.#spec.key,
      },
      () => this.call(thisArg, args),
    );
  }

  /** An invalidation of this call's entry is pending: it runs uncached, counted in `bypassed` (it is past loop
   * detection already). */
  #heldBack(
    thisArg: unknown,
    args: unknown[],
    key: string,
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    this.#count('bypassed', session);
    return this.#uncached(thisArg, args, session, depth, 'pending-invalidation', key);
  }

  /** Runs the function, its failures counted in `errors`. */
  #execute(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    return this.#start(thisArg, args, session, depth).catch((error: unknown) => {
      this.#count('errors', session);
      throw error;
    });
  }

  /** Runs the function (inside a loop-detecting session, one level deeper in the async context); the caller counts
   * a failure. */
  #start(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    depth: number,
  ): Promise<unknown> {
    try {
      const value =
        session?.loop === undefined
          ? this.#fn.apply(thisArg, args)
          : contextStorage.run({ session, depth: depth + 1 }, () => this.#fn.apply(thisArg, args));
      return Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** #tagsFor, or undefined when the resource function throws (the miss path reports it). */
  #tagsOrUndefined(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
  ): readonly string[] | undefined {
    try {
      return this.#tagsFor(thisArg, args, session);
    } catch {
      return undefined;
    }
  }

  #tagsFor(thisArg: unknown, args: unknown[], session: AgentCacheSession | undefined): readonly string[] {
    const names = this.#spec.resources(thisArg, args);
    const ns = this.#namespace;
    const keyPart = this.#spec.scope === 'session' ? session!.keyPart : '';
    // Fixed resources give the same names every time: the same (frozen) tags, which backends may share.
    const last = this.#lastTags;
    if (last !== undefined && last.names === names && last.namespace === ns && last.keyPart === keyPart)
      return last.tags;
    const tags = [this.#toolTag];
    for (const r of names) tags.push(resourceTag(ns, r));
    if (keyPart !== '') for (const r of names) tags.push(sessionResourceTag(ns, keyPart, r));
    Object.freeze(tags);
    this.#lastTags = { names, namespace: ns, keyPart, tags };
    return tags;
  }

  #count(
    counter: 'hits' | 'misses' | 'coalesced' | 'bypassed' | 'errors' | 'backendErrors',
    session?: AgentCacheSession,
  ): void {
    this.#counters[counter]++;
    if (session !== undefined) session.metrics.tool(this.name)[counter]++;
  }

  /**
   * A framework's per-call object (a tool-call id, a run context) in the key material makes every call miss; warn
   * once. Runs on misses only, a bounded number of times, and recomputes the material rather than keeping it.
   */
  #checkCallContext(
    thisArg: unknown,
    args: unknown[],
    session: AgentCacheSession | undefined,
    uncached: boolean,
  ): boolean {
    this.#contextChecks--;
    let material: unknown;
    try {
      material = this.#spec.key === undefined ? args : this.#spec.key.apply(thisArg, args);
    } catch {
      return false;
    }
    const kind = findCallContext(material);
    if (kind === undefined) return false;
    this.#contextChecks = 0;
    if (uncached) this.#warnedBypass = true;
    (session?.logger ?? getDefaults().logger).warn(describeCallContext(this.name, kind, uncached));
    return true;
  }

  #uncount(counter: 'hits' | 'coalesced', session?: AgentCacheSession): void {
    this.#counters[counter]--;
    if (session !== undefined) session.metrics.tool(this.name)[counter]--;
  }

  #warnBypass(error: unknown, session: AgentCacheSession | undefined): void {
    if (this.#warnedBypass) return;
    this.#warnedBypass = true;
    (session?.logger ?? getDefaults().logger).warn(
      `agent-cache: ${this.name} runs uncached for arguments with no canonical form (${(error as Error)?.message ?? String(error)}); warned once per tool`,
    );
  }

  #warnNoSession(): void {
    if (this.#warnedNoSession) return;
    this.#warnedNoSession = true;
    getDefaults().logger.warn(
      `agent-cache: ${this.name} is session-scoped but was called outside any AgentCacheSession; such calls run uncached (warned once per tool)`,
    );
  }

  #backendFailed(
    error: unknown,
    session: AgentCacheSession | undefined,
    key: string | undefined,
    operation: BackendErrorMessage['operation'],
  ): void {
    this.#count('backendErrors', session);
    publishBackendError(this.name, key, session?.sessionId, operation, error);
    if (this.#warnedBackend) return;
    this.#warnedBackend = true;
    (session?.logger ?? getDefaults().logger).error(
      `agent-cache: backend failed for ${this.name}; calls run uncached while it fails (warned once per tool)`,
      error,
    );
  }
}

/** The `started` of a hit answered synchronously: published with a duration of 0. */
const SYNC = Number.POSITIVE_INFINITY;

/** How many misses of a tool are looked at for per-call objects: a framework passes one on every call. */
const CONTEXT_CHECKS = 64;

/** A backend entry that carries its key (what backends with `current` return), or undefined. */
type KeyedEntry = BackendEntry & { readonly key: string };

function keyed(entry: BackendEntry | undefined): KeyedEntry | undefined {
  return typeof (entry as Partial<KeyedEntry> | undefined)?.key === 'string'
    ? (entry as KeyedEntry)
    : undefined;
}

function sameGenerations(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The stored value for the call, fresh or expired, else undefined; the tool does not run. */
async function shortCircuit(key: string | undefined, backend: Backend | undefined): Promise<unknown> {
  if (key === undefined || backend === undefined) return undefined;
  try {
    return (await backend.get(key, { stale: true }))?.value;
  } catch {
    return undefined;
  }
}
