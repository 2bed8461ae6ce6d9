import { MemoryBackend } from 'agent-cache';
import { backendContract } from 'agent-cache/testing';
import { describe, it } from 'vitest';

backendContract('MemoryBackend', ({ maxEntries }) => new MemoryBackend({ maxEntries }), {
  describe,
  it,
  evicts: true,
  serializes: false,
});
