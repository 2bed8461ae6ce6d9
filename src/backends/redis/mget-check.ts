/**
 * The one-MGET hit (see RedisBackend): the entry and the current generations of the tags this process expects it to
 * have come back together from one atomic command, and are compared here.
 */
export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `reply` is [entry, floor, gen of tag 0, gen of tag 1, ...] from one MGET. A tag without a key, or whose key holds
 * less than the floor, is at the floor (see scripts.ts).
 */
export function currentGenerations(recorded: readonly number[], reply: readonly (Buffer | null)[]): boolean {
  const floorBytes = reply[1];
  if (floorBytes === null || floorBytes === undefined) return false;
  const floor = Number(floorBytes.toString());
  for (let i = 0; i < recorded.length; i++) {
    const bytes = reply[i + 2];
    const stored = bytes === null || bytes === undefined ? -1 : Number(bytes.toString());
    if (Math.max(stored, floor) !== recorded[i]) return false;
  }
  return true;
}
