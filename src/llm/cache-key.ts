import { canonicalDigestHex } from '../key/digest.js';

export interface CacheKeyOptions {
  /**
   * Fields left out of the key: top-level names (`'metadata'`, `'user'`, `'cachePolicy'`) or dotted paths into
   * nested plain objects (`'providerOptions.openai.user'`). A path through an array or a missing field is ignored.
   */
  readonly exclude?: readonly string[];
}

/**
 * The cache key of an LLM request: SHA-256 (64 lowercase hex) of its canonical encoding (docs/keys.md), so key
 * order does not matter and types are kept. Large requests are keyed through the Merkle form of the same encoding
 * (`src/key/digest.ts`): message objects reused from one turn to the next are not re-encoded, only re-checked, and
 * the key is the same whether or not they were seen before.
 *
 * Throws `NotCanonicalisableError` (a TypeError) naming the path of a function, symbol or cycle in the request.
 */
export function cacheKey(request: unknown, options?: CacheKeyOptions): string {
  const exclude = options?.exclude;
  return canonicalDigestHex(
    exclude === undefined || exclude.length === 0 ? request : without(request, exclude),
  );
}

/** A copy of `request` without the excluded fields; only the objects along each path are copied. */
function without(request: unknown, exclude: readonly string[]): unknown {
  if (!isPlainObject(request)) return request;
  let root: Record<string, unknown> = { ...request };
  for (const path of exclude) root = removePath(root, path.split('.'));
  return root;
}

function removePath(target: Record<string, unknown>, parts: readonly string[]): Record<string, unknown> {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(target, head)) return target;
  if (rest.length === 0) {
    const copy = { ...target };
    delete copy[head];
    return copy;
  }
  const child = target[head];
  if (!isPlainObject(child)) return target;
  return { ...target, [head]: removePath(child, rest) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
