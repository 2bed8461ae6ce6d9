import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  AgentCache,
  AgentCacheSession,
  AgentLoopDetectedError,
  getMetrics,
  invalidateResource,
} from 'agent-cache';
import { cacheMcpClient } from 'agent-cache/mcp';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { freshCache } from '../../helpers/fresh.js';
import { type FileServer, fileServer, textOf } from './server.js';

let files: FileServer;
let logger: ReturnType<typeof freshCache>['logger'];
beforeEach(async () => {
  logger = freshCache().logger;
  files = await fileServer();
});
afterEach(() => files.close());

describe('cacheMcpClient: tools listed in `tools`', () => {
  it('a read runs once on the server; the arguments, not their key order, are the key', async () => {
    const mcp = cacheMcpClient(files.client, {
      tools: { read_file: { resource: (args) => `file:${String(args.path)}`, ttl: '1m' } },
    });
    const first = await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    const second = await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    expect(textOf(first)).toBe('files:alpha');
    expect(second).toEqual(first);
    expect(files.runs.read_file).toBe(1);
    await mcp.callTool({ name: 'read_file', arguments: { path: 'b.txt' } });
    expect(files.runs.read_file).toBe(2);
    expect(getMetrics().tools['files:read_file']).toMatchObject({ hits: 1, misses: 2 });
  });

  it('identical concurrent calls reach the server once', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { read_file: {} } });
    const results = await Promise.all(
      [1, 2, 3].map(() => mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } })),
    );
    expect(results.map(textOf)).toEqual(['files:alpha', 'files:alpha', 'files:alpha']);
    expect(files.runs.read_file).toBe(1);
  });

  it('a write runs every time and makes the reads it affects run again', async () => {
    const mcp = cacheMcpClient(files.client, {
      tools: {
        read_file: { resource: (args) => `file:${String(args.path)}` },
        list_files: { resource: 'file-list' },
        delete_file: { invalidates: (args) => [`file:${String(args.path)}`, 'file-list'] },
      },
    });
    await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    await mcp.callTool({ name: 'list_files' });
    const deleted = await mcp.callTool({ name: 'delete_file', arguments: { path: 'a.txt' } });
    expect(textOf(deleted)).toBe('deleted a.txt');
    // A second delete reaches the server: writes are never cached.
    expect(textOf(await mcp.callTool({ name: 'delete_file', arguments: { path: 'a.txt' } }))).toBe(
      'no such file: a.txt',
    );
    expect(files.runs.delete_file).toBe(2);
    expect(textOf(await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } }))).toBe(
      'no such file: a.txt',
    );
    expect(textOf(await mcp.callTool({ name: 'list_files' }))).toBe('');
    expect(files.runs).toMatchObject({ read_file: 2, list_files: 2 });
  });

  it('a resource invalidated anywhere in the process reaches MCP reads', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { list_files: { resource: 'file-list' } } });
    await mcp.callTool({ name: 'list_files' });
    await invalidateResource('file-list');
    await mcp.callTool({ name: 'list_files' });
    expect(files.runs.list_files).toBe(2);
  });

  it('an isError result is returned, never stored; a thrown error is never stored', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { read_file: {}, flaky_search: {}, nope: {} } });
    const missing = await mcp.callTool({ name: 'read_file', arguments: { path: 'zzz' } });
    expect(missing.isError).toBe(true);
    await mcp.callTool({ name: 'read_file', arguments: { path: 'zzz' } });
    expect(files.runs.read_file).toBe(2);
    // A handler that throws: the SDK server turns it into an isError result.
    const failed = await mcp.callTool({ name: 'flaky_search', arguments: { q: 'x' } });
    expect(failed).toMatchObject({ isError: true });
    expect(textOf(failed)).toMatch(/search backend down/);
    await mcp.callTool({ name: 'flaky_search', arguments: { q: 'x' } });
    expect(files.runs.flaky_search).toBe(2);
    expect(getMetrics().tools['files:flaky_search']).toMatchObject({ hits: 0, errors: 2 });
    // An unknown tool: the server's answer (an error result or a protocol error) is never stored either.
    const outcome = () =>
      mcp.callTool({ name: 'nope', arguments: {} }).then(
        (r) => ({ isError: r.isError }),
        (e: Error) => ({ thrown: e.message }),
      );
    const a = await outcome();
    const b = await outcome();
    expect(a).toEqual(b);
    expect(getMetrics().tools['files:nope']).toMatchObject({ hits: 0, errors: 2 });
  });

  it('request options never make a call uncached and are not key material', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { slow_count: {} } });
    const progress: number[] = [];
    const first = await mcp.callTool({ name: 'slow_count', arguments: { n: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
      timeout: 5_000,
      signal: new AbortController().signal,
    });
    expect(textOf(first)).toBe('counted to 3');
    expect(progress).toEqual([1, 2, 3]); // the progress of the execution reaches its caller
    const second = await mcp.callTool(
      { name: 'slow_count', arguments: { n: 3 }, _meta: { trace: 'x' } },
      undefined,
      { onprogress: () => {}, timeout: 10 },
    );
    expect(second).toEqual(first);
    expect(files.runs.slow_count).toBe(1);
    expect(getMetrics().tools['files:slow_count']).toMatchObject({ hits: 1, misses: 1, bypassed: 0 });
  });

  it('an aborted signal rejects its caller only; the shared request runs on and is stored', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { slow_count: {} } });
    const aborted = new AbortController();
    aborted.abort(new Error('user cancelled'));
    await expect(
      mcp.callTool({ name: 'slow_count', arguments: { n: 1 } }, undefined, { signal: aborted.signal }),
    ).rejects.toThrow('user cancelled');
    expect(files.runs.slow_count).toBeUndefined();

    const controller = new AbortController();
    const leader = mcp.callTool({ name: 'slow_count', arguments: { n: 2 } }, undefined, {
      signal: controller.signal,
    });
    const joiner = mcp.callTool({ name: 'slow_count', arguments: { n: 2 } });
    controller.abort(new Error('leader gave up'));
    await expect(leader).rejects.toThrow('leader gave up');
    expect(textOf(await joiner)).toBe('counted to 2');
    expect(textOf(await mcp.callTool({ name: 'slow_count', arguments: { n: 2 } }))).toBe('counted to 2');
    expect(files.runs.slow_count).toBe(1);
  });

  it('`false` and unlisted tools run every time; names are not checked against the server', async () => {
    const mcp = cacheMcpClient(files.client, {
      tools: { list_files: false, not_on_this_server: { resource: 'x' } },
    });
    const bypasses: unknown[] = [];
    const onBypass = (message: unknown) => bypasses.push(message);
    subscribe('agent-cache:bypass', onBypass);
    try {
      await mcp.callTool({ name: 'list_files' });
      await mcp.callTool({ name: 'list_files' });
      await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    } finally {
      unsubscribe('agent-cache:bypass', onBypass);
    }
    expect(files.runs).toMatchObject({ list_files: 2, read_file: 2 });
    expect(bypasses).toHaveLength(4);
    expect(bypasses[0]).toMatchObject({ tool: 'files:list_files', reason: 'not-cached' });
    expect(getMetrics().tools['files:read_file']).toMatchObject({ hits: 0, misses: 0, bypassed: 2 });
  });

  it('two servers’ tools of one name never share entries; `server` names a server', async () => {
    const other = await fileServer('backup', new Map([['a.txt', 'old alpha']]));
    try {
      const a = cacheMcpClient(files.client, { tools: { read_file: {} } });
      const b = cacheMcpClient(other.client, { tools: { read_file: {} } });
      expect(textOf(await a.callTool({ name: 'read_file', arguments: { path: 'a.txt' } }))).toBe(
        'files:alpha',
      );
      expect(textOf(await b.callTool({ name: 'read_file', arguments: { path: 'a.txt' } }))).toBe(
        'backup:old alpha',
      );
      const named = cacheMcpClient(other.client, { tools: { read_file: {} }, server: 'archive' });
      await named.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      expect(other.runs.read_file).toBe(2);
      const tools = getMetrics().tools;
      for (const name of ['archive:read_file', 'backup:read_file', 'files:read_file']) {
        expect(tools[name]).toMatchObject({ misses: 1 });
      }
    } finally {
      await other.close();
    }
  });

  it('per-session isolation: a session-scoped tool keeps each session’s entries apart', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { read_file: { scope: 'session' } } });
    const read = () => mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    await AgentCacheSession.run({ sessionId: 'A' }, async () => {
      await read();
      await read();
    });
    await AgentCacheSession.run({ sessionId: 'B' }, () => read());
    await read(); // outside any session: runs uncached
    expect(files.runs.read_file).toBe(3);
    expect(getMetrics().tools['files:read_file']).toMatchObject({ hits: 1, misses: 2, bypassed: 1 });
  });
});

