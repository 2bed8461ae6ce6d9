// DiskBackend needs node:sqlite (Node.js >= 22.13). On any Node.js, `import 'agent-cache'` works and a read tool
// caches in memory; on an older one, creating a DiskBackend throws E_UNSUPPORTED_RUNTIME naming the version it
// needs, before it creates any file. The package test runs this under its own Node.js and under an older one.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCache, AgentCacheError, DiskBackend } from 'agent-cache';

let runs = 0;
const lookup = AgentCache({ resource: 'doc' })(async function lookup(id) {
  runs++;
  return { id };
});
await lookup('a');
await lookup('a');
assert.equal(runs, 1);

const [major, minor] = process.versions.node.split('.').map(Number);
const hasSqlite = major > 22 || (major === 22 && minor >= 13);
const dir = mkdtempSync(join(tmpdir(), 'agent-cache-runtime-'));
const path = join(dir, 'cache.db');
try {
  if (hasSqlite) {
    const disk = new DiskBackend(path);
    await disk.close();
    assert.ok(existsSync(path));
    console.log(`ok on Node.js ${process.version}: DiskBackend opened`);
  } else {
    let error;
    try {
      new DiskBackend(path);
    } catch (e) {
      error = e;
    }
    assert.ok(AgentCacheError.isInstance(error), `expected an AgentCacheError, got ${error}`);
    assert.equal(error.code, 'E_UNSUPPORTED_RUNTIME');
    assert.equal(error.name, 'UnsupportedRuntimeError');
    assert.match(error.message, /Node\.js >= 22\.13/);
    assert.ok(error.message.includes(process.version), error.message);
    assert.equal(existsSync(path), false, 'no file is created');
    console.log(`ok on Node.js ${process.version}: DiskBackend refused with E_UNSUPPORTED_RUNTIME`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
