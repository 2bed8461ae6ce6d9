/**
 * A writer for the crash rounds of the SQLite scenario: it works a DiskBackend through the public API as fast as it
 * can — read tools storing entries of up to 32 KB, write tools invalidating them, session-scoped entries and
 * sessions that end (their entries deleted in batches), now and then a clear() — until the parent SIGKILLs it.
 * Every stored value carries the SHA-256 of its payload, so the parent can tell a whole entry from a partial one.
 * argv: <path>. Says 'writing' over IPC once it has made its first writes.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  configure,
  DiskBackend,
} from '../../src/index.js';

const backend = new DiskBackend({ path: process.argv[2]!, maxEntries: 400 });
configure({ backend, logger: { warn: () => {} } });

const value = (id: string) => {
  const payload = randomBytes(Math.floor(Math.random() * 32 * 1024));
  return { id, payload, digest: createHash('sha256').update(payload).digest('hex') };
};
const getDoc = AgentCache({ name: 'getDoc', resource: (i: number) => `doc:${i % 16}` })(async (i: number) =>
  value(`doc ${i}`),
);
const updateDoc = AgentCacheInvalidator({ name: 'updateDoc', resource: (i: number) => `doc:${i % 16}` })(
  async (_i: number) => {},
);
const getNote = AgentCache({ name: 'getNote', scope: 'session', resource: 'notes' })(async (i: number) =>
  value(`note ${i}`),
);

let ops = 0;
let announced = false;
async function lane(n: number): Promise<never> {
  for (;;) {
    const r = Math.random();
    const i = Math.floor(Math.random() * 300);
    if (r < 0.55) await getDoc(i);
    else if (r < 0.75) await updateDoc(i);
    else if (r < 0.998) {
      await AgentCacheSession.run({ sessionId: `s${n}-${ops}` }, async () => {
        for (let k = 0; k < 1 + Math.floor(Math.random() * 40); k++) await getNote(k);
      });
    } else await backend.clear();
    if (++ops >= 50 && !announced) {
      announced = true;
      process.send!('writing');
    }
  }
}
for (let n = 0; n < 6; n++) void lane(n);
