/**
 * The agent's "LLM": the AI SDK's own test double, `MockLanguageModelV4`, scripted to act as a model does. Each
 * call reads the conversation it is given — the question, and the tool calls and results since — and decides the
 * next tool calls (several at once when they are independent) or its answer. Each call takes `MODEL_LATENCY_MS`
 * and reports a usage of about one token per four characters, in and out.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
} from '@ai-sdk/provider';
import { MockLanguageModelV4 } from 'ai/test';

export const MODEL_LATENCY_MS = 30;

/** A tool call the model made in this turn, with what came back. */
interface Seen {
  readonly toolName: string;
  readonly input: Record<string, unknown>;
  readonly output?: unknown;
  readonly error?: string;
}

interface ToolCall {
  readonly toolName: string;
  readonly input: Record<string, unknown>;
}

type Decision = { readonly calls: readonly ToolCall[] } | { readonly text: string };

interface Ticket {
  id: string;
  subject: string;
  status: string;
  tag: string;
  replies: string[];
}

type Skill = (question: string, seen: readonly Seen[]) => Decision | undefined;

/** The first skill that recognises the question decides. */
const SKILLS: readonly Skill[] = [
  function fileTicket(q, seen) {
    const m = /^File a ticket for (C-\d+): "(.+)"/.exec(q);
    if (!m) return undefined;
    const created = last(seen, 'createTicket');
    if (created === undefined) {
      const tag = /password|log ?in|sign ?in/i.test(m[2]!) ? 'auth' : 'billing';
      return call('createTicket', { customerId: m[1], subject: m[2], tag });
    }
    return { text: `Filed ${(created.output as { id: string }).id} for ${m[1]}.` };
  },
  function reply(q, seen) {
    const m = /^Reply to (T-\d+): "(.+?)"/.exec(q);
    if (!m) return undefined;
    const id = m[1]!;
    if (last(seen, 'replyToTicket') === undefined) return call('replyToTicket', { id, message: m[2] });
    // Then check what the question asks to see again: its tickets, and the open tickets of a tag.
    const rest = q.slice(m[0].length);
    const ids = [...rest.matchAll(/T-\d+/g)].map((x) => x[0]);
    const tag = /open (\w+) tickets/.exec(rest)?.[1];
    const wanted: ToolCall[] = ids.map((i) => ({ toolName: 'getTicket', input: { id: i } }));
    if (tag !== undefined) wanted.push({ toolName: 'searchTickets', input: { status: 'open', tag } });
    const missing = wanted.filter((w) => !seen.some((s) => same(s, w)));
    if (missing.length > 0) return { calls: missing };
    const tickets = ids.map((i) => ticketIn(seen, i)!);
    const open = tag === undefined ? [] : (last(seen, 'searchTickets')!.output as { id: string }[]);
    return {
      text: `Replied on ${id}. ${tickets.map(describe).join('; ')}. Open ${tag}: ${open.map((t) => t.id).join(', ')}.`,
    };
  },
  function openTickets(q, seen) {
    const m = /open (\w+) tickets/.exec(q);
    if (!m) return undefined;
    const found = last(seen, 'searchTickets');
    if (found === undefined) return call('searchTickets', { status: 'open', tag: m[1] });
    const ids = (found.output as { id: string }[]).map((t) => t.id);
    const missing = ids.filter((id) => ticketIn(seen, id) === undefined);
    if (missing.length > 0) return { calls: missing.map((id) => ({ toolName: 'getTicket', input: { id } })) };
    return { text: `Open ${m[1]} tickets: ${ids.map((id) => describe(ticketIn(seen, id)!)).join('; ')}.` };
  },
  function myTickets(q, seen) {
    if (!/my tickets/i.test(q)) return undefined;
    const mine = last(seen, 'getMyTickets');
    if (mine === undefined) return call('getMyTickets', {});
    const all = mine.output as { id: string; subject: string; status: string }[];
    const shown = /open/.test(q) ? all.filter((t) => t.status === 'open') : all;
    return { text: `Your tickets: ${shown.map((t) => `${t.id} "${t.subject}" (${t.status})`).join(', ')}.` };
  },
  function waitUntilSolved(q, seen) {
    const m = /until (T-\d+) is solved/.exec(q);
    if (!m) return undefined;
    const polled = last(seen, 'getTicket');
    if (polled?.error !== undefined) {
      return { text: `Loop detection stopped me from asking again; ${m[1]} is not solved yet.` };
    }
    const ticket = polled?.output as Ticket | undefined;
    if (ticket?.status === 'solved') return { text: `${m[1]} is solved.` };
    return call('getTicket', { id: m[1] }); // still pending: ask again
  },
  function replies(q, seen) {
    if (!/^Ha(?:s|ve) .*had a reply/.test(q)) return undefined;
    const ids = [...q.matchAll(/T-\d+/g)].map((x) => x[0]);
    const missing = ids.filter((id) => ticketIn(seen, id) === undefined);
    if (missing.length > 0) return { calls: missing.map((id) => ({ toolName: 'getTicket', input: { id } })) };
    const told = ids.map((id) => {
      const n = ticketIn(seen, id)!.replies;
      return n.length === 0
        ? `${id}: no reply yet`
        : `${id}: ${plural(n.length, 'reply', 'replies')}, the last "${n.at(-1)}"`;
    });
    return { text: `${told.join('; ')}.` };
  },
  function articles(q, seen) {
    if (!/refund/i.test(q)) return undefined;
    const found = last(seen, 'searchHelpArticles');
    if (found === undefined) return call('searchHelpArticles', { query: q });
    return { text: (found.output as { text: string }[]).map((a) => a.text).join(' ') || 'I found nothing.' };
  },
  function aboutTicket(q, seen) {
    const id = /T-\d+/.exec(q)?.[0];
    if (id === undefined) return undefined;
    const ticket = ticketIn(seen, id);
    if (ticket === undefined) return call('getTicket', { id });
    if (/handle/.test(q)) return { text: `The ${ticket.tag} team: ${id} is "${ticket.subject}".` };
    return { text: `${id} says "${ticket.subject}" (${ticket.status}); the ${ticket.tag} runbook applies.` };
  },
];

