import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { fromStorable } from '../storable-text.js';
import type { L1Cache } from './l1.js';
import type { KeyLayout } from './layout.js';
import type { RedisLink } from './link.js';

/** Heartbeat rounds that may be waiting for their echo; past that (a stalled Redis) no more are sent. */
const MAX_OUTSTANDING = 8;

interface Round {
  readonly sentAt: number;
  /** Echoes still to come: one per server that publishes invalidations. */
  pending: number;
}

/**
 * The subscription that keeps one process's L1 coherent: a second connection (a subscribed connection cannot send
 * commands) listening to the invalidations every process publishes from its Lua scripts.
 *
 * The L1 is served only while the subscription is proven to deliver: every `bound / 4` ms this process publishes a
 * heartbeat to its own channel through every server that publishes invalidations (the Redis, or each master of a
 * cluster), and the subscription must echo all of them. Redis delivers a connection's messages in the order it
 * published them, so an echo of a heartbeat sent at time T proves that every invalidation published on that server
 * before T has been received. When the last proof is older than `bound` (a stalled Redis with its connections still
 * open, a silent network), the feed stops being live and the L1 is emptied; when heartbeats come back it is live
 * again, emptied once more. A closed or reconnecting subscription is not live either, and empties the L1: messages may
 * have been missed. The check on a hit is a field read (reading the clock costs more than a hit on some machines):
 * the heartbeat timer reads the clock, and so does every 1024th hit, so that a process that only awaits L1 hits
 * (never returning to its event loop, where the timer runs) still notices a missing proof.
 *
 * Messages on the invalidation channel: `b<last generation>:<JSON tags>` (a bump: tag i is now at
 * last - n + 1 + i), `d<key>` (a delete), `s<session id>` (a session ended), `c` (clear).
 */
export class InvalidationFeed {
  /** Read on every L1 hit: subscribed and proven within the bound (see serves()). */
  live = false;
  readonly #link: RedisLink;
  readonly #l1: L1Cache;
  readonly #channel: string;
  readonly #heartbeats: string;
  readonly #bound: number;
  readonly #timer: NodeJS.Timeout;
  readonly #rounds = new Map<number, Round>();
  #round = 0;
  #provenAt = Number.NEGATIVE_INFINITY;
  #hits = 0;
  #subscriber: Redis | undefined;
  #subscribed = false;
  #closed = false;

  constructor(link: RedisLink, layout: KeyLayout, l1: L1Cache, bound: number) {
    this.#link = link;
    this.#l1 = l1;
    this.#channel = layout.channel;
    this.#heartbeats = layout.heartbeatChannel(randomUUID());
    this.#bound = bound;
    this.#timer = setInterval(() => this.#tick(), Math.max(1, bound / 4));
    // A heartbeat must never keep a process alive (close() stops it anyway).
    this.#timer.unref();
    this.#connect();
  }

  /** Whether the L1 may serve now. */
  serves(): boolean {
    if (!this.live) return false;
    if ((++this.#hits & 1023) !== 0) return true;
    return this.#proven(performance.now());
  }

  close(): void {
    this.#closed = true;
    this.live = false;
    this.#subscribed = false;
    clearInterval(this.#timer);
    this.#subscriber?.disconnect();
  }

  #connect(): void {
    if (this.#closed) return;
    const link = this.#link;
    let sub: Redis;
    if (link.cluster) {
      // Any node of a cluster delivers every message published on any node: listen on one master, and move to
      // another if that one goes away.
      const masters = link.masters();
      const node = masters[Math.floor(Math.random() * masters.length)];
      if (node === undefined) {
        setTimeout(() => this.#connect(), 200).unref();
        return;
      }
      sub = node.duplicate({ lazyConnect: false, retryStrategy: (n: number) => (n > 3 ? null : n * 100) });
    } else {
      sub = (link.client as Redis).duplicate();
    }
    this.#subscriber = sub;
    sub.on('error', () => {}); // failures show as not live; the command path reports them
    const down = () => {
      if (this.#subscriber !== sub) return;
      this.#subscribed = false;
      this.#down();
    };
    sub.on('close', down);
    sub.on('reconnecting', down);
    sub.on('end', () => {
      down();
      if (this.#subscriber !== sub || this.#closed) return;
      this.#subscriber = undefined;
      setTimeout(() => this.#connect(), 200).unref();
    });
    sub.on('message', (channel: string, message: string) => {
      if (this.#subscriber !== sub) return;
      if (channel === this.#heartbeats) this.#echo(message);
      else this.#onMessage(message);
    });
    sub.on('ready', () => {
      this.#subscribed = false;
      sub.subscribe(this.#channel, this.#heartbeats).then(() => {
        if (this.#closed || this.#subscriber !== sub) return;
        this.#l1.flush(); // anything cached before could have missed a message
        this.#rounds.clear();
        this.#subscribed = true;
        this.#send();
      }, down);
    });
  }

  #down(): void {
    this.live = false;
    this.#l1.flush();
  }

  #proven(now: number): boolean {
    if (now - this.#provenAt <= this.#bound) return true;
    if (this.live) this.#down();
    return false;
  }

  #tick(): void {
    if (!this.#subscribed) return;
    if (this.live) this.#proven(performance.now());
    this.#send();
  }

  /** Publishes one heartbeat round through every server that publishes invalidations. */
  #send(): void {
    if (this.#rounds.size >= MAX_OUTSTANDING) return;
    let masters: Redis[];
    try {
      masters = this.#link.masters();
    } catch {
      return;
    }
    if (masters.length === 0) return;
    const id = ++this.#round;
    this.#rounds.set(id, { sentAt: performance.now(), pending: masters.length });
    for (const node of masters) {
      node.publish(this.#heartbeats, String(id)).then(
        (receivers) => {
          // Nobody heard it (the subscription is not there): this round will never be echoed. (A cluster node
          // counts only its own subscribers, so there the answer says nothing.)
          if (!this.#link.cluster && Number(receivers) === 0) this.#rounds.delete(id);
        },
        () => this.#rounds.delete(id),
      );
    }
  }

  #echo(message: string): void {
    const id = Number(message);
    const round = this.#rounds.get(id);
    if (round === undefined || --round.pending > 0) return;
    for (const older of this.#rounds.keys()) if (older <= id) this.#rounds.delete(older);
    if (round.sentAt > this.#provenAt) this.#provenAt = round.sentAt;
    if (!this.live && this.#subscribed && performance.now() - this.#provenAt <= this.#bound) {
      this.#l1.flush(); // messages may have been late while it was not live
      this.live = true;
    }
  }

  /**
   * Anyone who can publish on the channel can send anything (another version of this library, a typo in redis-cli):
   * a message that does not parse is treated as unknown, and the L1 forgets everything. It never throws: the
   * handler runs inside ioredis' socket callback, where an exception would take the process down.
   */
  #onMessage(message: string): void {
    const l1 = this.#l1;
    try {
      switch (message[0]) {
        case 'b': {
          const colon = message.indexOf(':');
          const last = Number(message.slice(1, colon));
          const tags: unknown = colon === -1 ? undefined : JSON.parse(message.slice(colon + 1));
          if (colon > 1 && Number.isSafeInteger(last) && isStringArray(tags)) {
            l1.bumped(tags, last);
            return;
          }
          break;
        }
        case 'd':
          l1.delete(fromStorable(message.slice(1)));
          return;
        case 's':
          l1.clearSession(message.slice(1));
          return;
      }
    } catch {
      // Unparseable: forgotten below like any unknown message.
    }
    l1.flush(); // 'c' (clear) or anything unknown: the safe answer is to forget everything
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
