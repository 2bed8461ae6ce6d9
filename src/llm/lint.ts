import type { PromptSegment } from './prompt-layout.js';

export type LintKind =
  | 'iso-datetime'
  | 'iso-date'
  | 'time'
  | 'epoch-timestamp'
  | 'uuid'
  | 'request-id'
  | 'run-id';

export interface LintFinding {
  readonly segmentId: string;
  readonly kind: LintKind;
  /** The offending text (or number), as found. */
  readonly match: string;
}

/**
 * Text patterns that change on every request and so break a provider's prefix cache when they sit in a cacheable
 * segment. Each is anchored on word boundaries and on a shape ordinary prose and numbers do not have (dashes and
 * colons in fixed places, 8-4-4-4-12 hex, a digit inside an id), to keep false positives rare.
 */
const PATTERNS: readonly (readonly [LintKind, RegExp])[] = [
  [
    'iso-datetime',
    /\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\b/g,
  ],
  ['iso-date', /\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/g],
  ['time', /\b(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?\b/g],
  ['uuid', /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi],
  ['request-id', /\b(?:req|request|trace|span|correlation)[_-](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6,}\b/g],
  ['request-id', /\b(?:request|trace|correlation)[ _-]?id\s*[:=]\s*["']?([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)/gi],
  ['run-id', /\brun[_-](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6,}\b/g],
  ['run-id', /\brun[ _-]?id\s*[:=]\s*["']?([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)/gi],
  ['epoch-timestamp', /(?<![\d.])(?:[1-4]\d{9}|[1-4]\d{12})(?![\d.])/g],
];

/** Epoch seconds (or ms) between 2001-09-09 and 2100: what a `Date.now()` or `time()` in a prompt looks like. */
const EPOCH_S_MIN = 1_000_000_000;
const EPOCH_S_MAX = 4_102_444_800;

/**
 * Volatile values inside cacheable segments: ISO dates and times, epoch timestamps, UUIDs, request and run ids.
 * Strings are scanned anywhere in a segment's content (nested objects and arrays included); numbers are checked
 * for epoch timestamps; a Date object is reported as a date-time. Empty when the cacheable segments are clean.
 */
export function lintStablePrefix(segments: readonly PromptSegment[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const segment of segments) {
    if (segment?.cacheable !== true) continue;
    const seen = new Set<string>();
    const add = (kind: LintKind, match: string): void => {
      const id = `${kind}\u0000${match}`;
      if (seen.has(id)) return;
      seen.add(id);
      findings.push({ segmentId: segment.id, kind, match });
    };
    walk(segment.content, add, new Set());
  }
  return findings;
}

function walk(value: unknown, add: (kind: LintKind, match: string) => void, ancestors: Set<object>): void {
  if (typeof value === 'string') {
    scanText(value, add);
    return;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    if (isEpoch(n)) add('epoch-timestamp', String(value));
    return;
  }
  if (typeof value !== 'object' || value === null || ancestors.has(value)) return;
  if (value instanceof Date) {
    add('iso-datetime', Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
    return;
  }
  ancestors.add(value);
  const children = value instanceof Map || value instanceof Set ? [...value.values()] : Object.values(value);
  for (const child of children) walk(child, add, ancestors);
  ancestors.delete(value);
}

function scanText(text: string, add: (kind: LintKind, match: string) => void): void {
  // A span reported by an earlier (more specific) pattern is not reported again by a later one.
  const taken: [number, number][] = [];
  for (const [kind, pattern] of PATTERNS) {
    pattern.lastIndex = 0;
    for (const m of text.matchAll(pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (taken.some(([s, e]) => start < e && end > s)) continue;
      if (kind === 'epoch-timestamp') {
        const n = Number(m[0]);
        if (!isEpoch(n)) continue;
      }
      taken.push([start, end]);
      add(kind, m[0]);
    }
  }
}

function isEpoch(n: number): boolean {
  if (!Number.isInteger(n)) return false;
  return (n >= EPOCH_S_MIN && n <= EPOCH_S_MAX) || (n >= EPOCH_S_MIN * 1000 && n <= EPOCH_S_MAX * 1000);
}
