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
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
  }

  get open(): boolean {
    return this.#openUntil !== 0;
  }

  async run<T>(command: () => Promise<T>): Promise<T> {
    let probe = false;
    if (this.#openUntil !== 0) {
      if (this.#probing || Date.now() < this.#openUntil)
        throw new RedisUnavailableError('Redis circuit is open');
      this.#probing = probe = true;
    }
    try {
      const result = await withTimeout(command(), this.#options.timeout);
      this.#failures = 0;
      this.#openUntil = 0;
      return result;
    } catch (error) {
      if (++this.#failures >= this.#options.threshold || probe) {
        this.#openUntil = Date.now() + this.#options.cooldown;
      }
      throw error;
    } finally {
      if (probe) this.#probing = false;
    }
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new RedisUnavailableError(`Redis command timed out after ${ms} ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
