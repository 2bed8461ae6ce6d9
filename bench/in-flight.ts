/**
 * Concurrency for the Redis benches: one contender call runs `lanes` concurrent lanes of `perLane` sequential
 * operations, over indexes that move on every round and wrap at `keys` (so each round touches other keys).
 */
export interface InFlight {
  readonly lanes: number;
  readonly perLane: number;
  readonly keys: number;
}

export function inFlight(
  op: (i: number) => Promise<unknown>,
  { lanes, perLane, keys }: InFlight,
): (round: number) => Promise<void> {
  return async (round) => {
    const base = round * lanes * perLane;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let j = 0; j < perLane; j++) await op((base + lane * perLane + j) % keys);
      }),
    );
  };
}
