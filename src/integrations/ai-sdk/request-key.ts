import { cacheKey } from '../../llm/cache-key.js';
import type { CallOptions, LanguageModel } from './types.js';

export type CallKind = 'generate' | 'stream';

/** The `providerOptions` namespace the middleware reads its per-call settings from (never key material). */
export const OPTIONS_NAMESPACE = 'agentCache';

/**
 * The response-cache key of one model call: `cacheKey` over the call options (prompt, tools, tool choice,
 * settings, provider options) and the model's provider and id, without the abort signal and headers (transport,
 * not request), the middleware's own `providerOptions.agentCache`, and the `exclude` paths (relative to the call
 * options: `'providerOptions.openai.user'`). Generate and stream calls are kept apart: one stores a result, the
 * other the stream's parts. Throws `NotCanonicalisableError` for a call that has no canonical form.
 */
export function requestKey(
  kind: CallKind,
  model: LanguageModel,
  params: CallOptions,
  exclude: readonly string[],
): string {
  const { abortSignal: _signal, headers: _headers, ...call } = params;
  return cacheKey({ sdk: 'ai', kind, provider: model.provider, modelId: model.modelId, call }, { exclude });
}

/** The exclude paths of `requestKey`, from the user's (relative to the call options). */
export function keyExcludes(exclude: readonly string[]): string[] {
  return [`call.providerOptions.${OPTIONS_NAMESPACE}`, ...exclude.map((path) => `call.${path}`)];
}
