/**
 * How to recognise what a function tool returns when it failed: the SDK's default `errorFunction` turns a thrown
 * error into a fixed model-visible text, which must never be stored as the tool's result. The text is learned
 * from the installed SDK itself (a probe tool that throws, invoked once), so it follows the SDK's wording; should
 * that text ever include the error, everything before the error's message is matched.
 */
const SENTINEL = 'agent-cache probe failure 4f1c';
/** The SDK's wording at the versions this adapter was written against, used when the probe cannot run. */
const KNOWN = 'An error occurred while running the tool. Please try again.';

export type FailureText = (result: unknown) => boolean;

let learned: FailureText | undefined;
let learning: Promise<FailureText> | undefined;

/** The matcher, once learned (synchronous on every call after the first). */
export function failureTextNow(): FailureText | undefined {
  return learned;
}

export function failureText(): Promise<FailureText> {
  learning ??= probe().then((matcher) => {
    learned = matcher;
    return matcher;
  });
  return learning;
}

async function probe(): Promise<FailureText> {
  try {
    const sdk = await import('@openai/agents');
    const probeTool = sdk.tool({
      name: 'agent_cache_probe',
      description: 'probe',
      parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
      strict: true,
      execute: () => {
        // plain Error on purpose: the probe tool fails as a user's tool would, and the SDK catches it
        throw new Error(SENTINEL);
      },
    });
    const text = await probeTool.invoke(new sdk.RunContext(), '{}');
    if (typeof text === 'string' && text !== '') return matcherFor(text);
  } catch {
    // The probe could not run: fall back to the known wording.
  }
  return matcherFor(KNOWN);
}

/** The matcher for a failure text learned from the probe (exported for its tests). */
export function matcherFor(text: string): FailureText {
  const at = text.indexOf(SENTINEL);
  if (at === -1) return (result) => result === text;
  // What precedes the message, without the error's own name (`Error: `), which differs from error to error.
  const prefix = text.slice(0, at).replace(/(?:\w*Error: )+$/, '');
  return (result) => typeof result === 'string' && result.startsWith(prefix);
}
