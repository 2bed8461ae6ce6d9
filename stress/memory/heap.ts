/** The heap in use after full collections (the child runs with `--expose-gc`). */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined)
    throw new Error('stress/memory: run with --expose-gc (the scenario starts its child so)');
  // Twice: the first collection may leave what only a finalizer or a weak reference releases for the second.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Lets timers and promise callbacks queued by the calls run (the library defers some work to the next tick). */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 10));

/** One measured point of a run: calls made so far and what was held. */
export interface HeapPoint {
  readonly calls: number;
  /** Heap in use minus the heap before the run, in bytes. */
  readonly retained: number;
  /** Entries the backend held. */
  readonly entries: number;
}
