/**
 * Generations and freshness for a MemoryBackend.
 *
 * Generations come from one monotonic counter, and every change of any generation (a bump, a forgotten tag, a
 * cleared session or backend) advances a clock. What an entry depends on (its tags, their generations when the
 * execution that produced it started, its session) is a stamp, shared by every entry stored with the same ones:
 * usually every entry of a tool between two invalidations of its resources. A stamp found current at some clock
 * stays current until the clock moves; then the next hit of any of its entries checks it again, once for all of
 * them. So a hit costs no generation lookup while nothing is invalidated, invalidating other resources costs the
 * hits of this one a check per stamp rather than per entry, and an invalidation touches no entry at all.
 *
 * The generation table is bounded: when a tag is forgotten, the `floor` rises to its generation and every tag not
 * in the table reads as `floor`, so an entry recorded against a forgotten tag can only turn stale (a spurious
 * miss), never fresh again.
 */
export class Stamp {
  /** The clock when every generation was last found current (-1: never). */
  checkedAt = -1;

  constructor(
    /** The backend whose generations these are (an entry of another backend is never current here). */
    readonly owner: object,
    readonly tags: readonly string[],
    readonly gens: readonly number[],
    readonly sessionId: string | undefined,
  ) {}
}

/** Distinct tag sets whose latest stamp is kept for sharing; past that, sharing starts over (nothing else changes). */
const MAX_SHARED = 10_000;

export class Stamps {
  readonly #owner: object;
  readonly #maxGenerations: number;
  #gens = new Map<string, number>();
  #clock = 0;
  #floor = 0;
  /** Latest stamp per tag set and session, by signature. */
  #shared = new Map<string, Stamp>();
  /** The stamp of the last store whose tags array was frozen (it cannot have changed since). */
  #last: { readonly source: readonly string[]; readonly stamp: Stamp } | undefined;
  /** Tags bumped on behalf of each session, forgotten when the session ends. */
  #sessionTags = new Map<string, Set<string>>();

  constructor(owner: object, maxGenerations: number) {
    this.#owner = owner;
    this.#maxGenerations = maxGenerations;
  }

  /** Ids of the sessions with tag generations held. */
  sessions(): IterableIterator<string> {
    return this.#sessionTags.keys();
  }

  generations(tags: readonly string[]): readonly number[] {
    // The tags of the last store (the same frozen array) whose stamp is still current: its generations are theirs.
    const last = this.#last;
    if (last !== undefined && last.source === tags && this.current(last.stamp)) return last.stamp.gens;
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) out[i] = this.#gens.get(tags[i]!) ?? this.#floor;
    return out;
  }

  /** Whether every tag of the stamp still has the generation it recorded. */
  current(stamp: Stamp): boolean {
    return stamp.checkedAt === this.#clock || this.#check(stamp);
  }

  /**
   * The stamp of an entry about to be stored with these tags, generations and session — an existing one when it
   * can be shared — or undefined when one of the generations is no longer current (the entry must not be stored).
   */
  stampOf(
    tags: readonly string[],
    gens: readonly number[],
    sessionId: string | undefined,
  ): Stamp | undefined {
    // The read path hands the same frozen tags for every miss of a tool: no signature to build.
    const last = this.#last;
    if (last !== undefined && last.source === tags && last.stamp.sessionId === sessionId) {
      if (sameNumbers(last.stamp.gens, gens)) return this.current(last.stamp) ? last.stamp : undefined;
    }
    const stamp = this.#share(tags, gens, sessionId);
    if (stamp !== undefined && Object.isFrozen(tags)) this.#last = { source: tags, stamp };
    return stamp;
  }

  #share(tags: readonly string[], gens: readonly number[], sessionId: string | undefined): Stamp | undefined {
    const signature = signatureOf(tags, sessionId);
    const known = this.#shared.get(signature);
    if (known !== undefined && sameNumbers(known.gens, gens)) return this.current(known) ? known : undefined;
    const stamp = new Stamp(this.#owner, [...tags], [...gens], sessionId);
    if (!this.#check(stamp)) return undefined;
    if (this.#shared.size >= MAX_SHARED) this.#shared.clear();
    this.#shared.set(signature, stamp);
    return stamp;
  }

  bump(tags: readonly string[], sessionId: string | undefined): void {
    for (const tag of tags) {
      this.#gens.delete(tag);
      this.#gens.set(tag, ++this.#clock);
      if (sessionId !== undefined) addTo(this.#sessionTags, sessionId, tag);
    }
    while (this.#gens.size > this.#maxGenerations) {
      const [oldest, gen] = this.#gens.entries().next().value as [string, number];
      this.#gens.delete(oldest);
      if (gen > this.#floor) this.#floor = gen;
    }
  }

  /** Forgets the generations of the session's own tags: they read as the floor again. */
  clearSession(sessionId: string): void {
    const tags = this.#sessionTags.get(sessionId);
    if (tags === undefined) return;
    for (const tag of tags) this.#gens.delete(tag);
    this.#sessionTags.delete(sessionId);
    this.#clock++; // those tags changed generation: every stamp must be checked again
  }

  /** Every generation recorded before now differs from what tags read from now on: no snapshot matches again. */
  clear(): void {
    this.#gens.clear();
    this.#shared.clear();
    this.#last = undefined;
    this.#sessionTags.clear();
    this.#floor = ++this.#clock;
  }

  #check(stamp: Stamp): boolean {
    const { tags, gens } = stamp;
    for (let i = 0; i < tags.length; i++) {
      if ((this.#gens.get(tags[i]!) ?? this.#floor) !== gens[i]) return false;
    }
    stamp.checkedAt = this.#clock;
    return true;
  }
}

/** Names a tag set and a session unambiguously (tags and session ids may hold any character). */
function signatureOf(tags: readonly string[], sessionId: string | undefined): string {
  let s = sessionId === undefined ? '-' : `${sessionId.length}:${sessionId}`;
  for (let i = 0; i < tags.length; i++) s += `,${tags[i]!.length}:${tags[i]}`;
  return s;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function addTo(index: Map<string, Set<string>>, id: string, member: string): void {
  const set = index.get(id);
  if (set) set.add(member);
  else index.set(id, new Set([member]));
}
