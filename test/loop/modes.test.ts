import { describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheSession,
  AgentLoopDetectedError,
  getMetrics,
  type LoopDetection,
  type LoopMode,
} from '../../src/index.js';
import { readTool, recordingLogger, rejection, uniqueName, writeTool } from './helpers.js';

describe("onLoop: 'raise' (the default)", () => {
  it('throws AgentLoopDetectedError with its documented fields, before the tool runs', async () => {
    const get = readTool('ticket');
    get.fail = false;
    const session = new AgentCacheSession({ sessionId: 'agent-A', loopDetection: true });
    await session.run(async () => {
      for (let i = 0; i < 5; i++) await get.tool('T-100');
    });
    get.runs = 0;
    // Make the 6th a miss, so a tool that ran would be visible.
    await get.tool.invalidate('T-100');
    const error = await rejection(() => session.run(() => get.tool('T-100')));
    expect(error).toBeInstanceOf(AgentLoopDetectedError);
    expect(error).toBeInstanceOf(Error);
    const e = error as AgentLoopDetectedError;
    expect(e.name).toBe('AgentLoopDetectedError');
    expect([e.kind, e.toolName, e.args, e.sessionId, e.count]).toEqual([
      'repeat',
      get.tool.toolName,
      ['T-100'],
      'agent-A',
      6,
    ]);
    expect(e.cycle).toBeUndefined();
    expect(e.message).toContain(get.tool.toolName);
    expect(get.runs).toBe(0);
    await session.end();
  });

  it('carries the cycle for oscillations', async () => {
    const a = readTool('x', 'searchDocs');
    const b = readTool('y', 'openDoc');
    const error = await rejection(() =>
      AgentCacheSession.run({ loopDetection: true }, async () => {
        for (let i = 0; i < 3; i++) {
          await a.tool('refund policy');
          await b.tool('doc-7');
        }
      }),
    );
    expect(error).toMatchObject({ kind: 'oscillation', count: 3, cycle: [a.tool.toolName, b.tool.toolName] });
    expect(b.runs).toBe(1);
  });

  it('a raised write does not run and does not invalidate', async () => {
    const update = writeTool('ticket');
    const get = readTool('ticket');
    await AgentCacheSession.run({ loopDetection: true }, async () => {
      for (let i = 0; i < 5; i++) await update.tool('T-1', { status: 'closed' });
      await get.tool('T-1');
      await expect(update.tool('T-1', { status: 'closed' })).rejects.toBeInstanceOf(AgentLoopDetectedError);
      expect(update.runs).toBe(5);
      await get.tool('T-1');
      expect(get.runs).toBe(1); // still a hit: nothing was invalidated
    });
  });

  it('a detected call stays in the history: a stuck agent keeps being stopped', async () => {
    const get = readTool('ticket');
    await AgentCacheSession.run({ loopDetection: true }, async () => {
      for (let i = 0; i < 5; i++) await get.tool('T-1');
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const e = (await rejection(() => get.tool('T-1'))) as AgentLoopDetectedError;
        counts.push(e.count);
      }
      expect(counts).toEqual([6, 7, 8]);
    });
  });
});

describe("onLoop: 'warn'", () => {
  it('logs through the session logger and runs the call normally', async () => {
    const get = readTool('ticket');
    const logger = recordingLogger();
    await AgentCacheSession.run({ loopDetection: true, onLoop: 'warn', logger }, async () => {
      for (let i = 0; i < 5; i++) await get.tool('T-1');
      await get.tool.invalidate('T-1');
      expect(await get.tool('T-1')).toEqual({ id: 'T-1', version: 2 });
    });
    expect(get.runs).toBe(2);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/loop detected.*called 6 times with the same arguments/);
  });
});

