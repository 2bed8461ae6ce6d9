/**
 * agent-cache for the Vercel AI SDK (`ai` ^7, an optional peer dependency): `cacheTools`, which caches and
 * invalidates the tools of a toolset by their input.
 */

export type { ReadToolSpec, ResourcesOf, ToolSpec, WriteToolSpec } from '../tool-spec.js';
export { type CacheToolsSpec, cacheTools } from './cache-tools.js';
