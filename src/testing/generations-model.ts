/**
 * The backend contract suite's model-based case: random sequences of snapshots, stores, reads, bumps, deletes and
 * clears, each run on a fresh backend and checked against a model of generations. A failing sequence is shortened to the fewest
 * operations that still fail before it is reported, together with the seed that produced it.
 */
import { AssertionError } from 'node:assert';
import type { Backend } from '../backends/contract.js';
import { type Random, seededRandom } from './random.js';

const TAGS = ['t:a', 't:b', 'r:x', 'r:\ud800'] as const;
const KEYS = ['k1', 'k2', 'k\ud800'] as const;

export type ModelOperation =
  | { readonly kind: 'snapshot'; readonly tags: readonly string[] }
  | { readonly kind: 'set'; readonly key: string; readonly snapshot: number }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'bump'; readonly tags: readonly string[] }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'clear' };

function randomOperation(random: Random): ModelOperation {
  switch (random.below(6)) {
    case 0:
      return { kind: 'snapshot', tags: random.subset(TAGS, 3) };
    case 1:
      return { kind: 'set', key: random.pick(KEYS), snapshot: random.below(1_000) };
    case 2:
      return { kind: 'get', key: random.pick(KEYS) };
    case 3:
      return { kind: 'bump', tags: random.subset(TAGS, 3) };
    case 4:
      return { kind: 'delete', key: random.pick(KEYS) };
    default:
      return { kind: 'clear' };
  }
}

export function randomOperations(random: Random, max: number): ModelOperation[] {
  return Array.from({ length: 1 + random.below(max) }, () => randomOperation(random));
}

interface Snapshot {
  readonly tags: readonly string[];
  readonly gens: readonly number[];
  readonly versions: readonly number[];
  readonly epoch: number;
}

/** Runs `ops` on `backend`; throws an AssertionError at the first answer the model disagrees with. */
export async function runAgainstModel(backend: Backend, ops: readonly ModelOperation[]): Promise<void> {
  // The model: a version per tag, and an epoch that clear() moves (every older snapshot is dead).
  const version = new Map<string, number>();
  let epoch = 0;
  const snapshots: Snapshot[] = [];
  const stored = new Map<string, { readonly snapshot: Snapshot; readonly value: number }>();
  // An entry without tags depends on nothing, so not even clear() can make its snapshot old.
  const current = (s: Snapshot) =>
    s.tags.length === 0 ||
    (s.epoch === epoch && s.tags.every((t, i) => (version.get(t) ?? 0) === s.versions[i]));
  let n = 0;
  for (const [index, op] of ops.entries()) {
    const disagree = (what: string, actual: unknown, expected: unknown) =>
      new AssertionError({ message: `operation ${index + 1} (${describe(op)}): ${what}`, actual, expected });
    if (op.kind === 'snapshot') {
      snapshots.push({
        tags: op.tags,
        gens: await backend.generations(op.tags),
        versions: op.tags.map((t) => version.get(t) ?? 0),
        epoch,
      });
    } else if (op.kind === 'set' && snapshots.length > 0) {
      const snapshot = snapshots[op.snapshot % snapshots.length]!;
      const value = ++n;
      const ok = await backend.set(op.key, {
        value,
        expiresAt: 0,
        tags: snapshot.tags,
        gens: snapshot.gens,
      });
      if (ok !== current(snapshot)) {
        throw disagree(
          current(snapshot)
            ? 'set() refused a store whose snapshot is current'
            : 'set() stored with an old snapshot',
          ok,
          current(snapshot),
        );
      }
      if (ok) stored.set(op.key, { snapshot, value });
    } else if (op.kind === 'get') {
      const model = stored.get(op.key);
      const expected = model !== undefined && current(model.snapshot) ? model.value : undefined;
      const actual = (await backend.get(op.key))?.value;
      if (actual !== expected) throw disagree('get() answered another value', actual, expected);
    } else if (op.kind === 'bump') {
      await backend.bump(op.tags);
      for (const t of new Set(op.tags)) version.set(t, (version.get(t) ?? 0) + 1);
    } else if (op.kind === 'delete') {
      await backend.delete(op.key);
      stored.delete(op.key);
    } else if (op.kind === 'clear') {
      await backend.clear();
      epoch++;
      version.clear();
      stored.clear();
    }
  }
}

function describe(op: ModelOperation): string {
  const { kind, ...rest } = op;
  return Object.keys(rest).length === 0 ? kind : `${kind} ${JSON.stringify(rest)}`;
}

/**
 * The shortest sequence, found by dropping one operation at a time, that still fails (with its error), starting from
 * `ops`, which failed with `error`. Bounded by `budget` re-runs: each opens a fresh backend.
 */
export async function shrink(
  ops: readonly ModelOperation[],
  error: unknown,
  attempt: (ops: readonly ModelOperation[]) => Promise<unknown>,
  budget = 200,
): Promise<{ readonly ops: readonly ModelOperation[]; readonly error: unknown }> {
  let best = { ops, error };
  let progress = true;
  while (progress && budget > 0) {
    progress = false;
    for (let i = best.ops.length - 1; i >= 0 && budget > 0; i--) {
      const candidate = [...best.ops.slice(0, i), ...best.ops.slice(i + 1)];
      budget--;
      const failure = await attempt(candidate);
      if (failure !== undefined) {
        best = { ops: candidate, error: failure };
        progress = true;
      }
    }
  }
  return best;
}

/**
 * `runs` random sequences from `seed`, each on a backend of its own that `open` makes and this closes; throws an AssertionError naming the seed and the shortest failing sequence. */
export async function checkGenerationsModel(
  open: () => Promise<Backend>,
  options: { readonly seed: number; readonly runs: number; readonly maxOperations: number },
): Promise<void> {
  const attempt = async (ops: readonly ModelOperation[]): Promise<unknown> => {
    const backend = await open();
    try {
      await runAgainstModel(backend, ops);
      return undefined;
    } catch (error) {
      return error ?? new AssertionError({ message: 'undefined was thrown' });
    } finally {
      await backend.close();
    }
  };
  const random = seededRandom(options.seed);
  for (let run = 0; run < options.runs; run++) {
    const ops = randomOperations(random, options.maxOperations);
    const error = await attempt(ops);
    if (error === undefined) continue;
    const smallest = await shrink(ops, error, attempt);
    const reason = smallest.error instanceof Error ? smallest.error.message : String(smallest.error);
    throw new AssertionError({
      message:
        `the backend disagrees with the model of generations (seed ${options.seed}, run ${run + 1}): ${reason}\n` +
        `shortest failing sequence of ${smallest.ops.length} operations:\n` +
        smallest.ops.map((op, i) => `  ${i + 1}. ${describe(op)}`).join('\n'),
    });
  }
}
