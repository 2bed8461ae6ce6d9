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
    let probe = false;
    if (this.#openUntil !== 0) {
      if (this.#probing || Date.now() < this.#openUntil)
        return Promise.reject(new RedisUnavailableError('Redis circuit is open'));
      this.#probing = probe = true;
    }
    let pending: Promise<T>;
    try {
      pending = command();
    } catch (error) {
      pending = Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const watch = this.#watchdog.watch(() => {
        this.#failed(probe);
        reject(new RedisUnavailableError(`Redis did not answer within ${this.#options.timeout} ms`));
      });
      pending.then(
        (value) => {
          if (watch.done) return; // timed out already: reported as a failure, whatever came later
          watch.done = true;
          if (probe) this.#probing = false;
          this.#failures = 0;
          this.#openUntil = 0;
          resolve(value);
        },
        (error: unknown) => {
          if (watch.done) return;
          watch.done = true;
          this.#failed(probe);
          reject(redisFailure(error));
        },
      );
    });
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

  #failed(probe: boolean): void {
    if (probe) this.#probing = false;
    if (++this.#failures >= this.#options.threshold || probe) {
      this.#openUntil = Date.now() + this.#options.cooldown;
    }
  }
}

interface Watch {
  readonly epoch: number;
  done: boolean;
  readonly onTimeout: () => void;
}

/** Ticks of the watchdog per timeout: a command times out between `timeout` and `timeout` × (1 + 1/STEPS). */
const STEPS = 8;

/**
 * Bounds every command in time with one timer for all of them: a timer per command (and a clock read) costs more
 * than a hit on some machines. While commands are outstanding the timer ticks every `timeout / STEPS` ms; a command
 * still unanswered STEPS + 1 ticks after it was sent has waited at least `timeout` and is failed.
 */
class Watchdog {
  readonly #step: number;
  #epoch = 0;
  #queue: Watch[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeout: number) {
    this.#step = timeout / STEPS;
  }

  watch(onTimeout: () => void): Watch {
    const watch: Watch = { epoch: this.#epoch, done: false, onTimeout };
    this.#queue.push(watch);
    if (this.#timer === undefined) this.#arm();
    return watch;
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, this.#step);
    // Never what keeps a process alive: the connection a command waits on does that while it matters.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const epoch = ++this.#epoch;
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const watch = queue[this.#head]!;
      if (!watch.done) {
        if (epoch - watch.epoch <= STEPS) break;
        watch.done = true;
        watch.onTimeout();
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else {
      if (this.#head > 1024) {
        this.#queue = queue.slice(this.#head);
        this.#head = 0;
      }
      this.#arm();
    }
  };
}
