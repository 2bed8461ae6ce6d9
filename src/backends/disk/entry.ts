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

  /**
   * The lookups only return rows whose tags and gens are valid JSON (SQLite's own JSON reader is laxer than
   * JSON.parse); a row damaged inside that JSON still never throws here: its tags read as the raw text, a tag no
   * write uses, and its gens as none.
   */
  get tags(): readonly string[] {
    if (this.#tags === undefined) {
      try {
        this.#tags = (JSON.parse(this.#tagsJson) as unknown[]).map((tag) => fromStorable(tag as string));
      } catch {
        this.#tags = [this.#tagsJson];
      }
    }
    return this.#tags;
  }

  get gens(): readonly number[] {
    if (this.#gens === undefined) {
      try {
        const gens: unknown = JSON.parse(this.#gensJson);
        this.#gens = Array.isArray(gens) ? (gens as number[]) : [];
      } catch {
        this.#gens = [];
      }
    }
    return this.#gens;
  }

  get sessionId(): string | undefined {
    return this.#sessionId === null ? undefined : fromStorable(this.#sessionId);
  }
}
