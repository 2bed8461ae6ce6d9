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
}

export interface Metrics extends CounterValues {
  /** hits / (hits + misses), 0 when there were none. */
  hitRate: number;
}

export interface MetricsSnapshot extends Metrics {
  /** The same counters per tool name. */
  tools: Record<string, Metrics>;
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

  /** The counters of one tool; the same object for the life of the recorder (resets zero it in place). */
  tool(name: string): Counters {
    const known = this.#tools.get(name);
    if (known) return known;
    const counters = new Counters();
    this.#tools.set(name, counters);
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
    return { ...withHitRate(total), tools };
  }

  reset(): void {
    this.untooled.reset();
    for (const counters of this.#tools.values()) counters.reset();
  }
}
