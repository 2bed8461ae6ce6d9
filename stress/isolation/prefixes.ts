/**
 * Two caches side by side never touch each other: Redis backends with prefixes `app:` and `app:tenant2:` (one
 * begins with the other) on one server, two DiskBackend files in one directory, two MemoryBackends. Both hold the
 * same tools, arguments, resources and session ids. Each cache in turn invalidates a resource, ends a session and
 * clear()s; after each step the other one must hold exactly what it held before (on Redis every key, byte for
 * byte), and every one of its calls must still hit, while the cache that acted must have dropped what it should.
 */
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  DiskBackend,
  MemoryBackend,
} from '../../src/index.js';
import { openBackend, redisKeys } from './backends.js';

export interface PrefixCounts {
  readonly pair: string;
  /** Steps taken by one cache (each checked on the other). */
  steps: number;
  /** Steps after which the other cache's stored state differed. */
  foreignChanged: number;
  /** The other cache's calls that ran the tool (missed) after a step. */
  foreignMisses: number;
  /** The acting cache's calls that still hit what its step should have dropped. */
  ownNotDropped: number;
  /** Keys under the root that belong to neither prefix (Redis). */
  strayKeys: number;
  /** Calls made to check. */
  checks: number;
}

const ITEMS = 8;
const SESSIONS = ['S1', 'S2'];

/** One cache: its tools (the same names on both sides) and two sessions. */
class Side {
  readonly runs = { count: 0 };
  readonly read;
  readonly mine;
  readonly write;
  sessions = new Map<string, AgentCacheSession>();

  constructor(
    readonly label: string,
    readonly backend: Backend,
    readonly state: () => Promise<string>,
  ) {
    const runs = this.runs;
    this.read = AgentCache({ name: 'isolation.read', backend, resource: (i: number) => `r:${i}` })(
      async (i: number) => {
        runs.count++;
        return { i };
      },
    );
    this.mine = AgentCache({
      name: 'isolation.sessionRead',
      scope: 'session',
      backend,
      resource: (i: number) => `r:${i}`,
    })(async (i: number) => {
      runs.count++;
      return { i, session: AgentCacheSession.current()!.sessionId };
    });
    this.write = AgentCacheInvalidator({
      name: 'isolation.write',
      backend,
      resource: (i: number) => `r:${i}`,
    })(async (_i: number) => {});
  }

  session(id: string): AgentCacheSession {
    let s = this.sessions.get(id);
    if (s === undefined || s.ended) {
      s = new AgentCacheSession({ sessionId: id });
      this.sessions.set(id, s);
    }
    return s;
  }

  /** Calls everything once; returns how many calls ran the tool. */
  async callAll(): Promise<{ ran: number; calls: number; ranFor: Set<string> }> {
    const ranFor = new Set<string>();
    let calls = 0;
    const before = this.runs.count;
    for (let i = 0; i < ITEMS; i++) {
      const n = this.runs.count;
      await this.read(i);
      calls++;
      if (this.runs.count > n) ranFor.add(`g:${i}`);
    }
    for (const id of SESSIONS) {
      await this.session(id).run(async () => {
        for (let i = 0; i < ITEMS; i++) {
          const n = this.runs.count;
          await this.mine(i);
          calls++;
          if (this.runs.count > n) ranFor.add(`${id}:${i}`);
        }
      });
    }
    return { ran: this.runs.count - before, calls, ranFor };
  }

  async end(): Promise<void> {
    for (const s of this.sessions.values()) await s.end();
  }
}

