/**
 * agent-cache for the OpenAI Agents SDK (`@openai/agents` >= 0.20, an optional peer dependency): `cacheAgentTool`
 * caches a function tool's invocations by their input.
 */

export type { ReadToolSpec, ResourcesOf, WriteToolSpec } from '../tool-spec.js';
export { type AgentToolSpec, cacheAgentTool } from './cache-agent-tool.js';
