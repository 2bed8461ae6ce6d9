/**
 * The child process of the memory scenario (started with `--expose-gc`): runs one measurement per request, in a
 * process that does nothing else, so the heap it reports is the cache's.
 */
import { serve } from '../lib/child.js';
import { distinctCalls } from './distinct.js';
import { longSession } from './loop.js';
import { endedSessions, type SessionBackend } from './sessions.js';

export type MemoryRequest =
  | { readonly kind: 'distinct'; readonly calls: number; readonly maxEntries: number }
  | {
      readonly kind: 'sessions';
      readonly sessions: number;
      readonly shape: 'alive' | 'serial';
      readonly backend?: SessionBackend;
    }
  | { readonly kind: 'loop'; readonly calls: number };

serve(async (request: MemoryRequest): Promise<unknown> => {
  switch (request.kind) {
    case 'distinct':
      return distinctCalls(request.calls, request.maxEntries);
    case 'sessions':
      return endedSessions(request.sessions, request.shape, request.backend);
    case 'loop':
      return longSession(request.calls);
  }
});
