import { MemoryBackend } from '../../src/index.js';
import { backendContract } from './contract.js';

backendContract('MemoryBackend', ({ maxEntries }) => new MemoryBackend({ maxEntries }), {
  evicts: true,
  serializes: false,
  failsAfterClose: true,
});