describe('cacheMcpClient: trustAnnotations', () => {
  it('readOnlyHint tools are reads of mcp:<server>; every other tool is a write that invalidates it', async () => {
    const mcp = cacheMcpClient(files.client, { trustAnnotations: true, defaultTtl: '5m' });
    const list = () => mcp.callTool({ name: 'list_files' });
    await list();
    await list();
    expect(files.runs.list_files).toBe(1);
    // write_file has no annotations at all: a write.
    await mcp.callTool({ name: 'write_file', arguments: { path: 'b.txt', content: 'beta' } });
    await mcp.callTool({ name: 'write_file', arguments: { path: 'b.txt', content: 'beta' } });
    expect(files.runs.write_file).toBe(2);
    expect(textOf(await list())).toBe('a.txt,b.txt');
    // delete_file is destructive: a write too.
    await mcp.callTool({ name: 'delete_file', arguments: { path: 'a.txt' } });
    expect(textOf(await list())).toBe('b.txt');
    expect(files.runs.list_files).toBe(3);
    await invalidateResource('mcp:files');
    await list();
    expect(files.runs.list_files).toBe(4);
  });

  it('explicit specs win, and with trust every read of the server also carries mcp:<server>', async () => {
    const mcp = cacheMcpClient(files.client, {
      trustAnnotations: true,
      tools: { read_file: { resource: 'content' }, list_files: false },
    });
    await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    await mcp.callTool({ name: 'list_files' });
    await mcp.callTool({ name: 'list_files' });
    expect(files.runs.list_files).toBe(2); // false: never cached, even though it is read-only
    await mcp.callTool({ name: 'write_file', arguments: { path: 'a.txt', content: 'changed' } });
    expect(textOf(await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } }))).toBe(
      'files:changed',
    );
  });

  it('without trust, annotations are ignored: read-only tools not in `tools` run uncached', async () => {
    const mcp = cacheMcpClient(files.client);
    await mcp.callTool({ name: 'list_files' });
    await mcp.callTool({ name: 'list_files' });
    expect(files.runs.list_files).toBe(2);
  });

  it('lists every page once for many concurrent first calls, and uses what the user lists', async () => {
    let lists = 0;
    const counting = new Proxy(files.client, {
      get(target, p) {
        if (p === 'listTools') {
          return (...a: Parameters<Client['listTools']>) => {
            lists++;
            return target.listTools(...a);
          };
        }
        const v = Reflect.get(target, p, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const mcp = cacheMcpClient(counting, { trustAnnotations: true });
    await Promise.all([1, 2, 3].map(() => mcp.callTool({ name: 'list_files' })));
    expect(lists).toBe(1);
    expect(files.runs.list_files).toBe(1);
    const listed = await mcp.listTools();
    expect(listed.tools.map((t) => t.name)).toContain('read_file');
    expect(lists).toBe(2);
    await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    expect(lists).toBe(2); // already known
  });
});

describe('cacheMcpClient: the client as before', () => {
  it('every other method is the client’s own, and it is still a Client', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { read_file: {} } });
    expect(mcp).toBeInstanceOf(Client);
    expect(mcp.getServerVersion()).toEqual({ name: 'files', version: '1.0.0' });
    expect(await mcp.ping()).toEqual({});
    expect(mcp.callTool).toBe(mcp.callTool);
    expect(mcp.getServerVersion).toBe(mcp.getServerVersion);
  });

  it('keeps the client’s types (checked by the type check)', async () => {
    const mcp = cacheMcpClient(files.client, {
      tools: {
        read_file: {
          resource: (args) => `file:${String(args.path)}`,
          shouldCache: (r) => r.content.length > 0,
        },
      },
    });
    expectTypeOf(mcp).toEqualTypeOf<Client>();
    expectTypeOf(mcp.callTool).toEqualTypeOf<Client['callTool']>();
    expectTypeOf(mcp.listTools).toEqualTypeOf<Client['listTools']>();
    const result = await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
    expectTypeOf(result).toEqualTypeOf<Awaited<ReturnType<Client['callTool']>>>();
    expect(textOf(result)).toBe('files:alpha');
  });

  it('bad options are TypeErrors naming what is wrong', () => {
    expect(() => cacheMcpClient({} as Client)).toThrow(TypeError);
    expect(() =>
      cacheMcpClient(files.client, { tools: { delete_file: { invalidate: 'x' } as never } }),
    ).toThrow(/tools\.delete_file: unknown option `invalidate`/);
    expect(() => cacheMcpClient(files.client, { tools: { read_file: { ttl: 'soon' as never } } })).toThrow(
      /tools\.read_file.*ttl/,
    );
    expect(() => cacheMcpClient(files.client, { server: '' })).toThrow(/server/);
  });

  it('a client not yet connected is passed through (its own error)', async () => {
    const unconnected = new Client({ name: 'c', version: '1' });
    const mcp = cacheMcpClient(unconnected, { tools: { read_file: {} } });
    await expect(mcp.callTool({ name: 'read_file', arguments: {} })).rejects.toThrow(/Not connected/);
  });
});

