/**
 * Unicode and separator-laden tool names, resource names, session ids and arguments, on every backend: no two of
 * them ever share an entry, an invalidation reaches exactly the entries of its resource, and no session ever sees
 * another's entries (nor does a new session that reuses an ended one's id).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  type Backend,
  invalidateResource,
} from '../../src/index.js';
import { type BackendName, Check, type Place } from './checks.js';

/**
 * Strings that break naive key building: separators of common key formats (`:`, `*`, `"`, `\`, `{}`, newlines,
 * NUL), strings that differ only by what a UTF-8 encoder would replace (lone surrogates and U+FFFD), Unicode
 * normalization twins, pairs that collide when concatenated (`a:b`+`c` and `a`+`b:c`), lookalikes of the library's
 * own key parts, and very long ones.
 */
export const HOSTILE: readonly string[] = [
  // The first ones are the CI set: one of each kind.
  'a',
  'a:b',
  'b:c',
  'c',
  ':',
  '*',
  '"',
  '\\',
  '\n',
  '\0',
  'a\0b',
  '\uD800',
  '\uDC00',
  '\uFFFD',
  'é',
  'e\u0301',
  '😀👩‍👩‍👧',
  'x'.repeat(10_000),
  '::',
  'a*',
  '?',
  '[a]',
  '"a"',
  "'",
  '\\"',
  'a\nb',
  '\r\n',
  '\0a',
  '\uDC00\uD800',
  '\uD83D\uDE00',
  ' ',
  'a ',
  '{',
  '}',
  '{}',
  'g',
  's"x"',
  '""',
  '"g"',
  '%s',
  '\u2028',
  '__proto__',
  'constructor',
  'app:{}e:x',
  '😀'.repeat(5_000),
];

/** Arguments: the hostile strings in use, and a few structures keyed by them. */
const argumentsFor = (names: readonly string[]): readonly unknown[] => [
  ...names,
  '',
  { ':': 1 },
  { '\0': 1 },
  { '\uD800': 1 },
  { '\uFFFD': 1 },
  ['a:b', 'c'],
  ['a', 'b:c'],
];

let wraps = 0;

function ident(...parts: unknown[]): string {
  return JSON.stringify(parts, (_k, v) => (v === undefined ? '<undefined>' : v));
}

/** Tools named with hostile names, called with hostile arguments: each call gets exactly its own entry. */
async function toolsAndArguments(backend: Backend, check: Check, names: readonly string[]): Promise<void> {
  const runs = new Map<string, number>();
  const args = argumentsFor(names);
  const tools = names.map((name) =>
    AgentCache({ name, backend })(async function hostileTool(arg: unknown) {
      const id = ident(name, arg);
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { name, arg };
    }),
  );
  for (let round = 0; round < 2; round++) {
    for (let t = 0; t < tools.length; t++) {
      for (const arg of args) {
        const name = names[t]!;
        const got = await check.call(`tool ${JSON.stringify(name).slice(0, 40)}`, () => tools[t]!(arg));
        check.cases++;
        if (got === undefined) continue;
        const id = ident(name, arg);
        if (!isDeepStrictEqual(got.value, { name, arg })) {
          check.fail('collision', `${id.slice(0, 80)} returned ${ident(got.value).slice(0, 80)}`);
        } else if (round === 0 && runs.get(id) !== 1) {
          check.fail('collision', `${id.slice(0, 80)} was served without running`);
        } else if (round === 1 && runs.get(id) !== 1) {
          check.fail('not cached', `${id.slice(0, 80)} ran again`);
        }
      }
    }
  }
}

