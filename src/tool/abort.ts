/**
 * How the core recognises that an execution shared by several callers (single flight) failed because the caller
 * that started it was aborted — a reason for the others to run again, not to fail.
 *
 * A call's signals are the AbortSignals among its arguments, or in the properties of an object argument (one level
 * down): `(id, signal)`, the AI SDK's `execute(input, { abortSignal })`, LangChain's `config.signal`, MCP's
 * `{ signal }`, the OpenAI Agents `details.signal`. Looking is bounded (8 arguments, 32 properties each) and only
 * happens off the hit path: when a call joins an execution, and when a shared execution rejects.
 */
const MAX_ARGS = 8;
const MAX_PROPERTIES = 32;

export function signalsOf(args: readonly unknown[]): AbortSignal[] | undefined {
  const found: AbortSignal[] = [];
  const n = Math.min(args.length, MAX_ARGS);
  for (let i = 0; i < n; i++) {
    const arg = args[i];
    if (arg instanceof AbortSignal) {
      found.push(arg);
    } else if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
      let seen = 0;
      for (const name in arg) {
        if (++seen > MAX_PROPERTIES) break;
        if (!Object.hasOwn(arg, name)) continue;
        const value = (arg as Record<string, unknown>)[name];
        if (value instanceof AbortSignal) found.push(value);
      }
    }
  }
  return found.length === 0 ? undefined : found;
}

export function anyAborted(signals: readonly AbortSignal[] | undefined): boolean {
  return signals?.some((signal) => signal.aborted) === true;
}

/** An error that says "cancelled" (a DOMException AbortError, or any error named so, as the AI SDK's are). */
export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * The shared execution rejected because of its caller's abort, not because the work failed: that caller's signal
 * has aborted, or the rejection is an AbortError. A joined caller whose own signals are live then runs again.
 */
export function abortedByItsCaller(error: unknown, executorArgs: readonly unknown[]): boolean {
  return isAbortError(error) || anyAborted(signalsOf(executorArgs));
}

/** `promise`, or a rejection with the signal's reason as soon as one of `signals` aborts (the caller stops waiting). */
export function untilAborted<T>(promise: Promise<T>, signals: readonly AbortSignal[]): Promise<T> {
  const aborted = signals.find((signal) => signal.aborted);
  if (aborted !== undefined) return Promise.reject(aborted.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (event: Event) => {
      done();
      reject((event.target as AbortSignal).reason);
    };
    const done = () => {
      for (const signal of signals) signal.removeEventListener('abort', onAbort);
    };
    for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
