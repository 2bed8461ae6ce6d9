import { createRequire } from 'node:module';
import type * as Sqlite from 'node:sqlite';
import { UnsupportedRuntimeError } from '../../errors.js';

/** The first Node.js release line whose `node:sqlite` works without a flag. */
export const SQLITE_NODE_VERSION = '22.13';

let loaded: typeof Sqlite | undefined;

/**
 * `node:sqlite`, loaded the first time a DiskBackend opens a file (never by `import 'agent-cache'`), so that the
 * package imports on a Node.js without it and only DiskBackend refuses, with an error naming the version it needs.
 */
export function sqlite(): typeof Sqlite {
  if (loaded !== undefined) return loaded;
  let module: typeof Sqlite | undefined;
  try {
    module =
      typeof process.getBuiltinModule === 'function'
        ? (process.getBuiltinModule('node:sqlite') as typeof Sqlite | undefined)
        : (createRequire(import.meta.url)('node:sqlite') as typeof Sqlite);
  } catch {
    module = undefined;
  }
  if (typeof module?.DatabaseSync !== 'function') {
    throw new UnsupportedRuntimeError(
      `DiskBackend needs Node.js >= ${SQLITE_NODE_VERSION} (for its built-in node:sqlite); this is Node.js ${process.version}. Upgrade Node.js, or use MemoryBackend or RedisBackend (agent-cache/redis).`,
    );
  }
  loaded = module;
  return module;
}
