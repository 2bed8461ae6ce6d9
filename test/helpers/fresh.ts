import { configure, MemoryBackend, resetMetrics } from '../../src/index.js';
import { recordingLogger } from './logger.js';

/** A fresh default backend, logger and zeroed metrics for one test. */
export function freshCache(options: { maxEntries?: number } = {}) {
  const backend = new MemoryBackend(options);
  const logger = recordingLogger();
  configure({ backend, logger, namespace: '' });
  resetMetrics();
  return { backend, logger };
}
