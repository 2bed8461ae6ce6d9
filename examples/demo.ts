/**
 * `npm run demo`: a scripted support agent working through a helpdesk, with agent-cache between the agent and its
 * tools. The "model" is a fixed plan of tool calls (what an LLM typically emits), the helpdesk API is simulated
 * with latency, and everything else is the real library.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  AgentLoopDetectedError,
  type Backend,
  DiskBackend,
  getMetrics,
  type LoopDetection,
} from 'agent-cache';

// ── A fake helpdesk API: every call costs 25 ms and is counted ────────────────────────────────────────────────
interface Ticket {
  id: string;
  customerId: string;
  status: 'open' | 'pending' | 'closed';
  subject: string;
  tags: string[];
}
const api = { calls: 0, latencyMs: 25 };
const tickets = new Map<string, Ticket>([
  [
    'T-100',
    { id: 'T-100', customerId: 'C-1', status: 'open', subject: 'Refund not received', tags: ['billing'] },
  ],
  ['T-101', { id: 'T-101', customerId: 'C-2', status: 'open', subject: 'Cannot log in', tags: ['auth'] }],
  [
    'T-102',
    { id: 'T-102', customerId: 'C-1', status: 'pending', subject: 'Invoice copy', tags: ['billing'] },
  ],
]);
async function helpdesk<T>(work: () => T): Promise<T> {
  api.calls++;
  await sleep(api.latencyMs);
  return structuredClone(work());
}

// ── The agent's tools ────────────────────────────────────────────────────────────────────────────────────────
const getTicket = AgentCache({ resource: (id) => `ticket:${id as string}`, ttl: '5m' })(
  async function getTicket(id: string) {
    return helpdesk(() => tickets.get(id));
  },
);

const searchTickets = AgentCache({ resource: 'tickets', ttl: '1m' })(async function searchTickets(query: {
  status: Ticket['status'];
  tag?: string;
}) {
  return helpdesk(() =>
    [...tickets.values()].filter(
      (t) => t.status === query.status && (!query.tag || t.tags.includes(query.tag)),
    ),
  );
});

// Customer notes are private to one agent run: session scope.
const getCustomerNotes = AgentCache({ resource: (id) => `customer:${id as string}`, scope: 'session' })(
  async function getCustomerNotes(customerId: string) {
    return helpdesk(() => `notes for ${customerId}: prefers email`);
  },
);

// A write: invalidates the ticket and every search before it runs and again when it settles.
const updateTicket = AgentCacheInvalidator({ resource: (id) => [`ticket:${id as string}`, 'tickets'] })(
  async function updateTicket(id: string, patch: Partial<Ticket>) {
    return helpdesk(() => {
      const ticket = { ...tickets.get(id)!, ...patch };
      tickets.set(id, ticket);
      return ticket;
    });
  },
);

type Step = [string, () => Promise<unknown>];

async function runPlan(title: string, session: AgentCacheSession, plan: Step[]): Promise<void> {
  console.log(`\n${title} (session ${session.sessionId})`);
  await session.run(async () => {
    for (const [label, call] of plan) {
      const before = api.calls;
      const started = performance.now();
      let outcome: string;
      try {
        await call();
        outcome = api.calls > before ? 'ran the tool' : 'served from cache';
      } catch (error) {
        outcome =
          error instanceof AgentLoopDetectedError ? `stopped: ${error.kind}` : `failed: ${String(error)}`;
      }
      const ms = (performance.now() - started).toFixed(1).padStart(5);
      console.log(`  ${label.padEnd(46)} ${ms} ms  ${outcome}`);
    }
  });
  const m = session.getMetrics();
  console.log(
    `  → hits ${m.hits}, misses ${m.misses}, coalesced ${m.coalesced}, invalidations ${m.invalidations}, ` +
      `loops ${m.loopDetections}, hit rate ${(m.hitRate * 100).toFixed(0)}%`,
  );
  await session.end();
}

const billingOpen = { status: 'open', tag: 'billing' } as const;

// Turn 1: triage. The model re-reads what it already saw (it does that a lot), and fans out in parallel.
await runPlan('Agent run 1: triage billing tickets', new AgentCacheSession({ sessionId: 'triage-1' }), [
  ['searchTickets({ status: open, tag: billing })', () => searchTickets(billingOpen)],
  ['getTicket(T-100)', () => getTicket('T-100')],
  ['getCustomerNotes(C-1)', () => getCustomerNotes('C-1')],
  ['getTicket(T-100)  (re-read)', () => getTicket('T-100')],
  ['searchTickets({ tag: billing, status: open })', () => searchTickets({ tag: 'billing', status: 'open' })],
  [
    '3 × getTicket(T-101) in parallel',
    () => Promise.all([getTicket('T-101'), getTicket('T-101'), getTicket('T-101')]),
  ],
  ['updateTicket(T-100, { status: pending })', () => updateTicket('T-100', { status: 'pending' })],
  ['getTicket(T-100)  (after the write: fresh)', () => getTicket('T-100')],
  ['searchTickets({ status: open, tag: billing })', () => searchTickets(billingOpen)],
  ['getCustomerNotes(C-1)', () => getCustomerNotes('C-1')],
]);

// Turn 2: a stuck agent that keeps polling the same ticket. Loop detection stops it.
const detections: LoopDetection[] = [];
const stuck = new AgentCacheSession({
  sessionId: 'stuck-2',
  loopDetection: true,
  maxToolRepeats: 3,
  onLoop: (d) => {
    detections.push(d);
    return 'raise';
  },
});
await runPlan(
  'Agent run 2: a stuck agent (loop detection on, maxToolRepeats 3)',
  stuck,
  Array.from({ length: 5 }, (_, i): Step => [`getTicket(T-102)  #${i + 1}`, () => getTicket('T-102')]),
);
for (const d of detections)
  console.log(`  detected: ${d.kind} of ${d.toolName}(${d.args.join(', ')}) × ${d.count}`);

// Turn 3: knowledge-base answers persist in a SQLite file (DiskBackend) and survive a restart of the agent.
const dir = mkdtempSync(join(tmpdir(), 'agent-cache-demo-'));
const cacheFile = join(dir, 'cache.db');
const searchDocsOn = (backend: Backend) =>
  AgentCache({ resource: 'docs', ttl: '1h', backend })(async function searchDocs(query: string) {
    return helpdesk(() => [`How refunds work (matched "${query}")`]);
  });
console.log(`\nAgent run 3: knowledge-base search cached on disk (${cacheFile})`);
for (const phase of ['first process', 'after a restart']) {
  const disk = new DiskBackend(cacheFile);
  const searchDocs = searchDocsOn(disk); // a restarted agent wraps its tools again
  const before = api.calls;
  const started = performance.now();
  await searchDocs('refund policy');
  const ms = (performance.now() - started).toFixed(1).padStart(5);
  console.log(
    `  ${`searchDocs(refund policy), ${phase}`.padEnd(46)} ${ms} ms  ${api.calls > before ? 'ran the tool' : 'served from the SQLite file'}`,
  );
  await disk.close();
}
rmSync(dir, { recursive: true, force: true });

const total = getMetrics();
const toolCalls = total.hits + total.misses + total.bypassed;
console.log(
  `\nWhole process: ${toolCalls} tool calls answered, ${api.calls} reached the helpdesk API ` +
    `(${toolCalls - api.calls} saved, ~${(toolCalls - api.calls) * api.latencyMs} ms of API latency), ` +
    `${total.loopDetections} loop(s) stopped.`,
);