/** The steps one cache takes, and what each must drop from it (keys as in callAll's ranFor). */
const STEPS: readonly { name: string; act(s: Side): Promise<void>; drops: readonly string[] }[] = [
  {
    name: 'a write invalidating r:0',
    act: (s) => s.write(0),
    drops: ['g:0', ...SESSIONS.map((id) => `${id}:0`)],
  },
  {
    name: 'session S1 ends',
    act: (s) => s.session('S1').end(),
    drops: Array.from({ length: ITEMS }, (_, i) => `S1:${i}`),
  },
  {
    name: 'clear()',
    act: async (s) => {
      await s.backend.clear();
    },
    drops: [
      ...Array.from({ length: ITEMS }, (_, i) => `g:${i}`),
      ...SESSIONS.flatMap((id) => Array.from({ length: ITEMS }, (_, i) => `${id}:${i}`)),
    ],
  },
];

async function steps(actor: Side, other: Side, counts: PrefixCounts): Promise<void> {
  for (const step of STEPS) {
    await actor.callAll(); // fill (or refill) both
    await other.callAll();
    const before = await other.state();
    await step.act(actor);
    counts.steps++;
    if ((await other.state()) !== before) counts.foreignChanged++;
    const foreign = await other.callAll();
    counts.foreignMisses += foreign.ran;
    const own = await actor.callAll();
    counts.checks += foreign.calls + own.calls;
    for (const key of step.drops) if (!own.ranFor.has(key)) counts.ownNotDropped++;
  }
}

async function pair(label: string, a: Side, b: Side, stray: () => Promise<number>): Promise<PrefixCounts> {
  const counts: PrefixCounts = {
    pair: label,
    steps: 0,
    foreignChanged: 0,
    foreignMisses: 0,
    ownNotDropped: 0,
    strayKeys: 0,
    checks: 0,
  };
  try {
    await steps(a, b, counts);
    await steps(b, a, counts);
    counts.strayKeys = await stray();
  } finally {
    await a.end();
    await b.end();
    await a.backend.close();
    await b.backend.close();
  }
  return counts;
}

/** Redis: prefixes `<root>app:` and `<root>app:tenant2:`; state = every key of the prefix and its DUMP. */
export async function redisPrefixes(root: string, l1: boolean): Promise<PrefixCounts> {
  const kind = l1 ? 'redis l1' : 'redis strict';
  const prefixes = [`${root}app:`, `${root}app:tenant2:`];
  const sides = await Promise.all(
    prefixes.map(async (prefix) => {
      const backend = await openBackend(kind, prefix);
      const state = async () => {
        const own = [...(await redisKeys(root))].filter(([key]) => key.startsWith(`${prefix}{`));
        return JSON.stringify(own);
      };
      return new Side(prefix.slice(root.length), backend, state);
    }),
  );
  const stray = async () =>
    [...(await redisKeys(root)).keys()].filter((key) => !prefixes.some((p) => key.startsWith(`${p}{`)))
      .length;
  return pair(`Redis${l1 ? ' (l1)' : ''}: \`app:\` and \`app:tenant2:\``, sides[0]!, sides[1]!, stray);
}

/** Two DiskBackend files in one directory; state = every entry (stale ones included) with its creation time. */
export async function diskFiles(dir: string): Promise<PrefixCounts> {
  const sides = ['a.sqlite', 'b.sqlite'].map((file) => {
    const backend = new DiskBackend(`${dir}/${file}`);
    const state = async () => {
      const rows: string[] = [];
      for await (const e of backend.inspect({ stale: true }))
        rows.push(`${e.key} ${e.stale} ${e.createdAt} ${e.bytes}`);
      return rows.sort().join('\n');
    };
    return new Side(file, backend, state);
  });
  return pair('two DiskBackend files in one directory', sides[0]!, sides[1]!, async () => 0);
}

/** Two MemoryBackends; state = entries and sessions held. */
export async function memoryBackends(): Promise<PrefixCounts> {
  const sides = ['a', 'b'].map((name) => {
    const backend = new MemoryBackend();
    return new Side(name, backend, async () => `${backend.size} ${backend.sessionCount}`);
  });
  return pair('two MemoryBackends', sides[0]!, sides[1]!, async () => 0);
}
