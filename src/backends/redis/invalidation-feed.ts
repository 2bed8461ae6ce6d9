import type { Redis } from 'ioredis';
import { fromStorable } from '../storable-text.js';
import type { L1Cache } from './l1.js';

/**
 * The subscription that keeps one process's L1 coherent: a second connection (a subscribed connection cannot send
 * commands) listening to the invalidations every process publishes from its Lua scripts.
 *
 * The feed is `live` only once SUBSCRIBE is acknowledged, and the L1 is flushed at that moment: anything cached
 * before could have missed a message. Any sign of trouble on the connection (close, reconnecting, end) makes it not
 * live and flushes the L1 again; ioredis reconnects by itself and we subscribe anew on its next `ready`.
 *
 * Messages: `b<last generation>:<JSON tags>` (a bump: tag i is now at last - n + 1 + i), `d<key>` (a delete),
 * `s<session id>` (a session ended), `c` (clear).
 */
export class InvalidationFeed {
  readonly #subscriber: Redis;
  readonly #l1: L1Cache;
  #live = false;
  #closed = false;

  constructor(client: Redis, channel: string, l1: L1Cache) {
    this.#l1 = l1;
    const sub = client.duplicate();
    this.#subscriber = sub;
    sub.on('error', () => {}); // failures show as `down`; the commands path reports them
    const down = () => {
      this.#live = false;
      l1.flush();
    };
    sub.on('close', down);
    sub.on('reconnecting', down);
    sub.on('end', down);
    sub.on('message', (_channel: string, message: string) => this.#onMessage(message));
    sub.on('ready', () => {
      this.#live = false;
      sub.subscribe(channel).then(() => {
        if (this.#closed) return;
        l1.flush();
        this.#live = true;
      }, down);
    });
  }

  get live(): boolean {
    return this.#live;
  }

  close(): void {
    this.#closed = true;
    this.#live = false;
    this.#subscriber.disconnect();
  }

  #onMessage(message: string): void {
    const l1 = this.#l1;
    switch (message[0]) {
      case 'b': {
        const colon = message.indexOf(':');
        l1.bumped(JSON.parse(message.slice(colon + 1)) as string[], Number(message.slice(1, colon)));
        break;
      }
      case 'd':
        l1.delete(fromStorable(message.slice(1)));
        break;
      case 's':
        l1.clearSession(message.slice(1));
        break;
      default:
        l1.flush(); // 'c' (clear) or anything unknown: the safe answer is to forget everything
    }
  }
}
