/** `agent-cache/redis`: the Redis backend. ioredis is an optional peer dependency, needed only by this entry point. */
export { RedisBackend, type RedisBackendOptions } from './backend.js';
export { RedisUnavailableError } from './breaker.js';
export type { L1Options } from './l1.js';