export class ScriptedModel {
  /** Calls that reached the model (what the response cache is there to avoid). */
  calls = 0;
  readonly model = new MockLanguageModelV4({
    provider: 'scripted',
    modelId: 'support-agent',
    doGenerate: (options) => this.#generate(options),
  });

  async #generate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    this.calls++;
    await sleep(MODEL_LATENCY_MS);
    const { question, seen } = read(options);
    const decision = SKILLS.reduce<Decision | undefined>(
      (d, skill) => d ?? skill(question, seen),
      undefined,
    ) ?? {
      text: 'I cannot help with that.',
    };
    const content: LanguageModelV4Content[] =
      'text' in decision
        ? [{ type: 'text', text: decision.text }]
        : decision.calls.map((c) => ({
            type: 'tool-call',
            toolCallId: `call_${randomUUID().slice(0, 8)}`,
            toolName: c.toolName,
            input: JSON.stringify(c.input),
          }));
    const tokens = (value: unknown) => Math.ceil((JSON.stringify(value)?.length ?? 0) / 4);
    // What a provider bills as input: the tool definitions and the whole conversation.
    const input = tokens(options.tools) + tokens(options.prompt);
    return {
      content,
      finishReason:
        'text' in decision ? { unified: 'stop', raw: 'stop' } : { unified: 'tool-calls', raw: 'tool_calls' },
      usage: {
        inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: tokens(content), text: tokens(content), reasoning: undefined },
      },
      warnings: [],
    };
  }
}

/** The newest question, and the tool calls made (with their results) since it was asked. */
function read(options: LanguageModelV4CallOptions): { question: string; seen: Seen[] } {
  const prompt = options.prompt;
  let from = prompt.length - 1;
  while (from >= 0 && prompt[from]!.role !== 'user') from--;
  const user = prompt[from];
  const question =
    user?.role === 'user' ? user.content.map((p) => (p.type === 'text' ? p.text : '')).join('') : '';
  const calls = new Map<string, { toolName: string; input: Record<string, unknown> }>();
  const seen: Seen[] = [];
  for (const message of prompt.slice(from + 1)) {
    if (message.role === 'assistant') {
      for (const part of message.content) {
        if (part.type === 'tool-call') {
          calls.set(part.toolCallId, {
            toolName: part.toolName,
            input: part.input as Record<string, unknown>,
          });
        }
      }
    } else if (message.role === 'tool') {
      for (const part of message.content) {
        if (part.type !== 'tool-result') continue;
        const made = calls.get(part.toolCallId) ?? { toolName: part.toolName, input: {} };
        const out = part.output;
        if (out.type === 'json' || out.type === 'text') seen.push({ ...made, output: out.value });
        else if (out.type === 'error-text') seen.push({ ...made, error: out.value });
        else if (out.type === 'error-json') seen.push({ ...made, error: JSON.stringify(out.value) });
      }
    }
  }
  return { question, seen };
}

function call(toolName: string, input: Record<string, unknown>): Decision {
  return { calls: [{ toolName, input }] };
}

function last(seen: readonly Seen[], toolName: string): Seen | undefined {
  return seen.findLast((s) => s.toolName === toolName);
}

function same(s: Seen, c: ToolCall): boolean {
  return s.toolName === c.toolName && JSON.stringify(s.input) === JSON.stringify(c.input);
}

/** The newest result of getTicket for `id` in this turn. */
function ticketIn(seen: readonly Seen[], id: string): Ticket | undefined {
  return seen.findLast((s) => s.toolName === 'getTicket' && s.input.id === id && s.error === undefined)
    ?.output as Ticket | undefined;
}

function describe(t: Ticket): string {
  return `${t.id} "${t.subject}" (${t.status}, ${plural(t.replies.length, 'reply', 'replies')})`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
