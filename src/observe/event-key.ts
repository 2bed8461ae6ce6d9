import { sha256Base64Url } from '../key/hash.js';

const MAX_REMEMBERED = 4_096;
const remembered = new Map<string, string>();

/**
 * The short, stable name of a cache key in events: 16 base64url characters of its SHA-256 (96 bits). Keys may
 * hold short arguments verbatim, so events never carry the key itself. Recent keys are remembered (keys come from
 * the key memo as the same string objects, so a repeated lookup is cheap); the memo is only used while someone
 * listens.
 */
export function eventKey(key: string): string {
  const known = remembered.get(key);
  if (known !== undefined) return known;
  const short = sha256Base64Url(key).slice(0, 16);
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  remembered.set(key, short);
  return short;
}