/** Reads tagged with hostile resource names; invalidating one makes exactly that one miss. */
async function resources(backend: Backend, check: Check, names: readonly string[]): Promise<void> {
  const runs = new Map<string, number>();
  const read = AgentCache({
    name: `hostile.byResource.${++wraps}`,
    backend,
    resource: (r: string) => r,
  })(async function byResource(r: string) {
    runs.set(r, (runs.get(r) ?? 0) + 1);
    return r;
  });
  for (const r of names) await check.call('store', () => read(r));
  for (const target of names) {
    await invalidateResource(target);
    for (const r of names) {
      const before = runs.get(r) ?? 0;
      const got = await check.call('read after invalidation', () => read(r));
      check.cases++;
      if (got === undefined) continue;
      if (got.value !== r) check.fail('collision', `read of ${ident(r)} returned ${ident(got.value)}`);
      const ran = (runs.get(r) ?? 0) > before;
      if (r === target && !ran) check.fail('invalidation missed', `${ident(r)} still served`);
      if (r !== target && ran)
        check.fail('invalidation leaked', `invalidating ${ident(target)} dropped ${ident(r)}`.slice(0, 200));
    }
  }
}

/**
 * Concurrent sessions with hostile ids call one session-scoped tool with the same arguments (the other sessions'
 * ids among them): each sees only its own entries, a session-scoped write reaches only its own session, ending one
 * leaves the others' entries, and a new session with an ended one's id starts empty.
 */
async function sessions(backend: Backend, check: Check, ids: readonly string[]): Promise<void> {
  const runs = new Map<string, number>();
  const n = ++wraps;
  const mine = AgentCache({ name: `hostile.mine.${n}`, scope: 'session', backend, resource: 'shared' })(
    async function mine(arg: string) {
      const session = AgentCacheSession.current()!.sessionId;
      const id = ident(session, arg);
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { session, arg };
    },
  );
  const touch = AgentCacheInvalidator({
    name: `hostile.touch.${n}`,
    scope: 'session',
    backend,
    resource: 'shared',
  })(async function touch() {});
  const args = ids.slice(0, Math.min(12, Math.ceil(ids.length / 2)));
  const expectRun = async (s: AgentCacheSession, arg: string, shouldRun: boolean, what: string) => {
    const id = ident(s.sessionId, arg);
    const before = runs.get(id) ?? 0;
    const got = await check.call(what, () => s.run(() => mine(arg)));
    check.cases++;
    if (got === undefined) return;
    if (got.value.session !== s.sessionId || got.value.arg !== arg)
      check.fail(
        'leak between sessions',
        `${id.slice(0, 60)} got ${ident(got.value).slice(0, 60)} (${what})`,
      );
    const ran = (runs.get(id) ?? 0) > before;
    if (ran !== shouldRun)
      check.fail(
        shouldRun ? 'leak between sessions' : 'not cached',
        `${id.slice(0, 60)}: ${ran ? 'ran' : 'was served'} (${what})`,
      );
  };
  const all = ids.map((sessionId) => new AgentCacheSession({ sessionId }));
  await Promise.all(
    all.map(async (s) => {
      for (const arg of args) await expectRun(s, arg, true, 'first call');
    }),
  );
  await Promise.all(
    all.map(async (s) => {
      for (const arg of args) await expectRun(s, arg, false, 'second call');
    }),
  );
  // A session-scoped write in the first session: only its entries of the resource go.
  await all[0]!.run(() => touch());
  await expectRun(all[0]!, args[0]!, true, 'after its own session-scoped write');
  for (const s of all.slice(1)) await expectRun(s, args[0]!, false, "after another session's write");
  // End them one by one: the others keep their entries.
  for (let i = 0; i < all.length; i++) {
    await all[i]!.end();
    for (const s of all.slice(i + 1)) await expectRun(s, args[1]!, false, `after session ${i} ended`);
  }
  // A new session reusing an ended one's id sees nothing of it.
  for (const sessionId of ids.slice(0, 6)) {
    const again = new AgentCacheSession({ sessionId });
    await expectRun(again, args[1]!, true, 'new session with an ended id');
    await again.end();
  }
}

/**
 * `count`: how many of the hostile strings are used as tool names (each called with every argument), resource names
 * and session ids.
 */
export async function hostileNames(place: Place, kind: BackendName, count: number): Promise<Check[]> {
  const names = HOSTILE.slice(0, count);
  const backend = await place.open(kind);
  const a = new Check('hostile tool names × arguments', kind);
  await toolsAndArguments(backend, a, names);
  const b = new Check('hostile resource names', kind);
  await resources(backend, b, names);
  const c = new Check('hostile session ids', kind);
  await sessions(backend, c, names);
  return [a, b, c];
}
