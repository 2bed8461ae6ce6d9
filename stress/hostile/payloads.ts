/**
 * Payloads crafted to run code or pollute prototypes under a naive design, written into the cache as values.
 *
 * Why the v8 deserializer that the disk and Redis backends use cannot run code: its format has no tag for a
 * function, a class or source text. It rebuilds only data — primitives, plain objects and arrays, Date, RegExp (a
 * pattern and flags; it is compiled, never executed), Map, Set, Error (message and stack as strings), ArrayBuffer and
 * its views — and Node's deserializer adds only Buffers and typed arrays as host objects. Properties are defined as
 * own data properties (no setter, no getter, no `__proto__` assignment runs) and every object gets the standard
 * prototype of its kind, so no constructor or method of any class is ever called. A payload that is not in this
 * format, or is truncated, throws: that is a miss. What a crafted payload can do is what any data can: be served
 * as data, if it also carries generations that are current (the cache file and the Redis are trusted storage —
 * mode 0600, and whoever can write them can also write the source of truth).
 */
import { serialize } from 'node:v8';

/** Set by a payload that got to run. */
export const CANARY = '__agentCachePwned';

const RUN = `function(){ globalThis.${CANARY} = 'node-serialize' }()`;

/** node-serialize's function marker (CVE-2017-5941): its unserialize() evaluates what follows it. */
export const NODE_SERIALIZE = { rce: `_$$ND_FUNC$$_${RUN}` };

/** Valid v8-serialized values of the kinds a naive design would act on. */
export function craftedValues(): { readonly name: string; readonly bytes: Buffer }[] {
  return [
    { name: 'node-serialize function marker', bytes: serialize(NODE_SERIALIZE) },
    {
      // An own property named __proto__ (as JSON.parse makes it): a naive merge would pollute Object.prototype.
      name: '__proto__ own property',
      bytes: serialize(
        JSON.parse(
          '{"__proto__": {"agentCachePolluted": true}, "constructor": {"prototype": {"agentCachePolluted": true}}}',
        ),
      ),
    },
    {
      name: 'superjson-style type tags',
      bytes: serialize({
        json: { f: `globalThis.${CANARY} = 'superjson'` },
        meta: { values: { f: ['custom', 'Function'] } },
      }),
    },
    { name: 'eval-looking string', bytes: serialize(`(${RUN})`) },
    // biome-ignore lint/suspicious/noThenProperty: a value that would be awaited if it came back with a function
    { name: 'thenable-looking object', bytes: serialize({ then: RUN }) },
    { name: 'Error with code in its stack', bytes: serialize(Object.assign(new Error(RUN), { stack: RUN })) },
    { name: 'catastrophic RegExp', bytes: serialize(/^(a+)+$/) },
  ];
}

/** Bytes that are not a v8 value, or a broken one. */
export function garbageValues(): { readonly name: string; readonly bytes: Buffer }[] {
  const good = serialize({ a: 'b'.repeat(100) });
  return [
    { name: 'JSON text', bytes: Buffer.from(JSON.stringify({ $type: 'Function', body: RUN })) },
    { name: 'random bytes', bytes: Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)) },
    { name: 'empty', bytes: Buffer.alloc(0) },
    { name: 'truncated v8 value', bytes: good.subarray(0, good.length >> 1) },
    // v8 header, then the host-object tag with nonsense: Node's deserializer refuses it.
    {
      name: 'forged host object',
      bytes: Buffer.from([0xff, 0x0f, 0x5c, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]),
    },
    { name: 'future v8 version', bytes: Buffer.from([0xff, 0x7f, 0x22, 0x01, 0x61]) },
  ];
}

/** True when nothing ran: no canary, no polluted prototype. */
export function inert(): boolean {
  const probe: Record<string, unknown> = {};
  return (
    (globalThis as Record<string, unknown>)[CANARY] === undefined &&
    probe.agentCachePolluted === undefined &&
    (Object.prototype as Record<string, unknown>).agentCachePolluted === undefined
  );
}

/**
 * What the payload does under a naive design that revives functions from text (node-serialize's unserialize): it
 * runs. Used once to show that the payload is live, so that "inert through agent-cache" means something.
 */
export function naiveRevive(text: string): unknown {
  // Indirect eval (global scope), as node-serialize does.
  // biome-ignore lint/security/noGlobalEval: the naive design the payload targets, run on purpose
  const evaluate = globalThis.eval;
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith('_$$ND_FUNC$$_')
      ? evaluate(`(${value.slice('_$$ND_FUNC$$_'.length)})`)
      : value,
  );
}

export function resetCanary(): void {
  delete (globalThis as Record<string, unknown>)[CANARY];
}
