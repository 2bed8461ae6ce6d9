/** Tokens a model call consumed, as far as its response says. */
export interface TokenUsage {
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
}

/** Where responses keep their usage, most complete first (AI SDK results keep the sum of every step in totalUsage). */
const USAGE_FIELDS = ['totalUsage', 'usage', 'usage_metadata', 'usageMetadata'] as const;

/**
 * The token usage a response (or a usage object) reports, in any of the common shapes:
 * - AI SDK results and OpenAI Agents: `{ inputTokens, outputTokens }`;
 * - AI SDK provider results (LanguageModelV4 and V3): `{ inputTokens: { total }, outputTokens: { total } }`;
 * - OpenAI Chat Completions: `{ prompt_tokens, completion_tokens }`;
 * - Anthropic, OpenAI Responses, LangChain `usage_metadata`: `{ input_tokens, output_tokens }` (Anthropic's
 *   `cache_creation_input_tokens` and `cache_read_input_tokens` are added to the input: a repeated request reads
 *   them all again);
 * - Gemini: `{ promptTokenCount, candidatesTokenCount }`.
 * The usage may sit on the value itself or in its `totalUsage`, `usage`, `usage_metadata` or `usageMetadata`
 * field. Undefined when none is recognised.
 */
export function tokenUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  for (const field of USAGE_FIELDS) {
    const inner = record[field];
    if (typeof inner === 'object' && inner !== null) {
      const found = usageShape(inner as Record<string, unknown>);
      if (found !== undefined) return found;
    }
  }
  return usageShape(record);
}

function usageShape(u: Record<string, unknown>): TokenUsage | undefined {
  if ('inputTokens' in u || 'outputTokens' in u) {
    return pair(totalOf(u.inputTokens), totalOf(u.outputTokens));
  }
  if ('prompt_tokens' in u || 'completion_tokens' in u)
    return pair(count(u.prompt_tokens), count(u.completion_tokens));
  if ('input_tokens' in u || 'output_tokens' in u) {
    const input = count(u.input_tokens);
    const cached = (count(u.cache_creation_input_tokens) ?? 0) + (count(u.cache_read_input_tokens) ?? 0);
    return pair(
      input === undefined && cached === 0 ? undefined : (input ?? 0) + cached,
      count(u.output_tokens),
    );
  }
  if ('promptTokenCount' in u || 'candidatesTokenCount' in u) {
    return pair(count(u.promptTokenCount), count(u.candidatesTokenCount));
  }
  return undefined;
}

/** A number of tokens, or a provider-level `{ total }`. */
function totalOf(v: unknown): number | undefined {
  if (typeof v === 'object' && v !== null) return count((v as { total?: unknown }).total);
  return count(v);
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function pair(inputTokens: number | undefined, outputTokens: number | undefined): TokenUsage | undefined {
  return inputTokens === undefined && outputTokens === undefined ? undefined : { inputTokens, outputTokens };
}
