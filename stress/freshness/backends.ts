import { type Backend, DiskBackend, MemoryBackend } from '../../src/index.js';

/** A backend to open in some process (descriptions travel to child processes over IPC). */
export type BackendSpec =
  | { readonly kind: 'memory' }
  | { readonly kind: 'disk'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix: string; readonly l1: boolean };

export async function openBackend(spec: BackendSpec): Promise<Backend> {
  switch (spec.kind) {
    case 'memory':
      return new MemoryBackend();
    case 'disk':
      return new DiskBackend(spec.path);
    case 'redis': {
      const { RedisBackend } = await import('../../src/backends/redis/index.js');
      return new RedisBackend({ url: spec.url, prefix: spec.prefix, l1: spec.l1 });
    }
  }
}
