import { DiskBackend } from '../../src/index.js';
import { backendContract } from './contract.js';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();

backendContract('DiskBackend', ({ maxEntries }) => new DiskBackend({ path: cacheFile(dir), maxEntries }), {
  evicts: true,
  serializes: true,
  failsAfterClose: true,
});
