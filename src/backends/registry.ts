import type { Backend } from './contract.js';

/**
 * Every backend a tool of this process uses, so that a write tool reaches reads wherever they are stored. Its own
 * module (importing nothing) so that backends can leave it on close() without an import cycle with config.ts.
 */
const backendsInUse = new Set<Backend>();

export function registerBackend(backend: Backend): void {
  backendsInUse.add(backend);
}

/** Forget a backend (it was closed): invalidations stop reaching it. */
export function unregisterBackend(backend: Backend): void {
  backendsInUse.delete(backend);
}

export function backendsInUseNow(): ReadonlySet<Backend> {
  return backendsInUse;
}
