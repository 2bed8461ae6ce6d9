/** The counters kept for every tool, session and the whole process. */
export interface CounterValues {
  hits: number;
  misses: number;
  invalidations: number;
  loopDetections: number;
  coalesced: number;
  bypassed: number;
  errors: number;
  backendErrors: number;
  /**
   * Execution time (ms) that hits avoided: for each hit, the measured duration of the execution that stored the
   * entry (or, for a coalesced call, of the execution it joined).
   */
  savedMs: number;
}

export interface Metrics extends CounterValues {
  /** hits / (hits + misses), 0 when there were none. */
  hitRate: number;
}

/** Model calls through a response cache (`withResponseCache`, the AI SDK middleware). */
export interface ResponseMetrics {
  /** Requests answered from the cache (coalesced ones included). */
  hits: number;
  /** Requests that called the model. */
  misses: number;
  /** Hits that joined an identical request in flight. */
  coalesced: number;
  /** Requests the cache did not apply to (policy off, a request that cannot be keyed, a failing cache). */
  bypassed: number;
  /** hits / (hits + misses), 0 when there were none. */
  hitRate: number;
  /** Input (prompt) tokens the hits did not spend, from the usage the cached responses report. */
  savedInputTokens: number;
  /** Output (completion) tokens the hits did not spend. */
  savedOutputTokens: number;
  /** Model-call time (ms) the hits avoided: the measured duration of the call that produced each cached answer. */
  savedMs: number;
}

export interface MetricsSnapshot extends Metrics {
  /** The same counters per tool name. */
  tools: Record<string, Metrics>;
  /** The response cache's counters. */
  responses: ResponseMetrics;
}

/** Mutable response-cache counters. */
export class ResponseCounters {
  hits = 0;
  misses = 0;
  coalesced = 0;
  bypassed = 0;
  savedInputTokens = 0;
  savedOutputTokens = 0;
  savedMs = 0;

  reset(): void {
    this.hits = 0;
    this.misses = 0;
    this.coalesced = 0;
    this.bypassed = 0;
    this.savedInputTokens = 0;
    this.savedOutputTokens = 0;
    this.savedMs = 0;
  }

  toMetrics(): ResponseMetrics {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      coalesced: this.coalesced,
      bypassed: this.bypassed,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      savedInputTokens: this.savedInputTokens,
      savedOutputTokens: this.savedOutputTokens,
      savedMs: this.savedMs,
    };
  }
}

export type CounterName = keyof CounterValues;

const COUNTERS: readonly CounterName[] = [
  'hits',
  'misses',
  'invalidations',
  'loopDetections',
  'coalesced',
  'bypassed',
  'errors',
  'backendErrors',
  'savedMs',
];

/** Mutable counters (a plain class with fixed fields, so increments stay monomorphic and cheap). */
export class Counters implements CounterValues {
  hits = 0;
  misses = 0;
  invalidations = 0;
  loopDetections = 0;
  coalesced = 0;
  bypassed = 0;
  errors = 0;
  backendErrors = 0;
  savedMs = 0;

  reset(): void {
    for (const name of COUNTERS) this[name] = 0;
  }

  addTo(target: CounterValues): void {
    for (const name of COUNTERS) target[name] += this[name];
  }

  toMetrics(): Metrics {
    const out = emptyMetrics();
    this.addTo(out);
    return withHitRate(out);
  }
}

function emptyMetrics(): Metrics {
  return {
    hits: 0,
    misses: 0,
    invalidations: 0,
    loopDetections: 0,
    coalesced: 0,
    bypassed: 0,
    errors: 0,
    backendErrors: 0,
    savedMs: 0,
    hitRate: 0,
  };
}

function withHitRate(m: Metrics): Metrics {
  const lookups = m.hits + m.misses;
  m.hitRate = lookups === 0 ? 0 : m.hits / lookups;
  return m;
}

/**
 * Counters per tool; totals are summed when a snapshot is taken, so a call increments one counter per recorder.
 * Counters that belong to no tool (`invalidateResource`) go to `untooled`.
 */
export class MetricsRecorder {
  readonly #tools = new Map<string, Counters>();
  readonly untooled = new Counters();
  readonly responses = new ResponseCounters();

  /** The tool asked for last, and its counters: a session's hits mostly come from one tool at a time. */
  #lastName: string | undefined;
  #last: Counters | undefined;

  /** The counters of one tool; the same object for the life of the recorder (resets zero it in place). */
  tool(name: string): Counters {
    if (name === this.#lastName) return this.#last!;
    let counters = this.#tools.get(name);
    if (counters === undefined) {
      counters = new Counters();
      this.#tools.set(name, counters);
    }
    this.#lastName = name;
    this.#last = counters;
    return counters;
  }

  snapshot(): MetricsSnapshot {
    const total = emptyMetrics();
    const tools: Record<string, Metrics> = {};
    this.untooled.addTo(total);
    for (const [name, counters] of this.#tools) {
      counters.addTo(total);
      tools[name] = counters.toMetrics();
    }
    return { ...withHitRate(total), tools, responses: this.responses.toMetrics() };
  }

  reset(): void {
    this.untooled.reset();
    this.responses.reset();
    for (const counters of this.#tools.values()) counters.reset();
  }
}
