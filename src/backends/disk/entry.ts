import type { BackendEntry } from '../contract.js';
import { fromStorable } from '../storable-text.js';

/**
 * An entry read back from the file. Its tags and gens stay JSON until someone asks for them: the read path of the
 * core only needs the value, and parsing two arrays on every hit would be a measurable part of a disk hit.
 */
export class DiskEntry implements BackendEntry {
  readonly value: unknown;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly durationMs: number;
  readonly #tagsJson: string;
  readonly #gensJson: string;
  readonly #sessionId: string | null;
  #tags: readonly string[] | undefined;
  #gens: readonly number[] | undefined;

  constructor(
    value: unknown,
    expiresAt: number,
    tagsJson: string,
    gensJson: string,
    sessionId: string | null,
    createdAt: number,
    durationMs: number,
  ) {
    this.value = value;
    this.expiresAt = expiresAt;
    this.createdAt = createdAt;
    this.durationMs = durationMs;
    this.#tagsJson = tagsJson;
    this.#gensJson = gensJson;
    this.#sessionId = sessionId;
  }

  get tags(): readonly string[] {
    this.#tags ??= (JSON.parse(this.#tagsJson) as string[]).map(fromStorable);
    return this.#tags;
  }

  get gens(): readonly number[] {
    this.#gens ??= JSON.parse(this.#gensJson) as number[];
    return this.#gens;
  }

  get sessionId(): string | undefined {
    return this.#sessionId === null ? undefined : fromStorable(this.#sessionId);
  }
}
