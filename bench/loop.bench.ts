/**
 * Loop detection on the hit path: a session cache hit with `loopDetection: true` against the same hit in a session
 * without it (same tool, same warm keys, object arguments), interleaved in one process. Target: <= 1.3x.
 *
 * Each operation is one `session.run` holding BATCH sequential hits, so the cost of entering the session is shared
 * by many hits and the ratio is that of the hits themselves. The keys cycle through a working set of distinct
 * tickets larger than the history window (50), so the detector does its full work (ring push and the check of every
 * rule) but no call is a loop: the loop session uses onLoop 'raise' and the run fails if anything is detected. A
 * third contender, a second plain session, shows how far from 1.00 two identical contenders land (the noise).
 *
 * Two working sets: 200 tickets (an agent revisiting what it works on: the target), and 5,000 tickets (every call
 * is a call the detector has not seen for a long time: its worst case, reported for information).
 */
import { AgentCache, AgentCacheSession, MemoryBackend } from '../src/index.js';
import { compare, target } from './harness.js';

const BATCH = 100;

interface TicketQuery {
  readonly id: string;
  readonly include: readonly string[];
  readonly locale: string;
}

async function scenario(
  scope: 'global' | 'session',
  keys: number,
): Promise<{ ratio: number; medians: Record<string, number> }> {
  const queries: TicketQuery[] = Array.from({ length: keys }, (_, i) => ({
    id: `T-${i}`,
    include: ['comments', 'assignee'],
    locale: 'en',
  }));
  // One wrapped instance per contender, all with the same definition and name (so they share global entries):
  // each wrapped tool keeps its own memo of argument keys, and a memo shared by the contenders would favour
  // whichever warmed its slots last, which is not what this measures.
  const backend = new MemoryBackend({ maxEntries: 100_000 });
  const fetchTicket = async (q: TicketQuery) => ({ id: q.id, status: 'open', comments: [] as string[] });
  const tool = () =>
    AgentCache({ resource: 'ticket', scope, backend, name: `getTicket_${scope}_${keys}` })(fetchTicket);
  const plain = new AgentCacheSession({ sessionId: `bench-plain-${scope}` });
  const looped = new AgentCacheSession({
    sessionId: `bench-loop-${scope}`,
    loopDetection: true,
    onLoop: 'raise',
  });
  const control = new AgentCacheSession({ sessionId: `bench-control-${scope}` });
  const contenders = [
    { name: 'plain session hit', session: plain, getTicket: tool() },
    { name: 'loopDetection: true', session: looped, getTicket: tool() },
    { name: 'control: another plain session', session: control, getTicket: tool() },
  ];
  // Warm every key for every contender (session-scoped entries are per session).
  for (const c of contenders)
    await c.session.run(async () => Promise.all(queries.map((q) => c.getTicket(q))));

  const result = await compare(
    `session hit (${scope}-scoped tool, ${keys} warm keys), ${BATCH} hits per op: loop detection off vs on`,
    contenders.map(({ name, session, getTicket }) => ({
      name,
      op: (i: number) =>
        session.run(async () => {
          const base = i * BATCH;
          for (let k = 0; k < BATCH; k++) await getTicket(queries[(base + k) % keys]!);
        }),
    })),
    { rounds: 21, ops: 200, warmup: 200 },
  );
  const m = looped.getMetrics();
  if (m.loopDetections !== 0 || m.misses !== (scope === 'session' ? keys : 0))
    throw new Error(`unexpected: ${JSON.stringify(m)}`);
  for (const c of contenders) await c.session.end();
  await backend.close();
  return { ratio: result.ratios['loopDetection: true']!, medians: result.medians };
}

export async function main(): Promise<void> {
  for (const [scope, keys] of [
    ['session', 200],
    ['global', 200],
    ['session', 5_000],
  ] as const) {
    const { ratio, medians } = await scenario(scope, keys);
    const perHit = (name: string) => (medians[name]! / BATCH).toFixed(0);
    console.log(
      `per hit: plain ${perHit('plain session hit')} ns, loop detection ${perHit('loopDetection: true')} ns`,
    );
    if (keys <= 200) target(`loop detection on / off, ${scope}-scoped session hit, ${keys} keys`, ratio, 1.3);
    else
      console.log(`(worst case, informational) loop detection on / off, ${keys} keys: ${ratio.toFixed(2)}`);
  }
}
