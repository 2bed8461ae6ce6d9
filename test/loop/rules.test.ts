import { describe, expect, it } from 'vitest';
import { AgentCacheSession, invalidateResource } from '../../src/index.js';
import { readTool, recordingSession, writeTool } from './helpers.js';

describe('repeat', () => {
  it('the 6th identical call is a loop, cache hits included', async () => {
    const t = readTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async (s) => {
      for (let i = 0; i < 5; i++) await t.tool('T-100');
      expect(detections).toEqual([]);
      await t.tool('T-100');
      expect(s.getMetrics().hits).toBe(5); // calls 2..6 were hits: a stuck agent is served from the cache
    });
    expect(t.runs).toBe(1);
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({
      kind: 'repeat',
      toolName: t.tool.toolName,
      args: ['T-100'],
      count: 6,
    });
  });

  it('counts identical calls only: other arguments do not add up', async () => {
    const t = readTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      // Each id 5 times in a row (cycling through them in order would be a cycle of identical calls).
      for (const id of ['T-1', 'T-2', 'T-3', 'T-4']) for (let i = 0; i < 5; i++) await t.tool(id);
    });
    expect(detections).toEqual([]);
  });

  it('read → write → read is progress: a write to the resource resets the count', async () => {
    const get = readTool('ticket');
    const update = writeTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 5; i++) await get.tool('T-100');
        await update.tool('T-100', { note: `round ${round}` });
      }
    });
    expect(detections).toEqual([]);
  });

  it('a write to another resource does not reset it', async () => {
    const get = readTool('ticket');
    const other = writeTool('customer');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 3; i++) await get.tool('T-100');
      await other.tool('C-1');
      for (let i = 0; i < 3; i++) await get.tool('T-100');
    });
    expect(detections.map((d) => [d.kind, d.count])).toEqual([['repeat', 6]]);
  });

  it('invalidateResource and a global write made outside the session reset it too', async () => {
    const get = readTool('ticket');
    const update = writeTool('ticket');
    const { options, detections } = recordingSession();
    const session = new AgentCacheSession(options);
    for (let i = 0; i < 5; i++) await session.run(() => get.tool('T-1'));
    await invalidateResource('ticket'); // outside any session: e.g. a webhook
    for (let i = 0; i < 5; i++) await session.run(() => get.tool('T-1'));
    await update.tool('T-1', 'from a background job'); // another writer, outside the session
    for (let i = 0; i < 5; i++) await session.run(() => get.tool('T-1'));
    expect(detections).toEqual([]);
    await session.run(() => get.tool('T-1'));
    expect(detections.map((d) => d.kind)).toEqual(['repeat']);
    await session.end();
  });

  it('identical writes always count', async () => {
    const update = writeTool('ticket');
    const get = readTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 5; i++) {
        await update.tool('T-1', { status: 'closed' });
        await get.tool(`T-${i + 10}`); // unrelated reads in between change nothing
      }
      expect(detections).toEqual([]);
      await update.tool('T-1', { status: 'closed' });
    });
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({ kind: 'repeat', toolName: update.tool.toolName, count: 6 });
  });

  it('only counts calls within the last historyWindow calls', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession({ historyWindow: 10 });
    await AgentCacheSession.run(options, async () => {
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 3; i++) await get.tool('T-1');
        for (let i = 0; i < 8; i++) await get.tool(`other-${round}-${i}`);
      }
    });
    expect(detections).toEqual([]);
  });

  it('respects maxToolRepeats', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession({ maxToolRepeats: 2 });
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 3; i++) await get.tool('T-1');
    });
    expect(detections.map((d) => [d.kind, d.count])).toEqual([['repeat', 3]]);
  });

  it('parallel identical calls are coalesced and not a loop by themselves, unless over the limit', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async (s) => {
      await Promise.all([get.tool('T-1'), get.tool('T-1'), get.tool('T-1')]);
      expect(get.runs).toBe(1);
      expect(s.getMetrics().coalesced).toBe(2);
      expect(detections).toEqual([]);
      await Promise.all([get.tool('T-1'), get.tool('T-1'), get.tool('T-1')]);
    });
    expect(detections.map((d) => [d.kind, d.count])).toEqual([['repeat', 6]]);
  });
});

