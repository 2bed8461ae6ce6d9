/**
 * The other process of the propagation benchmark: on each request it makes sure the entry is cached here (in its
 * L1 when on), then reads until the entry is reported stale, and answers with the wall-clock time it saw that.
 * argv: <url> <prefix> <strict|l1>
 */
import { RedisBackend } from '../src/backends/redis/index.js';

const [url, prefix, mode] = process.argv.slice(2) as [string, string, string];
const backend = new RedisBackend({ url, prefix, l1: mode === 'l1' });
const now = () => performance.timeOrigin + performance.now();

process.on('message', async (key: string) => {
  // Warm: read until it is served (and, with the L1, until the L1 is live and holds it).
  for (;;) {
    const got = backend.get(key);
    if (got !== undefined && !(got instanceof Promise)) break;
    if ((await got) !== undefined && mode !== 'l1') break;
    await new Promise((r) => setTimeout(r, 1));
  }
  process.send!('ready');
  for (;;) {
    const got = backend.get(key);
    const entry = got instanceof Promise ? await got : got;
    if (entry === undefined) break;
    await new Promise((r) => setImmediate(r));
  }
  process.send!(now());
});
process.send!('started');
