import type { GenerateResult, ProviderMetadata, StreamPart } from './types.js';

/** What the middleware stores for one model call. */
export type RecordedResponse =
  | { readonly kind: 'generate'; readonly result: GenerateResult }
  | { readonly kind: 'stream'; readonly parts: readonly StreamPart[] };

/** Finish reasons of an incomplete or failed answer: such a response is returned, never stored. */
const UNFINISHED = new Set(['error', 'interrupted']);

export function finishedNormally(finishReason: { readonly unified?: unknown } | undefined): boolean {
  return finishReason !== undefined && !UNFINISHED.has(finishReason.unified as string);
}

/**
 * The part of a generate result worth replaying. The request that was sent (already the key) and the raw HTTP
 * response body and headers of that one request are left out: they are large, and stale for a later caller.
 */
export function recordGenerate(result: GenerateResult): RecordedResponse {
  const { request: _request, response, ...rest } = result;
  // Its own copies of the parts: the caller that got the result may change it without touching the cache.
  const recorded = { ...rest, content: rest.content.map((part) => ({ ...part })) };
  if (response === undefined) return { kind: 'generate', result: recorded };
  const { body: _body, headers: _headers, ...metadata } = response;
  return { kind: 'generate', result: { ...recorded, response: metadata } };
}

/** A stream's parts as stored: copies, so the caller that read them may change them without touching the cache. */
export function recordStream(parts: readonly StreamPart[]): RecordedResponse {
  return { kind: 'stream', parts: parts.map((part) => ({ ...part })) };
}

/** The hit marker every answer from the cache carries in `providerMetadata.agentCache`. */
export function hitMetadata(metadata: ProviderMetadata | undefined, key: string): ProviderMetadata {
  return { ...metadata, agentCache: { hit: true, key } };
}

/**
 * A stored generate result as a hit: fresh arrays and objects (a caller may edit what it gets without touching
 * the cache), marked in `providerMetadata.agentCache`. A timestamp that went through a JSON store comes back as a
 * `Date`.
 */
export function generateHit(result: GenerateResult, key: string): GenerateResult {
  const response = result.response;
  return {
    ...result,
    content: result.content.map((part) => ({ ...part })),
    // A cache of the user's own (JSON in Redis, say) may have dropped an empty list.
    warnings: Array.isArray(result.warnings) ? result.warnings.map((warning) => ({ ...warning })) : [],
    providerMetadata: hitMetadata(result.providerMetadata, key),
    ...(response === undefined ? {} : { response: { ...response, timestamp: asDate(response.timestamp) } }),
  };
}

/** A stored stream's parts as a hit: copies, with the hit marker on the finish part. */
export function streamHit(parts: readonly StreamPart[], key: string): StreamPart[] {
  return parts.map((part) => marked(part, key));
}

export function marked(part: StreamPart, key: string): StreamPart {
  if (part.type === 'finish') return { ...part, providerMetadata: hitMetadata(part.providerMetadata, key) };
  if (part.type === 'response-metadata') return { ...part, timestamp: asDate(part.timestamp) };
  return { ...part };
}

/** Whether a value read from a cache is a response this middleware stored (a foreign value is a miss). */
export function isRecorded(value: unknown, kind: RecordedResponse['kind']): value is RecordedResponse {
  if (typeof value !== 'object' || value === null) return false;
  const recorded = value as { kind?: unknown; result?: { content?: unknown }; parts?: unknown };
  if (recorded.kind !== kind) return false;
  return kind === 'generate' ? Array.isArray(recorded.result?.content) : Array.isArray(recorded.parts);
}

function asDate<T>(value: T): T | Date {
  return typeof value === 'string' || typeof value === 'number' ? new Date(value) : value;
}