describe('cacheMcpClient inside an agent run', () => {
  it('loop detection sees cached and uncached MCP calls', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { read_file: {} } });
    const stuck = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 3 });
    await expect(
      stuck.run(async () => {
        for (let i = 0; i < 10; i++) await mcp.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      }),
    ).rejects.toBeInstanceOf(AgentLoopDetectedError);
    expect(files.runs.read_file).toBe(1);
    const uncached = new AgentCacheSession({ loopDetection: true, maxToolRepeats: 3 });
    const error = await uncached
      .run(async () => {
        for (let i = 0; i < 10; i++) await mcp.callTool({ name: 'list_files' });
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'repeat', toolName: 'files:list_files', args: [{}] });
    expect(files.runs.list_files).toBe(3);
  });

  it('a failing tool stops as a retry storm (isError results count as failures)', async () => {
    const mcp = cacheMcpClient(files.client, { tools: { flaky_search: {} } });
    const session = new AgentCacheSession({ loopDetection: true });
    const error = await session
      .run(async () => {
        for (let i = 0; i < 10; i++)
          await mcp.callTool({ name: 'flaky_search', arguments: { q: String(i) } });
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'retry_storm', toolName: 'files:flaky_search' });
    expect(files.runs.flaky_search).toBe(3);
  });
});

