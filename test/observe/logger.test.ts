import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AgentCache,
  AgentCacheSession,
  AgentCacheTypeError,
  type Backend,
  configure,
  type Logger,
  MemoryBackend,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

/** A real pino logger writing JSON lines into memory. */
function pinoToMemory(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const failingBackend = (failure: Error): Backend =>
  Object.assign(new MemoryBackend(), {
    get() {
      throw failure;
    },
  });

afterEach(() => {
  freshCache();
  vi.restoreAllMocks();
});

describe('logger', () => {
  it('takes a pino logger: warnings at warn, backend failures at error with the error serialized', async () => {
    freshCache();
    const { logger, lines } = pinoToMemory();
    configure({ logger });
    const lookup = AgentCache({ resource: 'x' })(async function lookup(fn: () => number) {
      return fn();
    });
    await lookup(() => 1);
    const read = AgentCache({ resource: 'r', backend: failingBackend(new Error('disk gone')) })(
      async function readFile(p: string) {
        return p;
      },
    );
    await read('/a');
    const cartOutside = AgentCache({ resource: 'cart', scope: 'session' })(async function getCart() {
      return [];
    });
    await cartOutside();
    expect(lines.map((l) => [l.level, typeof l.msg])).toEqual([
      [40, 'string'],
      [50, 'string'],
      [40, 'string'],
    ]);
    expect(lines[0]!.msg).toContain('lookup runs uncached');
    expect(lines[1]!.msg).toContain('backend failed for readFile');
    expect(lines[1]!.err).toMatchObject({ type: 'Error', message: 'disk gone' });
    expect(String((lines[1]!.err as { stack: string }).stack)).toContain('disk gone');
    expect(lines[2]!.msg).toContain('getCart is session-scoped but was called outside any AgentCacheSession');
  });

  it("passes a loop detection to pino as fields, and logs a session's summary at debug when pino's level allows", async () => {
    freshCache();
    const { logger, lines } = pinoToMemory('debug');
    const get = AgentCache({ resource: 't' })(async function getStatus(id: string) {
      return id;
    });
    await AgentCacheSession.run(
      { sessionId: 'agent-7', loopDetection: true, onLoop: 'warn', logger },
      async () => {
        for (let i = 0; i < 6; i++) await get('job');
      },
    );
    const loop = lines.find((l) => l.level === 40)!;
    expect(loop.msg).toContain('getStatus called 6 times');
    expect(loop.details).toMatchObject({
      kind: 'repeat',
      toolName: 'getStatus',
      sessionId: 'agent-7',
      count: 6,
    });
    const summary = lines.find((l) => l.level === 20)!;
    expect(summary.msg).toContain('session "agent-7" ended: 5 hits, 1 misses');
    expect(summary.details).toMatchObject({ sessionId: 'agent-7', hits: 5, misses: 1 });

    const quiet = pinoToMemory('info');
    await AgentCacheSession.run({ logger: quiet.logger }, () => get('job'));
    expect(quiet.lines).toEqual([]);
  });

  it('takes console: message first, then the error', async () => {
    freshCache();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    configure({ logger: console });
    const failure = new Error('redis down');
    const read = AgentCache({ resource: 'r', backend: failingBackend(failure) })(async function fetchDoc() {
      return 1;
    });
    await read();
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]![0]).toContain('backend failed for fetchDoc');
    expect(error.mock.calls[0]![1]).toBe(failure);
    expect(warn).not.toHaveBeenCalled();
    // console has no level filter: routine detail (session summaries) stays out of it.
    await AgentCacheSession.run({}, () => read());
    expect(debug).not.toHaveBeenCalled();
  });

  it('takes any { debug, info, warn, error }, and an object with only warn (errors fall back to it)', async () => {
    freshCache();
    const calls: [string, string][] = [];
    const full: Logger = {
      debug: (m) => calls.push(['debug', m]),
      info: (m) => calls.push(['info', m]),
      warn: (m) => calls.push(['warn', m]),
      error: (m) => calls.push(['error', m]),
    };
    const read = AgentCache({ resource: 'r', backend: failingBackend(new Error('x')) })(
      async function getRow() {
        return 1;
      },
    );
    await AgentCacheSession.run({ logger: full, sessionId: 's' }, () => read());
    expect(calls.map(([level]) => level)).toEqual(['error', 'debug']);
    expect(calls[1]![1]).toContain('session "s" ended');

    const warnings: string[] = [];
    configure({ logger: { warn: (m: string) => warnings.push(m) } });
    const read2 = AgentCache({ resource: 'r', backend: failingBackend(new Error('y')) })(
      async function getRow2() {
        return 1;
      },
    );
    await read2();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('backend failed for getRow2');
  });

  it('rejects a logger without warn, naming the option', () => {
    expect(() => configure({ logger: {} as Logger })).toThrow(AgentCacheTypeError);
    expect(() => configure({ logger: {} as Logger })).toThrow(/configure: option `logger`/);
    expect(() => new AgentCacheSession({ logger: { info() {} } as unknown as Logger })).toThrow(
      /AgentCacheSession: option `logger`/,
    );
  });
});
