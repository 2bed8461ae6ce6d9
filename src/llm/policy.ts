/**
 * Two independent switches, both off by default so that nothing is cached or enforced unless asked for
 * (the same default as the Rust harness this layer ports).
 */
export interface CachePolicy {
  /** Answer identical requests from the response cache. */
  readonly responseCacheEnabled: boolean;
  /** A change of the provider-cached prompt prefix is a violation (raised or warned by PromptCacheGuard). */
  readonly protectPromptPrefix: boolean;
}

export const defaultCachePolicy: CachePolicy = Object.freeze({
  responseCacheEnabled: false,
  protectPromptPrefix: false,
});

/** The `cachePolicy` field a request may carry; each flag it sets overrides the wrapper's policy. */
export function requestPolicy(request: unknown): Partial<CachePolicy> | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const policy = (request as { cachePolicy?: unknown }).cachePolicy;
  return typeof policy === 'object' && policy !== null ? (policy as Partial<CachePolicy>) : undefined;
}

/**
 * Whether the response cache applies to `request`: the request's own `cachePolicy` first, then the wrapper's
 * `policy`, and with neither, enabled (a cache was attached, which is the user asking for caching).
 */
export function responseCacheEnabled(request: unknown, policy: Partial<CachePolicy> | undefined): boolean {
  const own = requestPolicy(request)?.responseCacheEnabled;
  if (typeof own === 'boolean') return own;
  const wrapper = policy?.responseCacheEnabled;
  return typeof wrapper === 'boolean' ? wrapper : true;
}
