import type { Backend } from './backends/contract.js';
import { MemoryBackend } from './backends/memory.js';
import { backendsInUseNow } from './backends/registry.js';
import { AgentCacheTypeError } from './errors.js';
import { consoleLogger, type Logger, type LogSink, toLogSink } from './logger.js';

export interface ConfigureOptions {
  /** Default backend of tools that do not name one. */
  readonly backend?: Backend;
  /** Where warnings and errors go: `console`, pino, or any `{ debug, info, warn, error }`. Default: `console`. */
  readonly logger?: Logger;
  /** Prefix of every key and resource tag, so several applications can share one Redis or SQLite file. */
  readonly namespace?: string;
}

/** Process-wide defaults. `version` changes on every `configure`, so tools can cache what they derive from it. */
export interface Defaults {
  readonly backend: Backend;
  readonly logger: LogSink;
  readonly namespace: string;
  readonly version: number;
}

let defaults: Defaults = { backend: new MemoryBackend(), logger: consoleLogger, namespace: '', version: 0 };

export function configure(options: ConfigureOptions): void {
  if (options.namespace !== undefined && typeof options.namespace !== 'string') {
    throw new AgentCacheTypeError('configure: option `namespace` must be a string');
  }
  if (options.backend !== undefined && typeof options.backend?.get !== 'function') {
    throw new AgentCacheTypeError('configure: option `backend` must implement the Backend interface');
  }
  const logger = options.logger === undefined ? defaults.logger : toLogSink(options.logger, 'configure');
  defaults = {
    backend: options.backend ?? defaults.backend,
    logger,
    namespace: options.namespace ?? defaults.namespace,
    version: defaults.version + 1,
  };
}

export function getDefaults(): Defaults {
  return defaults;
}

/** The backends an invalidation must reach: every one in use, and the default one. */
export function backendsToInvalidate(): Backend[] {
  const all = new Set(backendsInUseNow());
  all.add(defaults.backend);
  return [...all];
}
