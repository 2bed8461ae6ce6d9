/**
 * The helpdesk the agent works on: a simulated remote API. Every call waits `LATENCY_MS` and is counted, so the
 * demo can show what caching saved against the API's own counter. Its data is kept in a JSON file beside the
 * cache, as a real helpdesk keeps its tickets: a second run sees the replies and tickets the first one made, and
 * the cached answers it finds in the cache file agree with it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const LATENCY_MS = 40;

export type Status = 'open' | 'pending' | 'solved';

export interface Ticket {
  readonly id: string;
  readonly customerId: string;
  readonly subject: string;
  readonly status: Status;
  readonly tag: string;
  readonly replies: readonly string[];
}

export interface Article {
  readonly title: string;
  readonly text: string;
}

interface World {
  nextTicket: number;
  tickets: Ticket[];
}

function seed(): World {
  return {
    nextTicket: 103,
    tickets: [
      {
        id: 'T-100',
        customerId: 'C-1',
        subject: 'Refund not received',
        status: 'open',
        tag: 'billing',
        replies: [],
      },
      { id: 'T-101', customerId: 'C-2', subject: 'Cannot log in', status: 'open', tag: 'auth', replies: [] },
      {
        id: 'T-102',
        customerId: 'C-1',
        subject: 'Invoice copy',
        status: 'pending',
        tag: 'billing',
        replies: [],
      },
    ],
  };
}

const ARTICLES: readonly Article[] = [
  { title: 'Refunds', text: 'Refunds reach the original payment method within 5 business days.' },
  { title: 'Passwords', text: 'Reset a password from the sign-in page; the link is valid for one hour.' },
];

export class Helpdesk {
  /** Calls that reached the API (what the cache is there to avoid). */
  calls = 0;
  readonly callsByEndpoint = new Map<string, number>();
  readonly #file: string;
  readonly #world: World;

  private constructor(file: string, world: World) {
    this.#file = file;
    this.#world = world;
  }

  /** The helpdesk as an earlier run left it, or a new one (`existed` false). */
  static open(file: string): { helpdesk: Helpdesk; existed: boolean } {
    const existed = existsSync(file);
    const world = existed ? (JSON.parse(readFileSync(file, 'utf8')) as World) : seed();
    const helpdesk = new Helpdesk(file, world);
    if (!existed) helpdesk.#save();
    return { helpdesk, existed };
  }

  async getTicket(id: string): Promise<Ticket | { error: string }> {
    await this.#call('getTicket');
    return this.#find(id) ?? { error: `no ticket ${id}` };
  }

  async searchTickets(status: Status, tag: string): Promise<{ id: string; subject: string }[]> {
    await this.#call('searchTickets');
    return this.#world.tickets
      .filter((t) => t.status === status && t.tag === tag)
      .map(({ id, subject }) => ({ id, subject }));
  }

  async ticketsOf(customerId: string): Promise<{ id: string; subject: string; status: Status }[]> {
    await this.#call('ticketsOf');
    return this.#world.tickets
      .filter((t) => t.customerId === customerId)
      .map(({ id, subject, status }) => ({ id, subject, status }));
  }

  async reply(id: string, message: string): Promise<{ id: string; replies: number }> {
    await this.#call('reply');
    const ticket = this.#find(id);
    if (ticket === undefined) throw new Error(`no ticket ${id}`);
    this.#replace({ ...ticket, replies: [...ticket.replies, message] });
    return { id, replies: ticket.replies.length + 1 };
  }

  async createTicket(customerId: string, subject: string, tag: string): Promise<{ id: string }> {
    await this.#call('createTicket');
    const id = `T-${this.#world.nextTicket++}`;
    this.#world.tickets.push({ id, customerId, subject, status: 'open', tag, replies: [] });
    this.#save();
    return { id };
  }

  async searchArticles(query: string): Promise<Article[]> {
    await this.#call('searchArticles');
    const words = query.toLowerCase().split(/\W+/);
    return ARTICLES.filter((a) => words.some((w) => w.length > 3 && a.title.toLowerCase().startsWith(w)));
  }

  async #call(endpoint: string): Promise<void> {
    this.calls++;
    this.callsByEndpoint.set(endpoint, (this.callsByEndpoint.get(endpoint) ?? 0) + 1);
    await sleep(LATENCY_MS);
  }

  #find(id: string): Ticket | undefined {
    return this.#world.tickets.find((t) => t.id === id);
  }

  #replace(ticket: Ticket): void {
    this.#world.tickets = this.#world.tickets.map((t) => (t.id === ticket.id ? ticket : t));
    this.#save();
  }

  /** Written whole to a temporary file and renamed over the old one: a run stopped midway leaves a valid file. */
  #save(): void {
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.#world, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}
