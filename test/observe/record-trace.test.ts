import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/cli/report/replay.js';
import { readTrace as readReportTrace } from '../../src/cli/report/trace.js';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  AgentLoopDetectedError,
  getMetrics,
  recordTrace,
  type TraceLine,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

/** Checks one parsed line against the trace format `agent-cache report` reads; returns the problems. */
function formatProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const allowed = ['session', 'tool', 'kind', 'args', 'resources', 'scope', 'durationMs', 'error'];
  for (const key of Object.keys(line)) if (!allowed.includes(key)) problems.push(`unknown field ${key}`);
  if (typeof line.session !== 'string' || line.session === '') problems.push('session');
  if (typeof line.tool !== 'string' || line.tool === '') problems.push('tool');
  if (line.kind !== 'read' && line.kind !== 'write') problems.push('kind');
  if (!Array.isArray(line.args)) problems.push('args');
  if (!Array.isArray(line.resources) || !line.resources.every((r) => typeof r === 'string'))
    problems.push('resources');
  if ('scope' in line && line.scope !== 'global' && line.scope !== 'session') problems.push('scope');
  if (typeof line.durationMs !== 'number' || !Number.isFinite(line.durationMs) || line.durationMs < 0)
    problems.push('durationMs');
  if ('error' in line && typeof line.error !== 'string') problems.push('error');
  return problems;
}

function readTrace(file: string): TraceLine[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((raw) => {
      const line = JSON.parse(raw) as Record<string, unknown>;
      expect(formatProblems(line), raw).toEqual([]);
      return line as unknown as TraceLine;
    });
}

