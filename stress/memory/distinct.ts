/**
 * Distinct calls through a bounded cache: a global read tool on MemoryBackend({ maxEntries }) called with `calls`
 * different arguments, each once (every call a miss and a store, the least recently used evicted). The heap is
 * measured once the bound is reached and at checkpoints after: it must stay where it was at the bound.
 */
import { AgentCache, MemoryBackend } from '../../src/index.js';
import { type HeapPoint, heapUsed, settle } from './heap.js';

export interface DistinctFigures {
  readonly before: number;
  readonly points: readonly HeapPoint[];
}

interface Query {
  readonly userId: string;
  readonly page: number;
}

/** An 80-byte value (a flat 64-character string), as in bench/memory.bench.ts. */
const value = (q: Query) => [q.userId.padEnd(58, '.'), String(q.page).padStart(6, '0')].join('');

export async function distinctCalls(calls: number, maxEntries: number): Promise<DistinctFigures> {
  const before = heapUsed();
  const backend = new MemoryBackend({ maxEntries });
  const tool = AgentCache({ name: 'memory.distinct', resource: 'values', backend })(async (q: Query) =>
    value(q),
  );
  // Measured at the bound, then at ten checkpoints spread evenly up to `calls`.
  const at = new Set([
    maxEntries,
    ...Array.from({ length: 10 }, (_, k) => Math.round(((k + 1) * calls) / 10)),
  ]);
  const points: HeapPoint[] = [];
  for (let i = 1; i <= calls; i++) {
    await tool({ userId: `user-${i}`, page: i % 7 });
    if (at.has(i)) {
      await settle();
      points.push({ calls: i, retained: heapUsed() - before, entries: backend.size });
    }
  }
  await backend.close();
  return { before, points };
}
