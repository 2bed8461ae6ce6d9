/**
 * The demo's steps: each a few agent runs that show one thing agent-cache does, with a line per step saying what
 * its calls came to.
 */
import { AgentCacheSession, lintStablePrefix, segmentsFromMessages } from 'agent-cache';
import { type Agent, ask, type Runner } from './agent.js';
import { paint } from './paint.js';
import { type Counts, toolTotals } from './watch.js';

const STAFF = "You are the support team's assistant. Use the tools; never guess ticket data.";
const HELP_CENTER = 'You are the help-center assistant. Answer from the help articles.';
const customer = (name: string) => `You are the help-center assistant, talking to ${name}.`;

export interface Step {
  readonly title: string;
  run(runner: Runner): Promise<void>;
}

export const STEPS: readonly Step[] = [
  {
    title: 'Read hits: what the agent has read is answered from the cache',
    async run(r) {
      await using triage = agent('triage', STAFF);
      await ask(r, triage, 'Which open billing tickets do we have?');
      await ask(r, triage, 'Have T-100 and T-102 had a reply yet?');
    },
  },
  {
    title: 'A write invalidates exactly the reads it changes: T-100, not T-102 nor the search',
    async run(r) {
      await using triage = agent('triage', STAFF);
      await ask(
        r,
        triage,
        'Reply to T-100: "Your refund was sent today." Then check T-100 and T-102 again, and the open billing tickets.',
      );
    },
  },
  {
    title: "Sessions are isolated: getMyTickets is session-scoped, so Bob never gets Alice's tickets",
    async run(r) {
      await using alice = agent('alice', customer('Alice'), 'C-1');
      await using bob = agent('bob', customer('Bob'), 'C-2');
      await ask(r, alice, 'Show me my tickets.');
      await ask(r, bob, 'Show me my tickets.');
      await ask(r, alice, 'Which of my tickets are still open?');
    },
  },
  {
    title: 'Parallel identical calls are coalesced: two agents open the new ticket at once, one API call',
    async run(r) {
      await using intake = agent('intake', STAFF);
      const filed = await ask(r, intake, 'File a ticket for C-2: "I cannot reset my password"');
      const id = /T-\d+/.exec(filed)?.[0] ?? 'T-?';
      await using oncall = agent('oncall', STAFF);
      await using router = agent('router', STAFF);
      await Promise.all([
        ask(r, oncall, `Why can't the customer on ${id} log in?`),
        ask(r, router, `Who should handle ${id}?`),
      ]);
    },
  },
  {
    title: "A stuck agent is stopped: polling T-102 (maxToolRepeats 3), onLoop 'raise' then 'short_circuit'",
    async run(r) {
      const question = 'Keep checking until T-102 is solved, then tell me.';
      await using raise = agent('stuck-1', STAFF, undefined, 'raise');
      await ask(r, raise, question);
      await using shortCircuit = agent('stuck-2', STAFF, undefined, 'short_circuit');
      await ask(r, shortCircuit, question, { maxSteps: 6 });
    },
  },
  {
    title: 'The response cache answers a repeated request: no model call, no tokens spent',
    async run(r) {
      await using faq = agent('faq', HELP_CENTER);
      await ask(r, faq, 'How do refunds work?');
      await ask(r, faq, 'How do refunds work?');
    },
  },
  {
    title: 'The prompt guard catches a timestamp that breaks the cached prompt prefix',
    async run(r) {
      await using clock = agent('clock', HELP_CENTER);
      for (let i = 0; i < 2; i++) {
        // The time in the system prompt: every request is new to the response cache and to the provider's cache.
        const system = `${HELP_CENTER} Current time: ${new Date().toISOString()}.`;
        await ask(r, { ...clock, system }, 'How do refunds work?');
        if (i === 1) {
          for (const f of lintStablePrefix(segmentsFromMessages({ system, messages: [] }))) {
            r.print(
              `  ${''.padEnd(8)} ${paint('cyan', `↳ lintStablePrefix: ${f.kind} "${f.match}" in the ${f.segmentId} prompt; move it to the user turn`)}`,
            );
          }
        }
      }
    },
  },
];

function agent(
  sessionId: string,
  system: string,
  customerId?: string,
  onLoop?: 'raise' | 'short_circuit',
): Agent & AsyncDisposable {
  const session = new AgentCacheSession(
    onLoop === undefined ? { sessionId } : { sessionId, loopDetection: true, maxToolRepeats: 3, onLoop },
  );
  return {
    session,
    system,
    ...(customerId === undefined ? {} : { customerId }),
    [Symbol.asyncDispose]: () => session.end(),
  };
}

/** What one step's calls came to: the difference of two snapshots of the counts. */
export function stepLine(before: Snapshot, after: Snapshot): string {
  const tools = after.tools - before.tools;
  const ran = after.ran - before.ran;
  const model = after.model - before.model;
  const made = after.modelMade - before.modelMade;
  return paint(
    'dim',
    `  = ${tools} tool calls: ${ran} ran, ${tools - ran} did not · ${model} model calls: ${made} made, ${model - made} answered from the cache`,
  );
}

export interface Snapshot {
  readonly tools: number;
  readonly ran: number;
  readonly model: number;
  readonly modelMade: number;
}

export function snapshot(counts: Counts): Snapshot {
  const t = toolTotals(counts);
  return {
    tools: t.calls,
    ran: t.misses + t.writes + t.bypassed,
    model: counts.model.calls,
    modelMade: counts.model.misses,
  };
}
