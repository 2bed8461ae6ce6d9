import { randomUUID } from 'node:crypto';
import type { Backend } from '../backends/contract.js';
import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import { type LogSink, toLogSink } from '../logger.js';
import { LoopDetector } from '../loop/detector.js';
import { MetricsRecorder, type MetricsSnapshot } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { publishBackendError } from '../observe/publish.js';
import { contextStorage } from './context.js';
import { AgentCacheSessionEndedError } from './errors.js';
import { type AgentCacheSessionOptions, resolveLoopOptions } from './options.js';

/**
 * One agent run: scopes session-scoped cache entries, metrics and loop detection. Everything called inside `run`
 * (across awaits, timers and parallel promises) belongs to it, through AsyncLocalStorage.
 */
export class AgentCacheSession {
  readonly sessionId: string;
  /** Key material of this session (its id, self-delimited), computed once. */
  readonly keyPart: string;
  /** Spreads this session's argument keys over the key memo of each tool (see KeyMemo). */
  readonly keySeed = (Math.random() * 0x7fffffff) | 0;
  readonly metrics = new MetricsRecorder();
  readonly loop: LoopDetector | undefined;
  readonly backend: Backend | undefined;
  readonly #logger: LogSink | undefined;
  /** Backends holding session-scoped entries or generations of this session, to clear on end(). */
  readonly #backends = new Set<Backend>();
  #ended = false;

  constructor(options: AgentCacheSessionOptions = {}) {
    if (
      options.sessionId !== undefined &&
      (typeof options.sessionId !== 'string' || options.sessionId === '')
    ) {
      throw new AgentCacheTypeError('AgentCacheSession: option `sessionId` must be a non-empty string');
    }
    const loopOptions = resolveLoopOptions(options);
    this.sessionId = options.sessionId ?? randomUUID();
    this.keyPart = `s${JSON.stringify(this.sessionId)}`;
    this.loop = options.loopDetection ? new LoopDetector(loopOptions) : undefined;
    this.backend = options.backend;
    this.#logger = options.logger === undefined ? undefined : toLogSink(options.logger, 'AgentCacheSession');
  }

  /** The session active in the current async context, if any. */
  static current(): AgentCacheSession | undefined {
    return contextStorage.getStore()?.session;
  }

  /** Creates a session, runs `fn` in it and ends it (also when `fn` throws). */
  static async run<T>(
    options: AgentCacheSessionOptions,
    fn: (session: AgentCacheSession) => T | Promise<T>,
  ): Promise<Awaited<T>> {
    const session = new AgentCacheSession(options);
    try {
      return await session.run(fn);
    } finally {
      await session.end();
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  get logger(): LogSink {
    return this.#logger ?? getDefaults().logger;
  }

  /** Runs `fn` with this session active. May be called many times (one per agent turn). */
  async run<T>(fn: (session: this) => T | Promise<T>): Promise<Awaited<T>> {
    if (this.#ended) throw new AgentCacheSessionEndedError(this.sessionId);
    const outer = contextStorage.getStore();
    const depth = outer?.session === this ? outer.depth : 0;
    return await contextStorage.run({ session: this, depth }, () => fn(this));
  }

  /** Counters of the calls made inside this session. */
  getMetrics(): MetricsSnapshot {
    return this.metrics.snapshot();
  }

  /** Records that `backend` holds something of this session. */
  track(backend: Backend): void {
    if (!this.#ended) this.#backends.add(backend);
  }

  /** Ends the session: drops its entries and loop history. Idempotent. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    if (this.logger.debugEnabled) this.#logSummary();
    this.loop?.clear();
    const backends = [...this.#backends];
    this.#backends.clear();
    await Promise.all(
      backends.map(async (backend) => {
        try {
          await backend.clearSession(this.sessionId);
        } catch (error) {
          this.metrics.untooled.backendErrors++;
          globalMetrics.untooled.backendErrors++;
          publishBackendError(undefined, undefined, this.sessionId, 'clearSession', error);
          this.logger.error(`agent-cache: could not clear session ${JSON.stringify(this.sessionId)}`, error);
        }
      }),
    );
  }

  #logSummary(): void {
    const m = this.metrics.snapshot();
    this.logger.debug(
      `agent-cache: session ${JSON.stringify(this.sessionId)} ended: ${m.hits} hits, ${m.misses} misses, ${Math.round(m.savedMs)} ms saved, ${m.loopDetections} loops`,
      {
        sessionId: this.sessionId,
        hits: m.hits,
        misses: m.misses,
        savedMs: m.savedMs,
        loopDetections: m.loopDetections,
      },
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }
}
