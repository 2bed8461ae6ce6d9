/**
 * The support agent's tools: plain AI SDK tools over the helpdesk API, then `cacheTools` says which are reads (cached
 * by their input, tagged with the resources they show) and which are writes (they invalidate those resources
 * before they run and again when they settle).
 */
import { cacheTools } from 'agent-cache/ai-sdk';
import { tool } from 'ai';
import { z } from 'zod';
import type { Helpdesk } from './helpdesk.js';

export function supportTools(helpdesk: Helpdesk) {
  const tools = {
    getTicket: tool({
      description: 'A ticket with its status and replies',
      inputSchema: z.object({ id: z.string() }),
      execute: ({ id }) => helpdesk.getTicket(id),
    }),
    searchTickets: tool({
      description: 'Tickets by status and tag',
      inputSchema: z.object({ status: z.enum(['open', 'pending', 'solved']), tag: z.string() }),
      execute: ({ status, tag }) => helpdesk.searchTickets(status, tag),
    }),
    // Whose tickets depends on who is talking to the agent (the call's context), not on the input, which is
    // always {}: a global entry would hand one customer's tickets to the next. Hence `scope: 'session'` below.
    getMyTickets: tool({
      description: 'The tickets of the customer in this conversation',
      inputSchema: z.object({}),
      contextSchema: z.object({ customerId: z.string() }),
      execute: (_input, { context }) => helpdesk.ticketsOf(context.customerId),
    }),
    replyToTicket: tool({
      description: 'Post a reply on a ticket',
      inputSchema: z.object({ id: z.string(), message: z.string() }),
      execute: ({ id, message }) => helpdesk.reply(id, message),
    }),
    createTicket: tool({
      description: 'File a new ticket',
      inputSchema: z.object({ customerId: z.string(), subject: z.string(), tag: z.string() }),
      execute: ({ customerId, subject, tag }) => helpdesk.createTicket(customerId, subject, tag),
    }),
    searchHelpArticles: tool({
      description: 'Help-center articles matching a question',
      inputSchema: z.object({ query: z.string() }),
      execute: ({ query }) => helpdesk.searchArticles(query),
    }),
  };
  return cacheTools(tools, {
    getTicket: { resource: ({ id }) => `ticket:${id}`, ttl: '1h' },
    searchTickets: { resource: 'tickets', ttl: '10m' },
    getMyTickets: { resource: 'tickets', scope: 'session', ttl: '10m' },
    // A reply changes that ticket, not which tickets a search finds: searches stay cached.
    replyToTicket: { invalidates: ({ id }) => `ticket:${id}` },
    // A new ticket can appear in any search (and in its customer's list).
    createTicket: { invalidates: 'tickets' },
    searchHelpArticles: { resource: 'articles', ttl: '1d' },
  });
}

export type SupportTools = ReturnType<typeof supportTools>;
