/**
 * The Redis entry format (src/backends/redis/entry.ts): every header round-trips, whatever its tags and session id
 * hold (separators, newlines, NUL, lone surrogates, any Unicode); comparing stored tags with expected ones agrees
 * with string equality; anything that is not an entry is refused rather than misread.
 */

import { AgentCacheError } from 'agent-cache';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntry, hasTags, readHeader, readTags } from '../../src/backends/redis/entry.js';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ':', ',', '-', '\n', '\0', 'A1:'),
);
const meta = fc.record({
  expiresAt: fc.nat({ max: 2 ** 45 }),
  createdAt: fc.nat({ max: 2 ** 45 }),
  durationUs: fc.nat({ max: 2 ** 40 }),
  tags: fc.array(text, { maxLength: 5 }),
  sessionId: fc.option(text, { nil: undefined }),
  value: fc.uint8Array({ maxLength: 64 }),
});

describe('Redis entry format', () => {
  it('round-trips every header and leaves the value bytes as they were', () => {
    fc.assert(
      fc.property(meta, fc.array(fc.nat({ max: 2 ** 52 }), { minLength: 5, maxLength: 5 }), (m, someGens) => {
        const gens = someGens.slice(0, m.tags.length);
        const blob = encodeEntry({ ...m, durationMs: m.durationUs / 1_000, gens }, Buffer.from(m.value));
        const header = readHeader(blob);
        expect(header.expiresAt).toBe(m.expiresAt);
        expect(header.createdAt).toBe(m.createdAt);
        expect(header.durationMs).toBe(m.durationUs / 1_000);
        expect([...header.gens]).toEqual(gens);
        expect(readTags(blob, header)).toEqual(m.tags);
        expect(header.sessionId === undefined).toBe(m.sessionId === undefined);
        expect(hasTags(blob, header, m.tags)).toBe(true);
        expect(Buffer.compare(blob.subarray(header.valueAt), Buffer.from(m.value))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('says two tag lists are the same exactly when they are equal strings', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), fc.array(text, { maxLength: 4 }), (stored, expected) => {
        const blob = encodeEntry(
          {
            expiresAt: 0,
            createdAt: 0,
            durationMs: 0,
            gens: stored.map(() => 1),
            sessionId: undefined,
            tags: stored,
          },
          Buffer.alloc(0),
        );
        const same = stored.length === expected.length && stored.every((t, i) => t === expected[i]);
        expect(hasTags(blob, readHeader(blob), expected)).toBe(same);
      }),
      { numRuns: 500 },
    );
    const blob = encodeEntry(
      { expiresAt: 0, createdAt: 0, durationMs: 0, gens: [1], sessionId: undefined, tags: ['a\ud800'] },
      Buffer.alloc(0),
    );
    expect(hasTags(blob, readHeader(blob), ['a\ud801'])).toBe(false);
    expect(hasTags(blob, readHeader(blob), ['a\ud800'])).toBe(true);
  });

  it('refuses what is not an entry', () => {
    const good = encodeEntry(
      { expiresAt: 1, createdAt: 2, durationMs: 3, gens: [4], sessionId: 's', tags: ['t'] },
      Buffer.from('value'),
    );
    const bad = [
      Buffer.from('not an entry'),
      Buffer.from(''),
      Buffer.from('A'),
      Buffer.from('A999:1,2,3,0,-'),
      Buffer.from('A5:1,2,3'),
      Buffer.from('[0,[],[],null]\nvalue'),
      good.subarray(0, 8),
    ];
    for (const blob of bad) {
      let error: unknown;
      try {
        readHeader(blob);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AgentCacheError);
      expect((error as AgentCacheError).code).toBe('E_NOT_A_CACHE');
    }
    expect(readHeader(good).valueAt).toBe(good.length - 'value'.length);
  });
});