describe('oscillation', () => {
  it('A,B,A,B,A,B is a loop at the 6th call, with the cycle and its repetitions', async () => {
    const a = readTool('ticket', 'getTicket');
    const b = readTool('customer', 'getCustomer');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 2; i++) {
        await a.tool('T-1');
        await b.tool('C-1');
      }
      await a.tool('T-1');
      expect(detections).toEqual([]);
      await b.tool('C-1');
    });
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({
      kind: 'oscillation',
      toolName: b.tool.toolName,
      count: 3,
      cycle: [a.tool.toolName, b.tool.toolName],
    });
  });

  it('A,B,A,B,C,A,B is not a loop', async () => {
    const [a, b, c] = [readTool('x', 'a'), readTool('y', 'b'), readTool('z', 'c')];
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (const t of [a, b, a, b, c, a, b]) await t.tool('same');
    });
    expect(detections).toEqual([]);
  });

  it('the same tools with different arguments are not a cycle', async () => {
    const a = readTool('ticket', 'getTicket');
    const b = readTool('customer', 'getCustomer');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 10; i++) {
        await a.tool(`T-${i}`);
        await b.tool(`C-${i}`);
      }
    });
    expect(detections).toEqual([]);
  });

  it('finds cycles of period 3 to maxCyclePeriod, and not longer ones', async () => {
    for (const period of [3, 4, 5, 6]) {
      const tools = Array.from({ length: period }, (_, i) => readTool(`r${i}`, `step${i}`));
      const { options, detections } = recordingSession();
      await AgentCacheSession.run(options, async () => {
        for (let round = 0; round < 3; round++) for (const t of tools) await t.tool('x');
      });
      if (period <= 5) {
        expect(detections).toHaveLength(1);
        expect(detections[0]).toMatchObject({ kind: 'oscillation', count: 3 });
        expect(detections[0]!.cycle).toEqual(tools.map((t) => t.tool.toolName));
      } else {
        expect(detections).toEqual([]);
      }
    }
  });

  it('a read and a write in a cycle: writes that do not change anything (same arguments) loop too', async () => {
    const get = readTool('file', 'readFile');
    const put = writeTool('file', 'writeFile');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 3; i++) {
        await get.tool('src/a.ts');
        await put.tool('src/a.ts', 'same content');
      }
    });
    expect(detections.map((d) => d.kind)).toEqual(['oscillation']);
  });

  it('respects minCycleRepeats', async () => {
    const a = readTool('x', 'a');
    const b = readTool('y', 'b');
    const { options, detections } = recordingSession({ minCycleRepeats: 2 });
    await AgentCacheSession.run(options, async () => {
      for (const t of [a, b, a, b]) await t.tool(1);
    });
    expect(detections.map((d) => [d.kind, d.count])).toEqual([['oscillation', 2]]);
  });
});

describe('retry_storm', () => {
  it('after maxConsecutiveFailures failures of a tool (any arguments) its next call is a loop', async () => {
    const get = readTool('ticket');
    get.fail = true;
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (const id of ['T-1', 'T-2', 'T-3']) await expect(get.tool(id)).rejects.toThrow('failed');
      expect(detections).toEqual([]);
      await expect(get.tool('T-4')).rejects.toThrow('failed'); // warn mode: it still runs
    });
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({
      kind: 'retry_storm',
      toolName: get.tool.toolName,
      args: ['T-4'],
      count: 3,
    });
  });

  it('a success resets the count (a cache hit is a success too)', async () => {
    const get = readTool('ticket');
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      await get.tool('ok'); // cached
      get.fail = true;
      for (let round = 0; round < 3; round++) {
        await expect(get.tool(`bad-${round}-1`)).rejects.toThrow();
        await expect(get.tool(`bad-${round}-2`)).rejects.toThrow();
        await get.tool('ok'); // a hit: succeeds
      }
    });
    expect(detections).toEqual([]);
  });

  it('failures of one tool do not count for another', async () => {
    const a = readTool('x', 'a');
    const b = readTool('y', 'b');
    a.fail = true;
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 3; i++) await expect(a.tool(i)).rejects.toThrow();
      await b.tool(1);
    });
    expect(detections).toEqual([]);
  });

  it('a failed execution shared by coalesced callers is one failure', async () => {
    const get = readTool('ticket');
    get.fail = true;
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      const results = await Promise.allSettled([get.tool('T-1'), get.tool('T-1'), get.tool('T-1')]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(get.runs).toBe(1);
      await expect(get.tool('T-2')).rejects.toThrow();
    });
    expect(detections).toEqual([]);
  });

  it('counts failing writes, and calls whose arguments have no canonical form', async () => {
    const update = writeTool('ticket');
    update.fail = true;
    const get = readTool('ticket');
    get.fail = true;
    const { options, detections } = recordingSession();
    await AgentCacheSession.run(options, async () => {
      for (let i = 0; i < 4; i++) await expect(update.tool(i)).rejects.toThrow();
      for (let i = 0; i < 4; i++) await expect(get.tool(() => i)).rejects.toThrow(); // a function: uncacheable
    });
    expect(detections.map((d) => [d.kind, d.toolName])).toEqual([
      ['retry_storm', update.tool.toolName],
      ['retry_storm', get.tool.toolName],
    ]);
  });
});

