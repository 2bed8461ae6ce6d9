import type { BackendEntry } from '../contract.js';
import type { Stamp } from './stamps.js';

/** The longest duration kept as whole µs in the entry itself (a small integer on every platform). */
const MAX_MICROS = 2 ** 30 - 1;

/** Whole ms: createdAt is stored relative to it (see Stored). */
const EPOCH = Date.now() - (Date.now() % 1000);

/**
 * An entry of a MemoryBackend: the fields the backend contract reads, with its tags, generations and session
 * taken from its stamp (shared with the entries stored alongside it), its key (to leave the index when evicted)
 * and its recency flag. An entry object is never changed once stored, except for that flag: readers may hold it.
 */
export class Stored implements BackendEntry {
  /** Not used since the clock hand last passed it. */
  static readonly IDLE = 0;
  /** Used since: the hand spares it once. */
  static readonly USED = 1;
  /** No longer in the backend (evicted, replaced, deleted or cleared): its ring slot is free. */
  static readonly GONE = 2;

  used: number = Stored.IDLE;
  /**
   * createdAt as ms after EPOCH: a small integer, which the engine stores in the object itself, where a timestamp
   * would take a separately allocated number (16 bytes more per entry). One that is not a whole ms, or far from
   * EPOCH, is kept as given: reading it back is exact.
   */
  readonly #created: number | undefined;
  /**
   * durationMs as whole µs, a small integer kept in the object itself (a fraction of a ms would take a separately
   * allocated number); one that is not a whole number of µs, or longer than about 17 minutes, is kept as given,
   * in a box. Reading it back is exact either way (the read path measures whole µs).
   */
  readonly #micros: number | { readonly ms: number };

  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly stamp: Stamp,
    readonly expiresAt: number,
    createdAt: number,
    durationMs: number,
  ) {
    // Whole ms are stored relative to EPOCH (and stay whole); anything else as given (and is not whole).
    this.#created = createdAt === 0 ? undefined : Number.isInteger(createdAt) ? createdAt - EPOCH : createdAt;
    const micros = Math.round(durationMs * 1000);
    this.#micros =
      micros >= 0 && micros <= MAX_MICROS && micros / 1000 === durationMs ? micros : { ms: durationMs };
  }

  get durationMs(): number {
    const micros = this.#micros;
    return typeof micros === 'number' ? micros / 1000 : micros.ms;
  }

  get createdAt(): number {
    const created = this.#created;
    if (created === undefined) return 0;
    return Number.isInteger(created) ? created + EPOCH : created;
  }

  get tags(): readonly string[] {
    return this.stamp.tags;
  }

  get gens(): readonly number[] {
    return this.stamp.gens;
  }

  get sessionId(): string | undefined {
    return this.stamp.sessionId;
  }

  /** Estimated size counted against `maxBytes` (0 when the backend has no such bound). */
  size(): number {
    return 0;
  }
}

/** An entry of a backend bounded by `maxBytes`, which remembers the size it was counted with. */
export class SizedStored extends Stored {
  constructor(
    key: string,
    value: unknown,
    stamp: Stamp,
    expiresAt: number,
    createdAt: number,
    durationMs: number,
    readonly bytes: number,
  ) {
    super(key, value, stamp, expiresAt, createdAt, durationMs);
  }

  override size(): number {
    return this.bytes;
  }
}
