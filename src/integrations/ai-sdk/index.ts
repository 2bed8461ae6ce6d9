/**
 * agent-cache for the Vercel AI SDK (`ai` ^7, an optional peer dependency): a language-model middleware that
 * answers identical model calls from a response cache (generate and stream), and `cacheTools`, which caches and
 * invalidates the tools of a toolset by their input.
 */

export type { ReadToolSpec, ResourcesOf, ToolSpec, WriteToolSpec } from '../tool-spec.js';
export { type CacheToolsSpec, cacheTools } from './cache-tools.js';
export { type AgentCacheMiddlewareOptions, agentCacheMiddleware } from './middleware.js';
export type { RecordedResponse } from './recorded.js';
