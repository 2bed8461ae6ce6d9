/**
 * A process of the lock rounds of the SQLite scenario, over one DiskBackend file and a source of truth (one small
 * file per item, replaced atomically). The writer process runs a mixed load of cached reads and invalidating
 * writes while another process holds the file's write lock; the other process only reads, to see when the
 * writer's invalidations reach it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  AgentCache,
  AgentCacheInvalidator,
  configure,
  DiskBackend,
  flushInvalidations,
  getMetrics,
  pendingInvalidations,
} from '../../src/index.js';
import { serve } from '../lib/child.js';
import { TimedBackend } from './timed-backend.js';

export type LockRequest =
  | {
      readonly op: 'start';
      readonly path: string;
      readonly truth: string;
      readonly items: number;
      readonly busyTimeout?: number;
    }
  | { readonly op: 'warm' }
  | { readonly op: 'load'; readonly ms: number; readonly lanes: number }
  | { readonly op: 'recover' }
  | { readonly op: 'read' }
  | { readonly op: 'close' };

export interface LoadFigures {
  readonly reads: number;
  readonly writes: number;
  readonly failed: number;
  readonly stale: number;
  readonly hits: number;
  readonly bypassed: number;
  readonly backendErrors: number;
  readonly writesLeftPending: number;
  readonly longestCallMs: number;
  readonly longestBackendCallMs: number;
  readonly longestBackendOp: string;
  readonly loopDelayMaxMs: number;
  /** Date.now() when nothing was pending any more, after the last time something was (0: never pending). */
  readonly pendingEndedAt: number;
  readonly pendingMax: number;
}

export interface LockReply {
  readonly load?: LoadFigures;
  /** read: items whose read returned an older version than the source of truth. */
  readonly older?: number;
  readonly items?: number;
  /** recover: Date.now() once nothing was pending, and how many reads after it were stale. */
  readonly recoveredAt?: number;
  readonly staleAfter?: number;
}

let backend: TimedBackend;
let truthDir = '';
let items = 0;
const version: number[] = [];
const done: number[] = [];
const writing: Promise<void>[] = [];

const truthOf = (item: number) => Number(readFileSync(join(truthDir, String(item)), 'utf8'));
const readItem = AgentCache({ name: 'readItem', resource: (item: number) => `item:${item}` })(
  async (item: number) => truthOf(item),
);
const writeItem = AgentCacheInvalidator({ name: 'writeItem', resource: (item: number) => `item:${item}` })(
  async (item: number, v: number) => {
    const tmp = join(truthDir, `.${item}.${process.pid}.tmp`);
    writeFileSync(tmp, String(v));
    renameSync(tmp, join(truthDir, String(item)));
  },
);

const tick = () => new Promise((r) => setImmediate(r));

async function load(ms: number, lanes: number): Promise<LoadFigures> {
  const before = getMetrics();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let reads = 0;
  let writes = 0;
  let failed = 0;
  let stale = 0;
  let writesLeftPending = 0;
  let longestCallMs = 0;
  let pendingEndedAt = 0;
  let pendingMax = 0;
  let wasPending = false;
  const watch = setInterval(() => {
    const count = pendingInvalidations().count;
    if (count > pendingMax) pendingMax = count;
    if (count > 0) wasPending = true;
    else if (wasPending) {
      wasPending = false;
      pendingEndedAt = Date.now();
    }
  }, 2);
  const until = performance.now() + ms;
  const lane = async () => {
    while (performance.now() < until) {
      const item = Math.floor(Math.random() * items);
      const started = performance.now();
      try {
        if (Math.random() < 0.25) {
          // Writes to one item apply in the order of their versions (each waits for the one before), so the
          // source of truth only grows: otherwise a write held up by the busy file could land an older version
          // after a newer one, and a correct read of the truth would count as stale.
          const v = ++version[item]!;
          const before = writing[item];
          let finished!: () => void;
          writing[item] = new Promise<void>((resolve) => {
            finished = resolve;
          });
          try {
            await before;
            await writeItem(item, v);
          } finally {
            finished();
          }
          done[item] = Math.max(done[item]!, v);
          writes++;
          if (pendingInvalidations().count > 0) writesLeftPending++;
        } else {
          const floor = done[item]!;
          const got = await readItem(item);
          reads++;
          if (got < floor) stale++;
        }
      } catch {
        failed++;
      }
      longestCallMs = Math.max(longestCallMs, performance.now() - started);
      await tick();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  clearInterval(watch);
  loop.disable();
  const after = getMetrics();
  return {
    reads,
    writes,
    failed,
    stale,
    hits: after.hits - before.hits,
    bypassed: after.bypassed - before.bypassed,
    backendErrors: after.backendErrors - before.backendErrors,
    writesLeftPending,
    longestCallMs,
    longestBackendCallMs: backend.longestMs,
    longestBackendOp: backend.longestOp,
    loopDelayMaxMs: loop.max / 1e6,
    pendingEndedAt: wasPending ? 0 : pendingEndedAt,
    pendingMax,
  };
}

serve<LockRequest, LockReply>(async (request) => {
  switch (request.op) {
    case 'start': {
      truthDir = request.truth;
      items = request.items;
      for (let i = 0; i < items; i++) {
        version[i] = truthOf(i);
        done[i] = version[i]!;
      }
      backend = new TimedBackend(new DiskBackend({ path: request.path, busyTimeout: request.busyTimeout }));
      configure({ backend, logger: { warn: () => {}, error: () => {} } });
      return {};
    }
    case 'warm':
      for (let i = 0; i < items; i++) await readItem(i);
      return {};
    case 'load':
      return { load: await load(request.ms, request.lanes) };
    case 'recover': {
      await flushInvalidations({ timeout: 30_000 });
      const recoveredAt = Date.now();
      let staleAfter = 0;
      for (let i = 0; i < items; i++) if ((await readItem(i)) < truthOf(i)) staleAfter++;
      return { recoveredAt, staleAfter };
    }
    case 'read': {
      let older = 0;
      for (let i = 0; i < items; i++) if ((await readItem(i)) < truthOf(i)) older++;
      return { older, items };
    }
    case 'close':
      await backend.close();
      return {};
  }
});
