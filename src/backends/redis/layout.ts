import { AgentCacheTypeError } from '../../errors.js';
import { storable } from '../storable-text.js';
import { keySlot, SLOTS } from './slots.js';

/**
 * Where everything lives in Redis (docs/redis-layout.md describes it for operators). Every key of a backend starts
 * with its prefix followed by `{`, and a prefix may not contain `{`: so no key of prefix `app:` can match the
 * pattern of `app:tenant2:` or the reverse (after `app:` comes `{` in one and `t` in the other), whatever `clear()`,
 * session end or a SCAN looks for.
 *
 * The braces are also Redis Cluster hash tags:
 * - `P{}e:<key>` an entry and `P{}s:<session>` a session's index: `{}` is an empty hash tag, so the whole key is
 *   hashed and entries and sessions spread over every slot of a cluster;
 * - `P{<shard>}g:<tag>` a tag's generation, `P{<shard>}clock` and `P{<shard>}floor` the counter its generations
 *   come from and the generation of the shard's tags without a key. A tag's shard is a hash of the tag; the 256
 *   shard names are chosen so that shard i hashes to a slot in the i-th 1/256 of the slot space, so tags spread
 *   evenly over the nodes of any cluster, and a tag, its shard's clock and floor always share one slot (one
 *   command, one script).
 * - Channels: `P{}inv` carries invalidations to every process's L1, `P{}hb:<id>` one process's heartbeats.
 */
export const SHARDS = 256;

/** `SHARD_TAGS[i]` hashes to a slot in [i * 64, (i + 1) * 64): the first base-36 numeral that does. */
const SHARD_TAGS: readonly string[] = (() => {
  const tags = new Array<string>(SHARDS);
  const width = SLOTS / SHARDS;
  for (let n = 0, found = 0; found < SHARDS; n++) {
    const candidate = n.toString(36);
    const shard = Math.floor(keySlot(candidate) / width);
    if (tags[shard] === undefined) {
      tags[shard] = candidate;
      found++;
    }
  }
  return tags;
})();

const SHARD_BY_TAG = new Map(SHARD_TAGS.map((tag, shard) => [tag, shard]));

/** A tag's generation key and shard, computed once per tag (tags repeat on every call of a tool). */
export interface TagKey {
  readonly key: string;
  readonly shard: number;
}

const MAX_MEMO = 100_000;

export class KeyLayout {
  readonly prefix: string;
  /** Invalidations for every process's L1. */
  readonly channel: string;
  readonly #entry: string;
  readonly #session: string;
  readonly #shardBase: readonly string[];
  readonly #clocks: readonly string[];
  readonly #floors: readonly string[];
  readonly #tags = new Map<string, TagKey>();

  constructor(prefix: string) {
    if (typeof prefix !== 'string')
      throw new AgentCacheTypeError('RedisBackend: option `prefix` must be a string');
    if (prefix.includes('{')) {
      throw new AgentCacheTypeError(
        `RedisBackend: option \`prefix\` may not contain "{" (the key layout uses it to keep prefixes apart and to place keys on Redis Cluster slots), got ${JSON.stringify(prefix)}`,
      );
    }
    this.prefix = prefix;
    this.channel = `${prefix}{}inv`;
    this.#entry = `${prefix}{}e:`;
    this.#session = `${prefix}{}s:`;
    this.#shardBase = SHARD_TAGS.map((tag) => `${prefix}{${tag}}`);
    this.#clocks = this.#shardBase.map((base) => `${base}clock`);
    this.#floors = this.#shardBase.map((base) => `${base}floor`);
  }

  /** `k` in its storable() form. */
  entryKey(k: string): string {
    return this.#entry + k;
  }

  /** The set of a session's entry and generation keys; `sid` in its storable() form. */
  sessionKey(sid: string): string {
    return this.#session + sid;
  }

  heartbeatChannel(id: string): string {
    return `${this.prefix}{}hb:${id}`;
  }

  /** `tag` as the core gives it (not yet storable). */
  tagKey(tag: string): TagKey {
    let known = this.#tags.get(tag);
    if (known === undefined) {
      const shard = shardOf(tag);
      known = { key: `${this.#shardBase[shard]}g:${storable(tag)}`, shard };
      if (this.#tags.size >= MAX_MEMO) this.#tags.clear();
      this.#tags.set(tag, known);
    }
    return known;
  }

  clockKey(shard: number): string {
    return this.#clocks[shard]!;
  }

  floorKey(shard: number): string {
    return this.#floors[shard]!;
  }

  /** SCAN pattern of every key of this prefix, and of no other prefix's. */
  get pattern(): string {
    return `${globEscape(this.prefix)}{*`;
  }

  /** SCAN pattern of this prefix's entries. */
  get entryPattern(): string {
    return `${globEscape(this.#entry)}*`;
  }

  /** What a key found by SCAN is: an entry or session index (deleted by clear()), a tag generation, or a counter. */
  kindOf(key: string): 'entry' | 'session' | 'tag' | 'counter' | 'foreign' {
    if (key.startsWith(this.#entry)) return 'entry';
    if (key.startsWith(this.#session)) return 'session';
    const close = key.indexOf('}', this.prefix.length);
    if (!key.startsWith(`${this.prefix}{`) || close === -1) return 'foreign';
    const rest = key.slice(close + 1);
    if (rest.startsWith('g:')) return 'tag';
    return rest === 'clock' || rest === 'floor' ? 'counter' : 'foreign';
  }

  /** The shard of a generation or counter key found by SCAN (-1 if it is not one). */
  shardOfKey(key: string): number {
    const close = key.indexOf('}', this.prefix.length);
    return SHARD_BY_TAG.get(key.slice(this.prefix.length + 1, close)) ?? -1;
  }
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\^]/g, '\\$&');
}

/** FNV-1a over the UTF-16 code units, folded to a shard: placement only (the tag itself is the key). */
function shardOf(tag: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 8) ^ (h >>> 16) ^ (h >>> 24)) & (SHARDS - 1);
}