describe('depth', () => {
  it('a tool recursing through wrapped tools is stopped past maxExecutionDepth', async () => {
    let executions = 0;
    const { AgentCache } = await import('../../src/index.js');
    const walk: (n: number) => Promise<number> = AgentCache({ resource: 'tree', name: 'walkTree' })(
      async (n: number): Promise<number> => {
        executions++;
        return 1 + (await walk(n + 1));
      },
    );
    const { options } = recordingSession({ maxExecutionDepth: 10, onLoop: 'raise' });
    const error = await AgentCacheSession.run(options, () => walk(0)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AgentLoopDetectedError', kind: 'depth', count: 11, args: [10] });
    expect(executions).toBe(10); // the 11th nested execution never started
  });

  it('tracks depth through async context: parallel chains do not add up', async () => {
    const { AgentCache } = await import('../../src/index.js');
    const chain: (branch: string, n: number) => Promise<number> = AgentCache({
      resource: 'c',
      name: 'chainStep',
    })(async (branch: string, n: number): Promise<number> => {
      await new Promise((r) => setTimeout(r, 1)); // interleave the branches
      return n === 0 ? 0 : 1 + (await chain(branch, n - 1));
    });
    const { options, detections } = recordingSession({ maxExecutionDepth: 8 });
    await AgentCacheSession.run(options, async () => {
      // 4 branches of 8 nested executions each: 32 executions in flight together, but none deeper than 8.
      const depths = await Promise.all(['a', 'b', 'c', 'd'].map((b) => chain(b, 7)));
      expect(depths).toEqual([7, 7, 7, 7]);
      expect(detections).toEqual([]);
      await chain('e', 8); // 9 deep
    });
    expect(detections.map((d) => [d.kind, d.count])).toEqual([['depth', 9]]);
  });

  it('calls made one after another in a tool do not nest', async () => {
    const leaf = readTool('leaf', 'leaf');
    const { AgentCache } = await import('../../src/index.js');
    const parent = AgentCache({ resource: 'p', name: 'parentTool' })(async () => {
      for (let i = 0; i < 5; i++) await leaf.tool(i);
      return 'done';
    });
    const { options, detections } = recordingSession({ maxExecutionDepth: 2 });
    await AgentCacheSession.run(options, () => parent());
    expect(detections).toEqual([]);
  });

  it('counts calls whose arguments have no canonical form', async () => {
    const { AgentCache } = await import('../../src/index.js');
    const deep: (f: () => number, n: number) => Promise<number> = AgentCache({
      resource: 'd',
      name: 'deepFn',
    })(async (f: () => number, n: number): Promise<number> => (n === 0 ? f() : deep(f, n - 1)));
    const { options, detections } = recordingSession({ maxExecutionDepth: 3 });
    await AgentCacheSession.run(options, () => deep(() => 1, 5));
    expect(detections.map((d) => [d.kind, d.count])).toEqual([
      ['depth', 4],
      ['depth', 5],
      ['depth', 6],
    ]);
  });
});

describe('which rule wins', () => {
  it('one detection per call: depth, then retry_storm, then oscillation, then repeat', async () => {
    const a = readTool('x', 'a');
    const b = readTool('y', 'b');
    const { options, detections } = recordingSession({ maxToolRepeats: 2 });
    await AgentCacheSession.run(options, async () => {
      for (const t of [a, b, a, b, a, b]) await t.tool(1);
    });
    // b's 3rd call is both a repeat (3 > 2) and the end of A,B ×3: reported once, as the oscillation.
    expect(detections.map((d) => d.kind)).toEqual(['repeat', 'oscillation']);
  });
});
