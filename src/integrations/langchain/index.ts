export { AgentCacheLangChainCache, type AgentCacheLangChainCacheOptions } from './cache.js';
export {
  cacheLangChainTool,
  type LangChainToolInput,
  type LangChainToolOutput,
  type LangChainToolSpec,
} from './cache-tool.js';
