/**
 * What is stored for an AI SDK tool call: its output, or — for a tool whose `execute` returns an AsyncIterable
 * (preliminary results) — every value it yielded, the last being the final output (as the SDK reads it). Always
 * an envelope, so an output of any shape (`undefined` included) is told apart from a recording.
 */
export type StoredToolOutput = { readonly output: unknown } | { readonly values: readonly unknown[] };

/** The output the SDK sees for a stored call (the last value of a recording); undefined for nothing stored. */
export function finalOutput(stored: StoredToolOutput | undefined): unknown {
  if (stored === undefined) return undefined;
  if ('values' in stored) return stored.values.at(-1);
  return stored.output;
}

/**
 * Where the values of an execution go while it runs, so the caller that started it sees them as they come (a
 * caller answered from the cache, or that joined another caller's execution, gets the stored values instead).
 */
export class PreliminaryChannel {
  readonly #values: unknown[] = [];
  #wake: (() => void) | undefined;
  /** Set when an execution wrote here: this caller ran the tool. */
  used = false;

  push(value: unknown): void {
    this.used = true;
    this.#values.push(value);
    this.wake();
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  take(): unknown[] {
    return this.#values.splice(0);
  }

  waitForMore(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }
}

/**
 * Runs the tool's `execute` and stores what it produced: an AsyncIterable is drained (each value also pushed to
 * the channel, when the caller that started this execution has one) into a recording.
 */
export async function execution(
  result: unknown,
  channel: PreliminaryChannel | undefined,
): Promise<StoredToolOutput> {
  if (!isAsyncIterable(result)) return { output: await result };
  const values: unknown[] = [];
  for await (const value of result) {
    values.push(value);
    channel?.push(value);
  }
  return { values };
}

/**
 * The AsyncIterable a wrapped streaming tool returns (synchronously, as the SDK requires to treat its values as
 * preliminary results): the values of this caller's own execution as they are produced, else the stored ones.
 */
export async function* preliminaryResults(
  call: (channel: PreliminaryChannel) => Promise<StoredToolOutput | undefined>,
): AsyncGenerator<unknown, void, undefined> {
  const channel = new PreliminaryChannel();
  let outcome: { ok: true; stored: StoredToolOutput | undefined } | { ok: false; error: unknown } | undefined;
  call(channel).then(
    (stored) => {
      outcome = { ok: true, stored };
      channel.wake();
    },
    (error: unknown) => {
      outcome = { ok: false, error };
      channel.wake();
    },
  );
  for (;;) {
    const batch = channel.take();
    if (batch.length > 0) {
      // Values pushed while these are consumed are taken on the next turn, before waiting again.
      for (const value of batch) yield value;
      continue;
    }
    if (outcome !== undefined) break;
    await channel.waitForMore();
  }
  if (!outcome.ok) throw outcome.error;
  if (channel.used) return;
  const { stored } = outcome;
  if (stored === undefined) return;
  if ('values' in stored) yield* stored.values;
  else yield stored.output;
}

/** What the AI SDK treats as preliminary results (its own test: a `Symbol.asyncIterator` method). */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
