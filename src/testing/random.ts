/**
 * A small seeded pseudo-random source (mulberry32), so the backend contract suite's random operation sequences need
 * no property-testing library and a failure can be replayed from its seed.
 */
export interface Random {
  /** A whole number in [0, n). */
  below(n: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
  /** Up to `max` distinct items of `items`, in their order. */
  subset<T>(items: readonly T[], max: number): T[];
}

export function seededRandom(seed: number): Random {
  let state = seed | 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const below = (n: number): number => Math.floor(next() * n);
  return {
    below,
    pick: (items) => items[below(items.length)]!,
    subset: (items, max) => {
      const out = items.filter(() => next() < 0.5);
      while (out.length > max) out.splice(below(out.length), 1);
      return out;
    },
  };
}
