/**
 * Where the demo keeps its state: `.agent-cache/` under the project root, whichever directory `npm run demo` is
 * started from. `demo.sqlite` is the cache (a DiskBackend: tool results and model answers, kept across runs);
 * `helpdesk.json` is the simulated helpdesk's data. The two go together: starting cold drops both.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DiskBackend } from 'agent-cache';
import { Helpdesk } from './helpdesk.js';

export interface Start {
  /** Relative to the project root, for display. */
  readonly cacheFile: string;
  /** `fresh`: --fresh removed an earlier run's files; `cold`: there were none. */
  readonly kind: 'cold' | 'fresh' | 'warm';
  /** What the file held when the run started (warm only). */
  readonly toolEntries: Map<string, number>;
  readonly responseEntries: number;
}

export async function openState(
  root: string,
  fresh: boolean,
): Promise<{ disk: DiskBackend; helpdesk: Helpdesk; start: Start }> {
  const dir = join(root, '.agent-cache');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cacheFile = join(dir, 'demo.sqlite');
  const worldFile = join(dir, 'helpdesk.json');
  const earlier = existsSync(cacheFile) || existsSync(worldFile);
  // A cache without the helpdesk it was filled from would answer with data the new helpdesk does not have.
  if (fresh || !existsSync(worldFile)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${cacheFile}${suffix}`, { force: true });
    rmSync(worldFile, { force: true });
  }
  const { helpdesk, existed } = Helpdesk.open(worldFile);
  const disk = new DiskBackend(cacheFile);
  const toolEntries = new Map<string, number>();
  let responseEntries = 0;
  const now = Date.now();
  for await (const entry of disk.inspect()) {
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) continue;
    if (entry.kind === 'response') responseEntries++;
    else toolEntries.set(entry.tool, (toolEntries.get(entry.tool) ?? 0) + 1);
  }
  const kind = existed ? 'warm' : earlier ? 'fresh' : 'cold';
  return {
    disk,
    helpdesk,
    start: { cacheFile: relative(root, cacheFile), kind, toolEntries, responseEntries },
  };
}
