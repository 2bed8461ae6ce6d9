/**
 * Memory held per cached entry: the heap retained by a cache of 100k entries (measured with `gc()`, which
 * `npm run bench` exposes), divided by the number of entries. Each entry is a tool call with a small object argument
 * and an 80-byte value (a 64-character string); the values are counted, as the caches hold them. agent-cache (a
 * global tool and a session-scoped one, MemoryBackend({ maxEntries }) at the same bound) against p-memoize +
 * lru-cache({ max }) keyed by JSON.stringify. Target: agent-cache global tool / p-memoize+lru-cache <= 1.2.
 */
import { LRUCache } from 'lru-cache';
import pMemoize from 'p-memoize';
import { AgentCache, AgentCacheSession, MemoryBackend } from '../src/index.js';
import { median, targetOverRuns } from './harness.js';

const ENTRIES = 100_000;
const RUNS = 5;

interface Query {
  userId: string;
  page: number;
}

/** A fresh flat 64-character one-byte string: 80 bytes of heap (16 of header). */
const value = (q: Query) => [q.userId.padEnd(58, '.'), String(q.page).padStart(6, '0')].join('');
const args = (i: number): Query => ({ userId: `user-${i}`, page: i % 7 });

/** Builds a cache of ENTRIES entries; returns what holds it, and how to let it go (a backend closes). */
type Build = () => Promise<{ held: unknown; close?: () => Promise<void> }>;

const builds: Record<string, Build> = {
  'values alone (an array of them)': async () => ({
    held: Array.from({ length: ENTRIES }, (_, i) => value(args(i))),
  }),
  'p-memoize + lru-cache': async () => {
    const cache = new LRUCache<string, string>({ max: ENTRIES });
    const fn = pMemoize(async (q: Query) => value(q), { cache, cacheKey: (a) => JSON.stringify(a) });
    for (let i = 0; i < ENTRIES; i++) await fn(args(i));
    return { held: [cache, fn] };
  },
  'agent-cache, global tool': async () => {
    const backend = new MemoryBackend({ maxEntries: ENTRIES });
    const tool = AgentCache({ name: 'getValue', resource: 'values', backend })(async (q: Query) => value(q));
    for (let i = 0; i < ENTRIES; i++) await tool(args(i));
    return { held: [backend, tool], close: () => backend.close() };
  },
  'agent-cache, session-scoped tool': async () => {
    const backend = new MemoryBackend({ maxEntries: ENTRIES });
    const tool = AgentCache({ name: 'getSessionValue', resource: 'values', scope: 'session', backend })(
      async (q: Query) => value(q),
    );
    const session = new AgentCacheSession();
    await session.run(async () => {
      for (let i = 0; i < ENTRIES; i++) await tool(args(i));
    });
    return { held: [backend, tool, session], close: () => backend.close() };
  },
};

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (npm run bench does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** What the cache being measured is held by: one slot, emptied before the next measurement starts. */
let held: { held: unknown; close?: () => Promise<void> } | undefined;

async function measure(build: Build): Promise<number> {
  const before = heapUsed();
  held = await build();
  const after = heapUsed();
  await held.close?.();
  held = undefined;
  return (after - before) / ENTRIES;
}

export async function main(): Promise<void> {
  const samples = new Map<string, number[]>(Object.keys(builds).map((name) => [name, []]));
  const names = Object.keys(builds);
  for (let r = 0; r < RUNS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      samples.get(name)!.push(await measure(builds[name]!));
    }
  }
  const bytes = new Map([...samples].map(([name, s]) => [name, median(s)]));
  const base = bytes.get('p-memoize + lru-cache')!;
  console.log(
    `\n## Heap retained per entry, ${ENTRIES.toLocaleString('en-US')} entries, 80-byte values\n` +
      `(median of ${RUNS} runs, interleaved; bytes per entry, values included; ratio vs p-memoize + lru-cache)\n`,
  );
  console.log('| cache | bytes per entry | ratio |');
  console.log('| --- | ---: | ---: |');
  for (const [name, b] of bytes) console.log(`| ${name} | ${b.toFixed(0)} | ${(b / base).toFixed(2)} |`);
  // Each run measures every cache once: the target is the median of the runs' ratios, with their spread.
  const perRun = samples
    .get('agent-cache, global tool')!
    .map((b, r) => b / samples.get('p-memoize + lru-cache')![r]!);
  targetOverRuns('bytes per entry, global tool: agent-cache / p-memoize+lru-cache', perRun, 1.2);
  console.log(
    `(informational) session-scoped tool / p-memoize+lru-cache: ${(bytes.get('agent-cache, session-scoped tool')! / base).toFixed(2)}`,
  );
}
