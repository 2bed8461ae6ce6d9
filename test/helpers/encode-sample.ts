// Prints the canonical encoding of the same sample as canonical.test.ts, from another process.
import { canonicalEncode } from '../../src/index.js';

const sample = {
  u: new URL('https://example.com/a?b=c'),
  bytes: new Uint8Array([0, 255, 7]),
  m: new Map<unknown, unknown>([[{ k: 1 }, new Set(['a', 'b'])]]),
  a: { big: 12345678901234567890n, when: new Date(1_700_000_000_000) },
  z: [1, 'two', null, true, 3.25, -0, Number.NaN],
};
process.stdout.write(`${canonicalEncode(sample)}\n`);
