export { type CacheKeyOptions, cacheKey } from './cache-key.js';
export { PromptPrefixViolationError } from './errors.js';
export { type OnViolation, PromptCacheGuard, type PromptCacheGuardOptions } from './guard.js';
export { CacheLayoutEvent, type LayoutInput } from './layout-event.js';
export { type LintFinding, type LintKind, lintStablePrefix } from './lint.js';
export { type CachePolicy, defaultCachePolicy } from './policy.js';
export { PromptCacheLayout, type PromptSegment } from './prompt-layout.js';
export {
  BackendResponseCache,
  type BackendResponseCacheOptions,
  InMemoryResponseCache,
  type InMemoryResponseCacheOptions,
  type ResponseCache,
} from './response-cache.js';
export { type ChatRequestLike, type SegmentsFromMessagesOptions, segmentsFromMessages } from './segments.js';
export {
  type ModelCall,
  type ResponseCacheEvent,
  type WithResponseCacheOptions,
  withResponseCache,
} from './with-response-cache.js';
