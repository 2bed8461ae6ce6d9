/**
 * The lock rounds of the SQLite scenario: another process holds the file's write lock for several seconds while
 * the writer process runs a mixed load. Nothing may be lost: once the lock is free, every invalidation the writer
 * made must reach the file, so the other process (which had every item cached from before) reads the new
 * versions; the writer never serves a stale read; no call fails; no backend call keeps the event loop long.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.js';
import type { LoadFigures, LockReply, LockRequest } from './lock-process.js';

export interface LockFigures {
  readonly holdMs: number;
  readonly busyTimeout: number;
  readonly items: number;
  readonly lanes: number;
  readonly load: LoadFigures;
  /** Items the other process read older than the source of truth half-way through the hold (the window). */
  readonly olderDuringHold: number;
  /** The same once the writer had recorded everything: lost invalidations. */
  readonly lostInvalidations: number;
  /** From the lock's release to nothing pending in the writer, ms. */
  readonly recoveryMs: number;
  readonly staleAfterRecovery: number;
}

const processModule = new URL('./lock-process.ts', import.meta.url);
const holder = fileURLToPath(new URL('../../test/backends/fixtures/hold-write-lock.ts', import.meta.url));

export async function lockRound(
  dir: string,
  options: { holdMs: number; busyTimeout: number; items: number; lanes: number },
): Promise<LockFigures> {
  const path = join(dir, 'locked.db');
  const truth = join(dir, 'truth');
  mkdirSync(truth, { recursive: true });
  for (let i = 0; i < options.items; i++) writeFileSync(join(truth, String(i)), '1');
  const writer = await Child.start<LockRequest, LockReply>(processModule);
  const other = await Child.start<LockRequest, LockReply>(processModule);
  try {
    const start = { op: 'start', path, truth, items: options.items } as const;
    await writer.request({ ...start, busyTimeout: options.busyTimeout });
    await other.request(start);
    await writer.request({ op: 'warm' });
    await other.request({ op: 'warm' }); // hits on what the writer stored

    const lock = spawn(process.execPath, ['--import', 'tsx', holder, path, String(options.holdMs)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const released = new Promise<number>((resolve) => lock.once('exit', () => resolve(Date.now())));
    await new Promise<void>((resolve, reject) => {
      lock.once('message', () => resolve());
      lock.once('exit', (code) => reject(new Error(`the lock holder exited early (${code})`)));
    });
    // The load runs through the hold and a little past its end, so recovery happens under load too.
    const loading = writer.request({ op: 'load', ms: options.holdMs + 500, lanes: options.lanes });
    await new Promise((r) => setTimeout(r, options.holdMs / 2));
    const during = await other.request({ op: 'read' });
    const releasedAt = await released;
    const { load } = await loading;
    const { recoveredAt, staleAfter } = await writer.request({ op: 'recover' });
    const after = await other.request({ op: 'read' });
    const ended = load!.pendingEndedAt !== 0 ? load!.pendingEndedAt : recoveredAt!;
    return {
      ...options,
      load: load!,
      olderDuringHold: during.older!,
      lostInvalidations: after.older!,
      recoveryMs: Math.max(0, ended - releasedAt),
      staleAfterRecovery: staleAfter!,
    };
  } finally {
    await writer.request({ op: 'close' }).catch(() => {});
    await other.request({ op: 'close' }).catch(() => {});
    await writer.close();
    await other.close();
  }
}
