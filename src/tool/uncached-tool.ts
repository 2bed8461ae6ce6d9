import { getDefaults } from '../config.js';
import { KeyMemo } from '../key/memo.js';
import type { Counters } from '../metrics/counters.js';
import { globalMetrics } from '../metrics/global.js';
import { bypassChannel } from '../observe/channels.js';
import { observeBypass, observed } from '../observe/publish.js';
import { contextStorage } from '../session/context.js';
import { loopGate, trackOutcome } from './loop-gate.js';
import { toolKeyPrefix } from './tags.js';
import type { AnyFunction } from './wrap.js';

/**
 * A tool that an adapter runs on every call, never cached nor coalesced (a tool the user did not list, or listed
 * as `false`), but that still belongs to the session: inside one with loop detection, each call is recorded by
 * its key material, checked before it runs and counted; elsewhere it just runs. Counted in `bypassed`.
 *
 * Internal, for the framework adapters: `key` picks the material from the arguments (the input only), and the
 * function receives the call's `this` (where adapters carry the framework's per-call context).
 */
export class UncachedTool {
  readonly name: string;
  readonly #fn: AnyFunction;
  readonly #key: ((...args: unknown[]) => unknown) | undefined;
  readonly #counters: Counters;
  readonly #keys = new KeyMemo({ slots: 64, maxSlots: 64 });

  constructor(name: string, fn: AnyFunction, key?: (...args: unknown[]) => unknown) {
    this.name = name;
    this.#fn = fn;
    this.#key = key;
    this.#counters = globalMetrics.tool(name);
  }

  call(thisArg: unknown, args: unknown[]): Promise<unknown> {
    const frame = contextStorage.getStore();
    const session = frame?.session;
    this.#counters.bypassed++;
    if (session === undefined) return this.#run(thisArg, args);
    session.metrics.tool(this.name).bypassed++;
    if (session.loop === undefined || session.ended) return this.#run(thisArg, args);
    let key: string | undefined;
    try {
      const material = this.#key === undefined ? args : this.#key.apply(thisArg, args);
      key = this.#keys.key(material, toolKeyPrefix(getDefaults().namespace, this.name), '');
    } catch {
      key = undefined; // still counts toward depth and retry storms
    }
    const depth = frame!.depth + 1;
    const verdict = loopGate(session, this.name, key, args, depth, this.#counters);
    if (verdict instanceof Error) return Promise.reject(verdict);
    // Nothing is stored for such a tool: short-circuiting it means not running it.
    if (verdict === 'short_circuit') return Promise.resolve(undefined);
    const run = contextStorage.run({ session, depth }, () => this.#run(thisArg, args));
    return trackOutcome(session, this.name, run);
  }

  #run(thisArg: unknown, args: unknown[]): Promise<unknown> {
    if (!observed(bypassChannel)) return this.#execute(thisArg, args);
    const session = contextStorage.getStore()?.session;
    return observeBypass(() => this.#execute(thisArg, args), this.name, undefined, session, 'not-cached');
  }

  async #execute(thisArg: unknown, args: unknown[]): Promise<unknown> {
    try {
      return await this.#fn.apply(thisArg, args);
    } catch (error) {
      this.#counters.errors++;
      const session = contextStorage.getStore()?.session;
      if (session !== undefined) session.metrics.tool(this.name).errors++;
      throw error;
    }
  }
}
