/** File modes: what DiskBackend creates is 0600 even under umask 0 (checked in a child process; see modes-child.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from '../lib/child.js';
import type { ModeReport } from './modes-child.js';

export async function fileModes(): Promise<ModeReport> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cache-stress-modes-'));
  const child = await Child.start<string, ModeReport>(new URL('./modes-child.ts', import.meta.url));
  try {
    return await child.request(dir);
  } finally {
    await child.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
