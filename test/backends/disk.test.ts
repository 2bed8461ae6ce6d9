import { DiskBackend } from 'agent-cache';
import { backendContract } from 'agent-cache/testing';
import { describe, it } from 'vitest';
import { cacheFile, tempDir } from './fixtures/temp.js';

const dir = tempDir();

backendContract('DiskBackend', ({ maxEntries }) => new DiskBackend({ path: cacheFile(dir), maxEntries }), {
  describe,
  it,
  evicts: true,
  serializes: true,
});
