export type { Backend, BackendEntry, BackendGetOptions, MaybePromise } from './backends/contract.js';
export { NotACacheError } from './backends/disk/errors.js';
export { BackendBusyError } from './backends/disk/write-queue.js';
export { DiskBackend, type DiskBackendOptions } from './backends/disk.js';
export type { EntryInfo, EntryKind, InspectableBackend, InspectOptions } from './backends/inspection.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.js';
export { type Serializer, v8Serializer } from './backends/serializer.js';
export { type ConfigureOptions, configure } from './config.js';
export {
  AgentCacheError,
  type AgentCacheErrorCode,
  AgentCacheTypeError,
  BackendClosedError,
  BackendFailedError,
  MissingPeerDependencyError,
  UnsupportedRuntimeError,
} from './errors.js';
export { canonicalEncode, NotCanonicalisableError } from './key/index.js';
export * from './llm/index.js';
export type { Logger } from './logger.js';
export { AgentLoopDetectedError } from './loop/errors.js';
export type { LoopDetection, LoopKind, LoopMode } from './loop/types.js';
export type { CounterValues, Metrics, MetricsSnapshot, ResponseMetrics } from './metrics/counters.js';
export { getMetrics, resetMetrics } from './metrics/global.js';
export {
  type AgentCacheEventName,
  type AgentCacheEvents,
  type BackendErrorMessage,
  type BypassMessage,
  type BypassReason,
  channelNames,
  type HitMessage,
  type InvalidateMessage,
  type LoopMessage,
  type MissMessage,
  type PrefixBreakMessage,
  type ResponseEventMessage,
  type ResponseHitMessage,
  type ResponseMissMessage,
  subscribeAgentCache,
  type ToolEventMessage,
} from './observe/channels.js';
export {
  type RecordTraceOptions,
  recordTrace,
  type TraceDestination,
  type TraceLine,
  type TraceRecorder,
} from './observe/record-trace.js';
export { AgentCacheSessionEndedError } from './session/errors.js';
export type { AgentCacheSessionOptions, OnLoop } from './session/options.js';
export { AgentCacheSession } from './session/session.js';
export { AgentCache } from './tool/agent-cache.js';
export { AgentCacheInvalidator } from './tool/agent-cache-invalidator.js';
export { InvalidationUnrecordedError } from './tool/errors.js';
export { invalidateResource } from './tool/invalidate.js';
export type {
  AgentCacheInvalidatorOptions,
  AgentCacheOptions,
  ResourceOption,
  Scope,
  Strict,
} from './tool/options.js';
export {
  type FlushInvalidationsOptions,
  flushInvalidations,
  type PendingInvalidations,
  pendingInvalidations,
} from './tool/pending.js';
export type { Ttl } from './tool/ttl.js';
export type {
  CachedTool,
  InvalidatingTool,
  ReadToolWrapper,
  WriteToolWrapper,
} from './tool/wrap.js';
