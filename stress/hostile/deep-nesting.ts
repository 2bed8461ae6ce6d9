/**
 * Arguments and results nested 100,000 levels deep through every backend. Nothing in the library may recurse that
 * deep: a key of such arguments does not exist (the call runs uncached), and a result that a persistent backend
 * cannot serialize is returned, not stored. Either way the call returns what the tool returns, and an invalidating
 * write with such arguments still runs.
 */
import { AgentCache, AgentCacheInvalidator } from '../../src/index.js';
import { type BackendName, Check, type Place } from './checks.js';

/** Nested arrays and objects, alternating, `depth` levels deep, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { next: value };
  return value;
}

/** The depth of `value` and its bottom, walked without recursion (no deep equality check that could overflow). */
function measure(value: unknown): { depth: number; bottom: unknown } {
  let depth = 0;
  let at = value;
  for (;;) {
    if (Array.isArray(at)) at = at[0];
    else if (typeof at === 'object' && at !== null && 'next' in at) at = (at as { next: unknown }).next;
    else return { depth, bottom: at };
    depth++;
  }
}

let tools = 0;

export async function deepNesting(place: Place, kind: BackendName, depth: number): Promise<Check> {
  const check = new Check(`${depth.toLocaleString('en-US')}-deep arguments and results`, kind);
  const backend = await place.open(kind);
  const id = ++tools;
  let argRuns = 0;
  const byArgs = AgentCache({ name: `hostile.deep.args.${id}`, backend, resource: 'deep' })(
    async (_input: unknown) => {
      argRuns++;
      return 'ok';
    },
  );
  let resultRuns = 0;
  const deepResult = AgentCache({ name: `hostile.deep.result.${id}`, backend, resource: 'deep' })(
    async (_n: number) => {
      resultRuns++;
      return nested(depth);
    },
  );
  let writes = 0;
  const write = AgentCacheInvalidator({ name: `hostile.deep.write.${id}`, backend, resource: 'deep' })(
    async (_input: unknown) => {
      writes++;
    },
  );

  const input = nested(depth);
  for (let i = 0; i < 2; i++) {
    check.cases++;
    const got = await check.call('deep arguments', () => byArgs(input));
    if (got !== undefined && got.value !== 'ok')
      check.fail('wrong result', `deep arguments returned ${String(got.value)}`);
  }
  if (argRuns === 2) check.note('deep arguments ran uncached', 2);
  else check.fail('deep arguments served from the cache', `${argRuns} executions for 2 calls`);

  for (let i = 0; i < 2; i++) {
    check.cases++;
    const got = await check.call('deep result', () => deepResult(1));
    if (got === undefined) continue;
    const { depth: seen, bottom } = measure(got.value);
    if (seen !== depth || bottom !== 'bottom')
      check.fail('result changed', `depth ${seen}, bottom ${String(bottom)}`);
  }
  check.note(resultRuns === 1 ? 'deep result kept and served' : 'deep result not stored (returned as is)');

  check.cases++;
  await check.call('write with deep arguments', () => write(input));
  if (writes !== 1) check.fail('write did not run', `${writes} executions`);
  return check;
}
