/** A small cache written by real tools, the same into any backend, with the figures a reader should find. */
import { serialize } from 'node:v8';
import { AgentCache, AgentCacheInvalidator, AgentCacheSession, type Backend } from '../../src/index.js';
import { resourceTag, toolTag } from '../../src/tool/tags.js';

export const LONG_QUERY = 'how do I get a refund for an order that never arrived? '.repeat(4);

export const ticketValue = (id: string) => ({ id, subject: `Subject of ${id}`, body: 'x'.repeat(100) });
export const searchValue = (q: string) => [{ q: q.slice(0, 20), score: 0.9 }];
export const CART = ['apple', 'pear'];

/**
 * getTicket ×3 (TTL 1h, resources `tickets` and `ticket:<id>`), searchKb ×2 (one with arguments long enough to be
 * hashed), getCart in session `agent-A` (kept: the session is not ended), an expired entry `old`, and getUser,
 * whose entry a write made stale (so it is not counted).
 */
export async function seed(backend: Backend): Promise<{ session: AgentCacheSession }> {
  const getTicket = AgentCache({ backend, ttl: '1h', resource: (id: string) => ['tickets', `ticket:${id}`] })(
    async function getTicket(id: string) {
      return ticketValue(id);
    },
  );
  const searchKb = AgentCache({ backend, resource: 'kb' })(async function searchKb(q: string) {
    return searchValue(q);
  });
  const getCart = AgentCache({ backend, resource: 'cart', scope: 'session' })(async function getCart() {
    return CART;
  });
  const getUser = AgentCache({ backend, resource: 'users' })(async function getUser(id: number) {
    return { id };
  });
  const renameUser = AgentCacheInvalidator({ backend, resource: 'users' })(async function renameUser() {});
  for (const id of ['T-1', 'T-2', 'T-3']) await getTicket(id);
  await searchKb('refund policy');
  await searchKb(LONG_QUERY);
  const session = new AgentCacheSession({ sessionId: 'agent-A' });
  await session.run(() => getCart());
  await getUser(7);
  await renameUser();
  const tags = [toolTag('', 'old'), resourceTag('', 'tickets')];
  const now = Date.now();
  await backend.set('"""old"g[]', {
    value: 'old',
    expiresAt: now - 1_000,
    tags,
    gens: await backend.generations(tags),
    createdAt: now - 60_000,
  });
  return { session };
}

const size = (v: unknown) => serialize(v).length;

/** What `stats --json` must print for a seeded cache (the target aside). */
export function expectedStats() {
  const tickets = ['T-1', 'T-2', 'T-3'].map((id) => size(ticketValue(id)));
  const ticketBytes = tickets.reduce((a, b) => a + b, 0);
  const searchBytes = size(searchValue('refund policy')) + size(searchValue(LONG_QUERY));
  const cartBytes = size(CART);
  const oldBytes = size('old');
  return {
    entries: 7,
    bytes: ticketBytes + searchBytes + cartBytes + oldBytes,
    expiring: 3,
    expired: 1,
    tools: {
      getCart: { entries: 1, bytes: cartBytes },
      getTicket: { entries: 3, bytes: ticketBytes },
      old: { entries: 1, bytes: oldBytes },
      searchKb: { entries: 2, bytes: searchBytes },
    },
    resources: {
      cart: { entries: 1 },
      kb: { entries: 2 },
      'ticket:T-1': { entries: 1 },
      'ticket:T-2': { entries: 1 },
      'ticket:T-3': { entries: 1 },
      tickets: { entries: 4 },
    },
  };
}