describe("onLoop: 'short_circuit'", () => {
  it('returns the stored value without running the tool', async () => {
    const get = readTool('ticket');
    await AgentCacheSession.run({ loopDetection: true, onLoop: 'short_circuit' }, async () => {
      for (let i = 0; i < 5; i++) await get.tool('T-1');
      expect(await get.tool('T-1')).toEqual({ id: 'T-1', version: 1 });
    });
    expect(get.runs).toBe(1);
  });

  it('returns an expired value too', async () => {
    let runs = 0;
    const get = AgentCache({ resource: 'ticket', ttl: 1, name: uniqueName('getTicket') })(
      async (id: string) => ({
        id,
        run: ++runs,
      }),
    );
    await AgentCacheSession.run(
      { loopDetection: true, onLoop: 'short_circuit', maxToolRepeats: 1 },
      async () => {
        await get('T-1');
        await new Promise((r) => setTimeout(r, 20)); // let the entry expire
        expect(await get('T-1')).toEqual({ id: 'T-1', run: 1 });
      },
    );
    expect(runs).toBe(1);
  });

  it('returns a value a write has made stale', async () => {
    const get = readTool('ticket');
    const update = writeTool('ticket');
    await AgentCacheSession.run({ loopDetection: true, onLoop: 'short_circuit' }, async () => {
      expect(await get.tool('T-1')).toEqual({ id: 'T-1', version: 1 });
      await update.tool('T-1', 'reopen'); // T-1's entry is stale from now on
      get.fail = true;
      for (const id of ['T-2', 'T-3', 'T-4']) await expect(get.tool(id)).rejects.toThrow();
      // A retry storm: the tool does not run, and the stale entry is the answer.
      expect(await get.tool('T-1')).toEqual({ id: 'T-1', version: 1 });
    });
    expect(get.runs).toBe(4);
  });

  it('returns undefined when nothing is stored, and for a write (which does not run)', async () => {
    const get = readTool('ticket');
    get.fail = true;
    const update = writeTool('ticket');
    await AgentCacheSession.run({ loopDetection: true, onLoop: 'short_circuit' }, async () => {
      for (let i = 0; i < 3; i++) await expect(get.tool(`T-${i}`)).rejects.toThrow();
      expect(await get.tool('T-9')).toBeUndefined(); // retry storm: nothing stored for T-9
      for (let i = 0; i < 5; i++) await update.tool('T-1', 'same');
      expect(await update.tool('T-1', 'same')).toBeUndefined();
    });
    expect(get.runs).toBe(3);
    expect(update.runs).toBe(5);
  });
});

describe('onLoop as a function', () => {
  it('decides per detection, and receives the detection', async () => {
    const a = readTool('x', 'a');
    const b = readTool('y', 'b');
    const seen: LoopDetection[] = [];
    const onLoop = (d: LoopDetection): LoopMode => {
      seen.push(d);
      return d.kind === 'oscillation' ? 'raise' : 'short_circuit';
    };
    const session = new AgentCacheSession({ sessionId: 'handler', loopDetection: true, onLoop });
    await session.run(async () => {
      for (let i = 0; i < 6; i++) await a.tool(1); // 6th: repeat → short_circuit (stored value)
      expect(a.runs).toBe(1);
      for (let i = 0; i < 2; i++) {
        await b.tool(1);
        await b.tool(2);
      }
      await b.tool(1);
      await expect(b.tool(2)).rejects.toMatchObject({ kind: 'oscillation' });
    });
    expect(seen.map((d) => [d.kind, d.sessionId])).toEqual([
      ['repeat', 'handler'],
      ['oscillation', 'handler'],
    ]);
    await session.end();
  });

  it('raises, with a warning, when the handler throws or returns something else', async () => {
    const get = readTool('ticket');
    const logger = recordingLogger();
    for (const onLoop of [
      () => {
        throw new Error('boom');
      },
      () => 'ignore' as unknown as LoopMode,
    ]) {
      await AgentCacheSession.run({ loopDetection: true, onLoop, logger, maxToolRepeats: 1 }, async () => {
        await get.tool('T-1');
        await expect(get.tool('T-1')).rejects.toBeInstanceOf(AgentLoopDetectedError);
      });
    }
    expect(logger.messages).toHaveLength(2);
  });
});

describe('loopDetections metric', () => {
  it('counts every detection in every mode, per session, per tool and globally', async () => {
    const get = readTool('ticket');
    const before = getMetrics().loopDetections;
    for (const onLoop of ['raise', 'warn', 'short_circuit'] as const) {
      const s = new AgentCacheSession({ loopDetection: true, onLoop, logger: recordingLogger() });
      await s.run(async () => {
        for (let i = 0; i < 7; i++) await get.tool('T-1').catch(() => undefined);
      });
      expect(s.getMetrics().loopDetections).toBe(2);
      expect(s.getMetrics().tools[get.tool.toolName]?.loopDetections).toBe(2);
      await s.end();
    }
    expect(getMetrics().loopDetections - before).toBe(6);
    expect(getMetrics().tools[get.tool.toolName]?.loopDetections).toBe(6);
  });

  it('stays 0 without loopDetection, and outside sessions', async () => {
    const get = readTool('ticket');
    await AgentCacheSession.run({}, async (s) => {
      for (let i = 0; i < 20; i++) await get.tool('T-1');
      expect(s.getMetrics().loopDetections).toBe(0);
      expect(s.loop).toBeUndefined();
    });
    for (let i = 0; i < 20; i++) await get.tool('T-1');
    expect(getMetrics().tools[get.tool.toolName]?.loopDetections).toBe(0);
  });
});