describe('wrapping MCP clients and the core’s warnings', () => {
  it('wrapping the same client twice is silent; a second client of the same server warns once', async () => {
    const one = await fileServer('twins');
    const twin = await fileServer('twins');
    try {
      const first = cacheMcpClient(one.client, { tools: { read_file: {} } });
      const again = cacheMcpClient(one.client, { tools: { read_file: {} } });
      await first.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      await again.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      expect(logger.messages).toEqual([]);
      const other = cacheMcpClient(twin.client, { tools: { read_file: {} } });
      await other.callTool({ name: 'read_file', arguments: { path: 'a.txt' } });
      await other.callTool({ name: 'read_file', arguments: { path: 'b.txt' } });
      expect(logger.messages).toHaveLength(1);
      expect(logger.messages[0]).toMatch(
        /"twins:read_file" was wrapped again.*scope: 'session'.*`server` option/,
      );
    } finally {
      await one.close();
      await twin.close();
    }
  });

  it('a hand-wrapped callTool that passes request options is told to use cacheMcpClient', async () => {
    const callTool = AgentCache({ name: 'callTool' })(files.client.callTool.bind(files.client));
    await callTool({ name: 'list_files' }, undefined, { onprogress: () => {} });
    await callTool({ name: 'list_files' }, undefined, { onprogress: () => {} });
    expect(files.runs.list_files).toBe(2);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/MCP request options.*cacheMcpClient/);
  });
});