let dir: string;
beforeEach(() => {
  freshCache();
  dir = mkdtempSync(join(tmpdir(), 'agent-cache-trace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('recordTrace', () => {
  it('records a real run of wrapped tools in sessions, in call order, in the report trace format', async () => {
    let kbRuns = 0;
    const searchKb = AgentCache({ resource: (q) => `kb:${q}` })(async function searchKb(q: string) {
      kbRuns++;
      await sleep(q === 'slow' ? 40 : 25);
      return [q];
    });
    const getTicket = AgentCache({ resource: (id) => `ticket:${id}`, scope: 'session' })(
      async function getTicket(id: string) {
        await sleep(5);
        return { id };
      },
    );
    const updateTicket = AgentCacheInvalidator({ resource: (id) => `ticket:${id}` })(
      async function updateTicket(id: string, status: string) {
        await sleep(5);
        return `${id}:${status}`;
      },
    );
    const flakyApi = AgentCache({ resource: 'api' })(async function flakyApi() {
      throw new Error('503 Service Unavailable');
    });
    const lookupTags = AgentCache({ resource: 'tags', key: (q: { id: string }) => q.id })(
      async function lookupTags(q: { id: string; requestedAt: number }) {
        return [q.id];
      },
    );
    const countMembers = AgentCache({ resource: 'sets' })(async function countMembers(s: Set<string>) {
      return s.size;
    });

    const file = join(dir, 'run.jsonl');
    const recorder = recordTrace(file);
    await AgentCacheSession.run({ sessionId: 'agent-A', loopDetection: true }, async () => {
      await searchKb('refunds'); // 1 miss
      await searchKb('refunds'); // 2 hit
      await getTicket('T-1'); // 3 miss
      await getTicket('T-1'); // 4 hit
      expect(await updateTicket('T-1', 'closed')).toBe('T-1:closed'); // 5 write
      await getTicket('T-1'); // 6 miss again
      await Promise.all([searchKb('slow'), getTicket('T-2')]); // 7, 8: call order, not finishing order
      await Promise.all([searchKb('shared'), searchKb('shared')]); // 9 miss, 10 coalesced
      await expect(flakyApi()).rejects.toThrow('503'); // 11 error
      await lookupTags({ id: 'a', requestedAt: 1 }); // 12 by key material
      await lookupTags({ id: 'a', requestedAt: 2 }); // 13 hit
      await countMembers(new Set(['x', 'y'])); // 14 not JSON: recorded by canonical digest
    });
    await AgentCacheSession.run({ sessionId: 'agent-B' }, () => searchKb('refunds')); // 15 global hit
    await searchKb('refunds'); // 16 outside any session
    await recorder.stop();
    expect(recorder.lines).toBe(16);
    expect(kbRuns).toBe(3);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const lines = readTrace(file);
    expect(lines.map((l) => [l.session, l.tool, l.kind])).toEqual([
      ['agent-A', 'searchKb', 'read'],
      ['agent-A', 'searchKb', 'read'],
      ['agent-A', 'getTicket', 'read'],
      ['agent-A', 'getTicket', 'read'],
      ['agent-A', 'updateTicket', 'write'],
      ['agent-A', 'getTicket', 'read'],
      ['agent-A', 'searchKb', 'read'],
      ['agent-A', 'getTicket', 'read'],
      ['agent-A', 'searchKb', 'read'],
      ['agent-A', 'searchKb', 'read'],
      ['agent-A', 'flakyApi', 'read'],
      ['agent-A', 'lookupTags', 'read'],
      ['agent-A', 'lookupTags', 'read'],
      ['agent-A', 'countMembers', 'read'],
      ['agent-B', 'searchKb', 'read'],
      ['(none)', 'searchKb', 'read'],
    ]);
    const [
      kbMiss,
      kbHit,
      tMiss,
      tHit,
      write,
      tAgain,
      slow,
      t2,
      sharedMiss,
      sharedJoin,
      failed,
      tags1,
      tags2,
      set,
    ] = lines as [TraceLine, ...TraceLine[]];
    expect(kbMiss).toEqual({
      session: 'agent-A',
      tool: 'searchKb',
      kind: 'read',
      args: ['refunds'],
      resources: ['kb:refunds'],
      durationMs: kbMiss.durationMs,
    });
    expect(kbMiss.durationMs).toBeGreaterThanOrEqual(20);
    // A hit records what the entry's execution cost, so a replay sees what the run would have cost uncached.
    expect(kbHit!.durationMs).toBe(kbMiss.durationMs);
    expect(lines[14]!.durationMs).toBe(kbMiss.durationMs);
    expect(lines[15]!.durationMs).toBe(kbMiss.durationMs);
    expect(tMiss).toMatchObject({ scope: 'session', args: ['T-1'], resources: ['ticket:T-1'] });
    expect(tHit!.durationMs).toBe(tMiss!.durationMs);
    expect(write).toMatchObject({ kind: 'write', args: ['T-1', 'closed'], resources: ['ticket:T-1'] });
    expect(write).not.toHaveProperty('scope');
    expect(write!.durationMs).toBeGreaterThanOrEqual(3);
    expect(tAgain!.durationMs).toBeGreaterThanOrEqual(3);
    expect(slow).toMatchObject({ args: ['slow'] });
    expect(slow!.durationMs).toBeGreaterThan(t2!.durationMs);
    expect(sharedJoin!.durationMs).toBe(sharedMiss!.durationMs);
    expect(failed).toMatchObject({ error: '503 Service Unavailable', args: [], resources: ['api'] });
    expect(tags1!.args).toEqual(['a']);
    expect(tags2!.args).toEqual(['a']);
    expect(set!.args).toEqual([{ $canonical: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    for (const line of lines.filter((l) => !('error' in l))) expect(line).not.toHaveProperty('error');
  });

  it('replays through agent-cache report with the figures the live run had', async () => {
    const tickets = new Map([
      ['T-1', 'open'],
      ['T-2', 'open'],
    ]);
    const getTicket = AgentCache({ resource: (id) => `ticket:${id}` })(async function getTicket(id: string) {
      await sleep(8);
      return { id, status: tickets.get(id) };
    });
    const searchKb = AgentCache({ resource: 'kb', scope: 'session' })(async function searchKb(q: string) {
      await sleep(12);
      return [q];
    });
    const closeTicket = AgentCacheInvalidator({ resource: (id) => `ticket:${id}` })(
      async function closeTicket(id: string) {
        tickets.set(id, 'closed');
      },
    );
    const file = join(dir, 'agent.jsonl');
    const recorder = recordTrace(file);
    for (const sessionId of ['agent-A', 'agent-B']) {
      await AgentCacheSession.run({ sessionId }, async () => {
        await getTicket('T-1');
        await searchKb('refunds');
        await getTicket('T-1');
        await searchKb('refunds');
        await closeTicket('T-1');
        await getTicket('T-1');
        await getTicket('T-2');
        await getTicket('T-2');
      });
    }
    await recorder.stop();
    const live = getMetrics();
    const report = await replay(readReportTrace(file));
    expect(report.calls).toBe(16);
    expect(report.avoided).toBe(live.hits);
    expect(report.executions).toBe(live.misses + 2); // + the two writes
    expect(report.savedMs).toBeCloseTo(live.savedMs, 1);
    expect(report.tools.get('getTicket')).toMatchObject({ hits: live.tools.getTicket!.hits });
  });

  it('records loop detections as the agent saw them, and nested tool calls each on their line', async () => {
    const getStatus = AgentCache({ resource: 'job' })(async function getStatus(id: string) {
      return id;
    });
    const summarize = AgentCache({ resource: 'job' })(async function summarize(id: string) {
      return `summary of ${await getStatus(id)}`;
    });
    const lines: string[] = [];
    const recorder = recordTrace({ write: (text: string) => lines.push(text) }, { outsideSession: 'main' });
    await summarize('j1');
    await AgentCacheSession.run({ sessionId: 'L', loopDetection: true }, async () => {
      for (let i = 0; i < 5; i++) await getStatus('j1');
      await expect(getStatus('j1')).rejects.toBeInstanceOf(AgentLoopDetectedError);
    });
    await recorder.stop();
    const parsed = lines.map((l) => JSON.parse(l) as TraceLine);
    for (const line of parsed) expect(formatProblems(line as unknown as Record<string, unknown>)).toEqual([]);
    expect(parsed.map((l) => [l.session, l.tool])).toEqual([
      ['main', 'summarize'],
      ['main', 'getStatus'],
      ...Array.from({ length: 6 }, () => ['L', 'getStatus']),
    ]);
    expect(parsed.at(-1)!.error).toContain('loop detected');
  });

  it('stops recording on stop(), and recording changes no result', async () => {
    const double = AgentCache({ resource: 'n' })(async function double(n: number) {
      return n * 2;
    });
    const lines: string[] = [];
    const recorder = recordTrace({ write: (text: string) => lines.push(text) });
    expect(await double(2)).toBe(4);
    expect(await double(2)).toBe(4);
    await recorder.stop();
    expect(await double(3)).toBe(6);
    expect(lines).toHaveLength(2);
    await recorder.stop(); // idempotent
  });

  it('a destination that fails is reported once and never fails the agent', async () => {
    const { logger } = freshCache();
    const read = AgentCache({ resource: 'r' })(async function readThing(n: number) {
      return n;
    });
    const recorder = recordTrace({
      write() {
        throw new Error('disk full');
      },
    });
    expect(await read(1)).toBe(1);
    expect(await read(2)).toBe(2);
    await recorder.stop();
    expect(logger.messages.filter((m) => m.includes('recordTrace could not write'))).toHaveLength(1);
  });

  it('rejects a destination it cannot write to, naming it', () => {
    expect(() => recordTrace(42 as unknown as string)).toThrow(/recordTrace: the destination/);
  });
});
