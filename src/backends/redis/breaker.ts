import { AgentCacheError } from '../../errors.js';

/** Raised instead of sending a command while the circuit is open or the connection is down. */
export class RedisUnavailableError extends AgentCacheError {
  constructor(message: string) {
    super('E_BACKEND_UNAVAILABLE', message);
  }
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
          reject(error);
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
