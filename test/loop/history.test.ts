import { describe, expect, it } from 'vitest';
import { AgentCacheSession } from '../../src/index.js';
import { readTool, recordingSession, writeTool } from './helpers.js';

describe('history', () => {
  it('end() clears the loop history', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession();
    const session = new AgentCacheSession(options);
    await session.run(async () => {
      for (let i = 0; i < 5; i++) await get.tool('T-1');
    });
    expect(session.loop?.historySize).toBe(5);
    await session.end();
    expect(session.loop?.historySize).toBe(0);
    expect(session.loop?.trackedEntries).toBe(0);
    const next = new AgentCacheSession({ ...options, sessionId: session.sessionId });
    await next.run(() => get.tool('T-1'));
    expect(detections).toEqual([]);
    await next.end();
  });

  it('run() may be called many times (one per turn): the history spans the turns', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession();
    const session = new AgentCacheSession(options);
    for (let turn = 0; turn < 6; turn++) await session.run(() => get.tool('T-1'));
    expect(detections.map((d) => d.kind)).toEqual(['repeat']);
    await session.end();
  });

  it('stays bounded by historyWindow however long the session', async () => {
    const get = readTool('ticket');
    const update = writeTool('ticket');
    const failing = readTool('flaky', 'flaky');
    failing.fail = true;
    const { options, detections } = recordingSession({
      historyWindow: 20,
      maxConsecutiveFailures: 1_000_000,
    });
    const session = new AgentCacheSession(options);
    await session.run(async () => {
      for (let i = 0; i < 5_000; i++) {
        await get.tool(`T-${i}`);
        if (i % 7 === 0) await update.tool(`T-${i}`, i);
        if (i % 11 === 0) await failing.tool(i).catch(() => undefined);
        expect(session.loop!.historySize).toBeLessThanOrEqual(20);
      }
    });
    expect(session.loop!.historySize).toBe(20);
    // Distinct calls, invalidation marks and failure runs: bounded by a constant times the window, not 5,000+.
    expect(session.loop!.trackedEntries).toBeLessThanOrEqual(256 + 20 + 3);
    expect(detections).toEqual([]);
    await session.end();
  });

  it('separate sessions keep separate histories', async () => {
    const get = readTool('ticket');
    const a = recordingSession();
    const b = recordingSession();
    const sa = new AgentCacheSession(a.options);
    const sb = new AgentCacheSession(b.options);
    for (let i = 0; i < 4; i++) {
      await sa.run(() => get.tool('T-1'));
      await sb.run(() => get.tool('T-1'));
    }
    expect([a.detections, b.detections]).toEqual([[], []]);
    await Promise.all([sa.end(), sb.end()]);
  });
});
