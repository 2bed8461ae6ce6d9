/**
 * 10 MB results through every backend: stored, served back whole by the same backend, and (disk, Redis) by another
 * backend instance on the same file or prefix, which proves the value was persisted and decoded from storage.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { AgentCache, type Backend, getMetrics } from '../../src/index.js';
import { type BackendName, Check, type Place } from './checks.js';

export const MB = 2 ** 20;

type Kind = 'bytes' | 'text' | 'object';

/** A value of about `bytes` serialized bytes, of one of three shapes. */
function makeValue(kind: Kind, bytes: number): unknown {
  switch (kind) {
    case 'bytes':
      return randomBytes(bytes);
    case 'text': {
      // Mixed widths: ASCII, 2-byte, 3-byte and astral (surrogate pair) characters.
      const unit = 'agent-cache é € 😀 ';
      return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
    }
    case 'object': {
      const rows = Math.ceil(bytes / 100);
      return {
        rows: Array.from({ length: rows }, (_, i) => ({
          id: i,
          name: `row ${i}`,
          at: new Date(i),
          tags: ['a', 'b'],
        })),
        index: new Map([[1, 'one']]),
      };
    }
  }
}

export interface LargeRow {
  readonly backend: BackendName;
  readonly kind: Kind;
  readonly mb: number;
  readonly storeMs: number;
  readonly hitMs: number;
  /** Read back by another backend instance on the same storage (disk, Redis); -1 for memory. */
  readonly reopenedMs: number;
}

let tools = 0;

export async function largeValues(place: Place, mb: number): Promise<{ check: Check; rows: LargeRow[] }> {
  const check = new Check(`${mb} MB values stored and read back`, '-');
  const rows: LargeRow[] = [];
  for (const backend of place.kinds) {
    for (const kind of ['bytes', 'text', 'object'] as const) {
      const value = makeValue(kind, mb * MB);
      const name = `hostile.large.${++tools}`;
      const primary = await place.open(backend);
      const tool = (on: Backend) =>
        AgentCache({ name, backend: on, resource: 'large' })(async function large(_kind: string) {
          return value;
        });
      const first = tool(primary);
      let t = performance.now();
      const stored = await check.call(`${backend} ${kind} store`, () => first(kind));
      const storeMs = performance.now() - t;
      check.cases++;
      const hitsBefore = getMetrics().tools[name]?.hits ?? 0;
      t = performance.now();
      const hit = await check.call(`${backend} ${kind} hit`, () => first(kind));
      const hitMs = performance.now() - t;
      if (stored === undefined || hit === undefined) continue;
      if ((getMetrics().tools[name]?.hits ?? 0) !== hitsBefore + 1)
        check.fail('not stored', `${backend} ${kind}: the second call was not a hit`);
      else if (!isDeepStrictEqual(hit.value, value))
        check.fail('changed', `${backend} ${kind}: the hit differs`);
      let reopenedMs = -1;
      if (backend !== 'memory') {
        const at = (primary as unknown as { path?: string; prefix?: string })[
          backend === 'disk' ? 'path' : 'prefix'
        ];
        const second = tool(await place.open(backend, at));
        const before = getMetrics().tools[name]?.hits ?? 0;
        t = performance.now();
        const again = await check.call(`${backend} ${kind} reopened`, () => second(kind));
        reopenedMs = performance.now() - t;
        if (again !== undefined) {
          if ((getMetrics().tools[name]?.hits ?? 0) !== before + 1)
            check.fail('not persisted', `${backend} ${kind}: another instance missed`);
          else if (!isDeepStrictEqual(again.value, value))
            check.fail('changed', `${backend} ${kind}: the value read back differs`);
        }
      }
      rows.push({ backend, kind, mb, storeMs, hitMs, reopenedMs });
    }
  }
  return { check, rows };
}
