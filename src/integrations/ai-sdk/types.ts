import type { LanguageModelMiddleware } from 'ai';

/*
 * The language-model types of the AI SDK, derived from the `LanguageModelMiddleware` that `ai` exports, so this
 * entry point's types depend on the `ai` package a user installed and on nothing else.
 */
type WrapStreamOptions = Parameters<NonNullable<LanguageModelMiddleware['wrapStream']>>[0];

/** The options of one model call (`LanguageModelV4CallOptions`). */
export type CallOptions = WrapStreamOptions['params'];
/** The wrapped model (`LanguageModelV4`). */
export type LanguageModel = WrapStreamOptions['model'];
/** What `doGenerate` resolves to (`LanguageModelV4GenerateResult`). */
export type GenerateResult = Awaited<ReturnType<WrapStreamOptions['doGenerate']>>;
/** What `doStream` resolves to (`LanguageModelV4StreamResult`). */
export type StreamResult = Awaited<ReturnType<WrapStreamOptions['doStream']>>;
/** One part of a model stream (`LanguageModelV4StreamPart`). */
export type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
/** Provider metadata of a result or a finish part. */
export type ProviderMetadata = NonNullable<GenerateResult['providerMetadata']>;
