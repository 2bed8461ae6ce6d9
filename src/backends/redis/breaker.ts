import { AgentCacheError, BackendFailedError } from '../../errors.js';

/**
 * Raised instead of sending a command while the circuit is open or the connection is down, and for a command that
 * failed because Redis could not serve it (no answer within the timeout, a lost connection); `cause` is ioredis's
 * error when there is one.
 */
export class RedisUnavailableError extends AgentCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BACKEND_UNAVAILABLE', message, options);
  }
}

/**
 * What a failed command rejects with: agent-cache's own errors as they are; an error reply from Redis (ioredis's
 * `ReplyError`: OOM, READONLY, WRONGTYPE...) as a BackendFailedError; any other ioredis error (a connection that
 * closed, a stream that is not writable) as a RedisUnavailableError. Each keeps ioredis's error as `cause`.
 */
export function redisFailure(error: unknown): AgentCacheError {
  if (AgentCacheError.isInstance(error)) return error as AgentCacheError;
  if ((error as { name?: unknown } | null)?.name === 'ReplyError')
    return new BackendFailedError('Redis', error);
  const message = error instanceof Error ? error.message : String(error);
  return new RedisUnavailableError(`Redis: ${message}`, { cause: error });
}

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly threshold: number;
  /** How long the circuit stays open before one probe call is let through, in ms. */
  readonly cooldown: number;
  /** Bound on every command, in ms. */
  readonly timeout: number;
}

/**
 * Fail fast when Redis is in trouble. Every command is bounded by a timeout; after `threshold` consecutive failures
 * the circuit opens and calls fail at once (the core then runs the tool uncached) instead of each waiting for its
 * own timeout; after `cooldown` one probe is let through, and its success closes the circuit again.
 */
export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #watchdog: Watchdog;
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#watchdog = new Watchdog(options.timeout);
  }

  get open(): boolean {
    return this.#openUntil !== 0;
  }

  run<T>(command: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.runInto(command, { answer: resolve, fail: reject }));
  }

  /** run(), handing the outcome to `sink` rather than to a promise (one promise fewer per command). */
  runInto<T>(command: () => Promise<T>, sink: Sink<T>): void {
    let probe = false;
    if (this.#openUntil !== 0) {
      if (this.#probing || Date.now() < this.#openUntil) {
        sink.fail(new RedisUnavailableError('Redis circuit is open'));
        return;
      }
      this.#probing = probe = true;
    }
    let pending: Promise<T>;
    try {
      pending = command();
    } catch (error) {
      pending = Promise.reject(error);
    }
    const watch = new Watch<T>(this, probe, sink);
    this.#watchdog.watch(watch as Watch<unknown>);
    pending.then(
      (value) => watch.succeeded(value),
      (error: unknown) => watch.failed(error),
    );
  }

  /** A watched command answered in time. */
  succeeded(probe: boolean): void {
    if (probe) this.#probing = false;
    this.#failures = 0;
    this.#openUntil = 0;
  }

  /** A watched command failed, or did not answer in time. */
  failed(probe: boolean): void {
    if (probe) this.#probing = false;
    if (++this.#failures >= this.#options.threshold || probe) {
      this.#openUntil = Date.now() + this.#options.cooldown;
    }
  }

  get timeout(): number {
    return this.#options.timeout;
  }

  /** Counts a failure detected without sending anything (the connection is known to be down). */
  fail(reason: string): never {
    if (++this.#failures >= this.#options.threshold && this.#openUntil === 0) {
      this.#openUntil = Date.now() + this.#options.cooldown;
    }
    throw new RedisUnavailableError(reason);
  }

  /** The connection came back: let calls through again. */
  reset(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }
}

/** Where a watched command's outcome goes. */
export interface Sink<T> {
  answer(value: T): void;
  fail(error: unknown): void;
}

/**
 * One command under watch: hands its sink the command's answer, or a timeout failure when the watchdog gives up on
 * it first (whatever comes later is then ignored). A settled watch leaves the watchdog at once, so nothing of a
 * command is kept until the next tick.
 */
class Watch<T> {
  readonly #breaker: CircuitBreaker;
  readonly #probe: boolean;
  readonly #sink: Sink<T>;
  /** Watchdog tick at which it was sent. */
  epoch = 0;
  done = false;
  /** Its neighbours in the watchdog's list of commands in flight (oldest first). */
  prev: Watch<unknown> | undefined = undefined;
  next: Watch<unknown> | undefined = undefined;
  owner: Watchdog | undefined = undefined;

  constructor(breaker: CircuitBreaker, probe: boolean, sink: Sink<T>) {
    this.#breaker = breaker;
    this.#probe = probe;
    this.#sink = sink;
  }

  succeeded(value: T): void {
    if (this.done) return; // timed out already: reported as a failure, whatever came later
    this.#settle();
    this.#breaker.succeeded(this.#probe);
    this.#sink.answer(value);
  }

  failed(error: unknown): void {
    if (this.done) return;
    this.#settle();
    this.#breaker.failed(this.#probe);
    this.#sink.fail(redisFailure(error));
  }

  timedOut(): void {
    this.done = true;
    this.#breaker.failed(this.#probe);
    this.#sink.fail(new RedisUnavailableError(`Redis did not answer within ${this.#breaker.timeout} ms`));
  }

  #settle(): void {
    this.done = true;
    this.owner?.remove(this as Watch<unknown>);
  }
}

/** Ticks of the watchdog per timeout: a command times out between `timeout` and `timeout` × (1 + 1/STEPS). */
const STEPS = 8;

/**
 * Bounds every command in time with one timer for all of them: a timer per command (and a clock read) costs more
 * than a hit on some machines. While commands are outstanding the timer ticks every `timeout / STEPS` ms; a command
 * still unanswered STEPS + 1 ticks after it was sent has waited at least `timeout` and is failed. The commands in
 * flight are a linked list in the order they were sent; one that is answered unlinks itself.
 */
class Watchdog {
  readonly #step: number;
  #epoch = 0;
  #oldest: Watch<unknown> | undefined;
  #newest: Watch<unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeout: number) {
    this.#step = timeout / STEPS;
  }

  watch(watch: Watch<unknown>): void {
    watch.epoch = this.#epoch;
    watch.owner = this;
    const newest = this.#newest;
    watch.prev = newest;
    if (newest === undefined) this.#oldest = watch;
    else newest.next = watch;
    this.#newest = watch;
    if (this.#timer === undefined) this.#arm();
  }

  remove(watch: Watch<unknown>): void {
    const { prev, next } = watch;
    if (prev === undefined) this.#oldest = next;
    else prev.next = next;
    if (next === undefined) this.#newest = prev;
    else next.prev = prev;
    watch.prev = watch.next = watch.owner = undefined;
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, this.#step);
    // Never what keeps a process alive: the connection a command waits on does that while it matters.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const epoch = ++this.#epoch;
    for (let watch = this.#oldest; watch !== undefined; watch = this.#oldest) {
      if (epoch - watch.epoch <= STEPS) break;
      this.remove(watch);
      watch.timedOut();
    }
    if (this.#oldest !== undefined) this.#arm();
  };
}
