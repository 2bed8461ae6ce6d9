/**
 * The faults of the Redis scenario, injected into a redis-server of our own while the processes of a row run their
 * load. Each resolves at the moment the fault is over (the server answers again, or the last kill was sent), which is
 * where "time until caching resumes" is measured from.
 */
import { Redis } from 'ioredis';
import type { OwnRedis } from '../../test/backends/fixtures/redis.js';

export type FaultKind = 'kill -9 and restart' | 'SIGSTOP' | 'CLIENT KILL normal' | 'CLIENT KILL pubsub';

export const FAULTS: readonly FaultKind[] = [
  'kill -9 and restart',
  'SIGSTOP',
  'CLIENT KILL normal',
  'CLIENT KILL pubsub',
];

export interface FaultTiming {
  /** How long the server is down (kill -9 to restart) or stopped (SIGSTOP to SIGCONT), ms. */
  readonly outageMs: number;
  /** CLIENT KILL: how many kills, and the pause between two. */
  readonly kills: number;
  readonly killEveryMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the row's description says each fault does. */
export function describeFault(kind: FaultKind, t: FaultTiming): string {
  switch (kind) {
    case 'kill -9 and restart':
      return `SIGKILL of redis-server, restarted on the same port ${t.outageMs} ms later, empty (no persistence)`;
    case 'SIGSTOP':
      return `SIGSTOP of redis-server for ${t.outageMs} ms (connections stay open, nothing answers), then SIGCONT`;
    case 'CLIENT KILL normal':
      return `\`CLIENT KILL TYPE normal\` ${t.kills} times, ${t.killEveryMs} ms apart (every command connection)`;
    case 'CLIENT KILL pubsub':
      return `\`CLIENT KILL TYPE pubsub\` ${t.kills} times, ${t.killEveryMs} ms apart (every subscription)`;
  }
}

/** Injects `kind` and resolves when it is over. */
export async function inject(server: OwnRedis, kind: FaultKind, t: FaultTiming): Promise<void> {
  switch (kind) {
    case 'kill -9 and restart':
      await server.stop(); // SIGKILL
      await sleep(t.outageMs);
      await server.start();
      return;
    case 'SIGSTOP':
      server.signal('SIGSTOP');
      try {
        await sleep(t.outageMs);
      } finally {
        server.signal('SIGCONT');
      }
      return;
    case 'CLIENT KILL normal':
    case 'CLIENT KILL pubsub': {
      const control = new Redis(server.url, { maxRetriesPerRequest: 3 });
      control.on('error', () => {});
      const type = kind === 'CLIENT KILL normal' ? 'normal' : 'pubsub';
      try {
        for (let i = 0; i < t.kills; i++) {
          if (i > 0) await sleep(t.killEveryMs);
          await control.client('KILL', 'TYPE', type, 'SKIPME', 'yes');
        }
      } finally {
        control.disconnect();
      }
      return;
    }
  }
}
