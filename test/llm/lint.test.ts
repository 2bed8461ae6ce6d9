import { describe, expect, it } from 'vitest';
import { lintStablePrefix, type PromptSegment } from '../../src/index.js';

const stable = (content: unknown, id = 'system'): PromptSegment => ({ id, cacheable: true, content });

describe('lintStablePrefix', () => {
  it('finds ISO dates and times, epoch timestamps, UUIDs, request and run ids', () => {
    const findings = lintStablePrefix([
      stable('Current time: 2025-03-04T10:31:07.123Z. Report date 2025-03-04. Clock 23:59:01.'),
      stable({ header: 'request_id: 7f3a91c2', run: 'run_01J8ZQ4K', ids: ['req_9a8b7c6d5e'] }, 'tools'),
      stable([{ seed: '123e4567-e89b-42d3-a456-426614174000' }, 1741084267, '1741084267123'], 'instructions'),
    ]);
    expect(findings).toEqual([
      { segmentId: 'system', kind: 'iso-datetime', match: '2025-03-04T10:31:07.123Z' },
      { segmentId: 'system', kind: 'iso-date', match: '2025-03-04' },
      { segmentId: 'system', kind: 'time', match: '23:59:01' },
      { segmentId: 'tools', kind: 'request-id', match: 'request_id: 7f3a91c2' },
      { segmentId: 'tools', kind: 'run-id', match: 'run_01J8ZQ4K' },
      { segmentId: 'tools', kind: 'request-id', match: 'req_9a8b7c6d5e' },
      { segmentId: 'instructions', kind: 'uuid', match: '123e4567-e89b-42d3-a456-426614174000' },
      { segmentId: 'instructions', kind: 'epoch-timestamp', match: '1741084267' },
      { segmentId: 'instructions', kind: 'epoch-timestamp', match: '1741084267123' },
    ]);
  });

  it('reports a Date object as a date-time', () => {
    expect(lintStablePrefix([stable({ now: new Date(0) })])).toEqual([
      { segmentId: 'system', kind: 'iso-datetime', match: '1970-01-01T00:00:00.000Z' },
    ]);
  });

  it('is empty for clean prompts: ordinary numbers, versions, ratios, tool names, phone numbers', () => {
    const clean = [
      stable(
        'You are a support agent. Answer in under 200 words. Refund limit: 1500 EUR. Version 2.14.3, ratio 16:9.',
      ),
      stable(
        [
          {
            name: 'run_query',
            description: 'Run a SQL query; at most 1000 rows. Port 8080. Call 555-123-4567.',
          },
          { name: 'request_refund', parameters: { amount: { type: 'number', maximum: 100000 } } },
          { name: 'get_trace', description: 'trace id is given by the user' },
        ],
        'tools',
      ),
      stable(
        'Use ISO-8601 dates (YYYY-MM-DD) in answers. Build 20240101 is old. Pi is 3.1415926535.',
        'style',
      ),
    ];
    expect(lintStablePrefix(clean)).toEqual([]);
  });

  it('ignores non-cacheable segments and survives cycles', () => {
    const cyclic: Record<string, unknown> = { text: 'fine' };
    cyclic.self = cyclic;
    expect(
      lintStablePrefix([
        { id: 'user', cacheable: false, content: 'now 2025-03-04T10:31:07Z' },
        stable(cyclic),
      ]),
    ).toEqual([]);
  });
});
