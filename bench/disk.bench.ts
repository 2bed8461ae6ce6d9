/**
 * DiskBackend hit vs the floor it is built on: a raw node:sqlite prepared `get` of the same value plus v8
 * deserialize. Also the same hit through a cached tool (AgentCache), and a memory hit for scale.
 * Target: backend hit <= 1.5x the raw read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { deserialize, serialize } from 'node:v8';
import { AgentCache, DiskBackend, MemoryBackend } from '../src/index.js';
import { toolResult } from './fixtures.js';
import { compare, target } from './harness.js';

const KEYS = 1_000;

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cache-bench-'));
  try {
    const raw = new DatabaseSync(join(dir, 'raw.db'));
    raw.exec('PRAGMA journal_mode = WAL; CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)');
    const insert = raw.prepare('INSERT INTO kv VALUES (?, ?)');
    raw.exec('BEGIN');
    for (let i = 0; i < KEYS; i++) insert.run(`key-${i}`, serialize(toolResult(i)));
    raw.exec('COMMIT');
    const select = raw.prepare('SELECT value FROM kv WHERE key = ?');

    const disk = new DiskBackend(join(dir, 'cache.db'));
    const memory = new MemoryBackend();
    const tags = ['t"bench""getTicket"', 'r"bench""tickets"'];
    for (const backend of [disk, memory]) {
      const gens = await backend.generations(tags);
      for (let i = 0; i < KEYS; i++)
        await backend.set(`key-${i}`, { value: toolResult(i), expiresAt: 0, tags, gens });
    }
    let calls = 0;
    const getTicket = AgentCache({ name: 'getTicket', resource: 'tickets', backend: disk })(
      async (i: number) => {
        calls++;
        return toolResult(i);
      },
    );
    for (let i = 0; i < KEYS; i++) await getTicket(i);

    const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
    const r = await compare(
      'DiskBackend hit vs raw node:sqlite get + deserialize',
      [
        {
          name: 'raw node:sqlite get + v8.deserialize',
          op: (i) => deserialize((select.get(keys[i % KEYS]!) as { value: Uint8Array }).value),
        },
        { name: 'DiskBackend.get (hit)', op: (i) => disk.get(keys[i % KEYS]!) },
        { name: 'AgentCache tool hit on DiskBackend', op: (i) => getTicket(i % KEYS) },
        { name: 'MemoryBackend.get (hit), for scale', op: (i) => memory.get(keys[i % KEYS]!) },
      ],
      { rounds: 15, ops: 10_000 },
    );
    target('DiskBackend hit / raw node:sqlite get + deserialize', r.ratios['DiskBackend.get (hit)']!, 1.5);
    if (calls !== KEYS)
      throw new Error(`expected only hits in the timed rounds, the tool ran ${calls - KEYS} extra times`);
    await disk.close();
    raw.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
