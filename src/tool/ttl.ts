import { AgentCacheTypeError } from '../errors.js';
/** A lifetime: milliseconds, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Ttl = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const TTL_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds of a ttl option, or undefined for "no expiry". A bad value is a TypeError naming `option`. */
export function parseTtl(ttl: unknown, owner: string, option = 'ttl'): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl === 'number') {
    if (Number.isNaN(ttl) || ttl < 0) {
      throw new AgentCacheTypeError(
        `${owner}: option \`${option}\` must be a non-negative number of ms, got ${ttl}`,
      );
    }
    return ttl === Number.POSITIVE_INFINITY ? undefined : ttl;
  }
  if (typeof ttl === 'string') {
    const match = TTL_PATTERN.exec(ttl.trim());
    if (match) return Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  throw new AgentCacheTypeError(
    `${owner}: option \`${option}\` must be a number of ms or a duration like '500ms', '30s', '5m', '1h', '1d'; got ${JSON.stringify(ttl) ?? String(ttl)}`,
  );
}
