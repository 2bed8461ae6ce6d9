import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheSession,
  AgentCacheSessionEndedError,
  getMetrics,
  type MemoryBackend,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

describe('AgentCacheSession', () => {
  let backend: MemoryBackend;
  let calls: number;
  let getTicket: (id: string) => Promise<string>;

  beforeEach(() => {
    ({ backend } = freshCache());
    calls = 0;
    getTicket = AgentCache({ resource: 'ticket', scope: 'session' })(async function getTicket(id: string) {
      calls++;
      return `${id}#${calls}`;
    });
  });

  it('scopes entries to the session and follows awaits, timers and Promise.all', async () => {
    const session = new AgentCacheSession({ sessionId: 'agent-A' });
    await session.run(async () => {
      expect(AgentCacheSession.current()).toBe(session);
      await getTicket('T-100');
      await sleep(1);
      await new Promise<void>((resolve) => {
        setTimeout(() => {
          expect(AgentCacheSession.current()).toBe(session);
          getTicket('T-100').then(() => resolve());
        }, 1);
      });
      await Promise.all([getTicket('T-100'), getTicket('T-100')]);
    });
    expect(calls).toBe(1);
    expect(session.getMetrics()).toMatchObject({ hits: 3, misses: 1 });
    expect(AgentCacheSession.current()).toBeUndefined();
  });

  it('keeps its cache across many run calls (one per agent turn)', async () => {
    const session = new AgentCacheSession();
    for (let turn = 0; turn < 5; turn++) await session.run(() => getTicket('T-1'));
    expect(calls).toBe(1);
    expect(session.getMetrics().tools.getTicket).toMatchObject({ hits: 4, misses: 1 });
  });

  it('two sessions never share session-scoped entries', async () => {
    const a = new AgentCacheSession({ sessionId: 'A' });
    const b = new AgentCacheSession({ sessionId: 'B' });
    expect(await a.run(() => getTicket('T-1'))).toBe('T-1#1');
    expect(await b.run(() => getTicket('T-1'))).toBe('T-1#2');
    expect(await a.run(() => getTicket('T-1'))).toBe('T-1#1');
  });

  it('ids and arguments containing separators cannot make two sessions share an entry', async () => {
    const tool = AgentCache({ scope: 'session' })(async function sep(...args: string[]) {
      calls++;
      return args.join('|');
    });
    // Every (sessionId, args) pair below would collide under naive `${sessionId}:${args.join(':')}` keys.
    const cases: [string, string[]][] = [
      ['a:b', ['c']],
      ['a', ['b:c']],
      ['a"', ['"b']],
      ['a', ['"', 'b']],
      ['s"g', []],
      ['s', ['g']],
    ];
    for (const [id, args] of cases) await new AgentCacheSession({ sessionId: id }).run(() => tool(...args));
    expect(calls).toBe(cases.length);
  });

  it('a session-scoped tool outside any session runs uncached and stores nothing', async () => {
    await getTicket('T-1');
    await getTicket('T-1');
    expect(calls).toBe(2);
    expect(backend.size).toBe(0);
    expect(getMetrics().bypassed).toBe(2);
  });

  it('global-scope tools inside a session share the global cache and count in the session metrics', async () => {
    let n = 0;
    const shared = AgentCache()(async function sharedDoc() {
      return ++n;
    });
    await shared();
    const session = new AgentCacheSession();
    expect(await session.run(() => shared())).toBe(1);
    expect(session.getMetrics()).toMatchObject({ hits: 1, misses: 0 });
    expect(getMetrics()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('end() clears the session entries and leaves no memory behind; it is idempotent', async () => {
    const session = new AgentCacheSession();
    await session.run(async () => {
      for (let i = 0; i < 20; i++) await getTicket(`T-${i}`);
    });
    expect(backend.size).toBe(20);
    expect(backend.sessionCount).toBe(1);
    await session.end();
    await session.end();
    expect(session.ended).toBe(true);
    expect(backend.size).toBe(0);
    expect(backend.sessionCount).toBe(0);
  });

  it('many sessions that ended hold nothing (no leak)', async () => {
    for (let i = 0; i < 200; i++) {
      await AgentCacheSession.run({}, async () => {
        await getTicket('T-1');
        await getTicket('T-2');
      });
    }
    expect(backend.size).toBe(0);
    expect(backend.sessionCount).toBe(0);
  });

  it('an ended session can be garbage collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'tests run with --expose-gc').toBeTypeOf('function');
    let ref: WeakRef<AgentCacheSession> | undefined;
    await (async () => {
      const session = new AgentCacheSession();
      ref = new WeakRef(session);
      await session.run(() => getTicket('T-9'));
      await session.end();
    })();
    for (let i = 0; i < 10 && ref?.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc!();
    }
    expect(ref?.deref()).toBeUndefined();
  });

  it('run after end rejects with AgentCacheSessionEndedError', async () => {
    const session = new AgentCacheSession({ sessionId: 'done' });
    await session.end();
    await expect(session.run(() => 1)).rejects.toBeInstanceOf(AgentCacheSessionEndedError);
    await expect(session.run(() => 1)).rejects.toThrow(/done/);
  });

  it('a result that lands after end() is not stored into the ended session', async () => {
    const session = new AgentCacheSession();
    let release!: () => void;
    const slow = AgentCache({ scope: 'session' })(async function slowSessionRead() {
      await new Promise<void>((r) => {
        release = r;
      });
      return 'late';
    });
    const pending = session.run(() => slow());
    await new Promise((r) => setImmediate(r));
    await session.end();
    release();
    expect(await pending).toBe('late');
    expect(backend.size).toBe(0);
  });

  it('Symbol.asyncDispose ends the session', async () => {
    let outer: AgentCacheSession | undefined;
    {
      await using s = new AgentCacheSession();
      outer = s;
      await s.run(() => getTicket('T-1'));
      expect(backend.size).toBe(1);
    }
    expect(outer.ended).toBe(true);
    expect(backend.size).toBe(0);
  });

  it('AgentCacheSession.run creates, runs and ends (also when the function throws)', async () => {
    let seen: AgentCacheSession | undefined;
    await expect(
      AgentCacheSession.run({ sessionId: 'agent-B' }, async (s) => {
        seen = s;
        await getTicket('T-1');
        throw new Error('agent crashed');
      }),
    ).rejects.toThrow('agent crashed');
    expect(seen?.sessionId).toBe('agent-B');
    expect(seen?.ended).toBe(true);
    expect(backend.size).toBe(0);
  });

  it('a nested run of another session makes the inner one active for its duration', async () => {
    const outer = new AgentCacheSession({ sessionId: 'outer' });
    const inner = new AgentCacheSession({ sessionId: 'inner' });
    await outer.run(async () => {
      await getTicket('T-1');
      await inner.run(async () => {
        expect(AgentCacheSession.current()).toBe(inner);
        await getTicket('T-1');
      });
      expect(AgentCacheSession.current()).toBe(outer);
      await getTicket('T-1');
    });
    expect(calls).toBe(2);
    expect(outer.getMetrics()).toMatchObject({ hits: 1, misses: 1 });
    expect(inner.getMetrics()).toMatchObject({ hits: 0, misses: 1 });
  });

  it('defaults the session id to a random UUID', () => {
    const a = new AgentCacheSession();
    const b = new AgentCacheSession();
    expect(a.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.sessionId).not.toBe(b.sessionId);
  });
});
