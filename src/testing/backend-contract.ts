/**
 * `backendContract(name, makeBackend, options)`: registers the backend contract suite, which every agent-cache
 * backend passes, with the caller's own test runner. The runner's `it` (and optionally `describe`) come in as
 * options, so this module loads no test framework: vitest, jest, node:test and mocha all work.
 */
import type { Backend } from '../backends/contract.js';
import { AgentCacheTypeError } from '../errors.js';
import { CASES, type ContractCapabilities, type MakeOptions } from './cases.js';

export type { ContractCapabilities, MakeOptions } from './cases.js';

/** Makes a fresh, empty backend; the suite closes every backend it made. */
export type MakeBackend = (options: MakeOptions) => Backend | Promise<Backend>;

/** The test runner's registration functions, e.g. `import { describe, it } from 'node:test'` (or vitest, jest). */
export interface ContractRunner {
  /** Registers one test; its body returns a promise. `it` or `test` of any runner. */
  readonly it: (name: string, body: () => Promise<void>) => unknown;
  /** Groups the tests under `<name>: backend contract`. Optional: without it each test name carries that prefix. */
  readonly describe?: (name: string, body: () => void) => unknown;
}

export interface BackendContractOptions extends ContractRunner, ContractCapabilities {
  /**
   * Seed of the random operation sequences of the model-based case (default: a new one each run, printed when it
   * fails): pass the printed seed to replay a failure.
   */
  readonly seed?: number;
}

const METHODS = ['get', 'generations', 'set', 'bump', 'delete', 'clearSession', 'clear', 'close'] as const;

function fail(message: string): never {
  throw new AgentCacheTypeError(`backendContract: ${message}`);
}

function checkOptions(
  name: unknown,
  make: unknown,
  options: unknown,
): asserts options is BackendContractOptions {
  if (typeof name !== 'string' || name === '')
    fail(`the first argument must be the backend's name (a non-empty string), got ${typeof name}`);
  if (typeof make !== 'function')
    fail(`the second argument must be a function making a backend, got ${typeof make}`);
  if (typeof options !== 'object' || options === null) {
    fail(
      "the third argument must be an object with the test runner's `it` (and `describe`): backendContract(name, make, { describe, it })",
    );
  }
  const o = options as Record<string, unknown>;
  if (typeof o.it !== 'function')
    fail(`option \`it\` must be the test runner's it() or test() function, got ${typeof o.it}`);
  if (o.describe !== undefined && typeof o.describe !== 'function') {
    fail(`option \`describe\` must be the test runner's describe() function, got ${typeof o.describe}`);
  }
  for (const flag of ['evicts', 'serializes', 'failsAfterClose'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean')
      fail(`option \`${flag}\` must be a boolean, got ${typeof o[flag]}`);
  }
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed))
    fail(`option \`seed\` must be an integer, got ${String(o.seed)}`);
}

async function made(name: string, make: MakeBackend, options: MakeOptions): Promise<Backend> {
  const backend: unknown = await make(options);
  const missing = METHODS.filter(
    (m) => typeof (backend as Record<string, unknown> | null)?.[m] !== 'function',
  );
  if (missing.length > 0) {
    throw new AgentCacheTypeError(
      `backendContract(${name}): makeBackend() returned ${backend === null ? 'null' : typeof backend}, not a Backend: it has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`,
    );
  }
  return backend as Backend;
}

/** Closes every backend; the first failure of the case, else of a close(), is what the case reports. */
async function closeAll(backends: readonly Backend[], failed: boolean): Promise<void> {
  let closeError: unknown;
  for (const b of backends) {
    try {
      await b.close();
    } catch (error) {
      closeError ??= error;
    }
  }
  if (closeError !== undefined && !failed) throw closeError;
}

export function backendContract(
  name: string,
  makeBackend: MakeBackend,
  options: BackendContractOptions,
): void {
  checkOptions(name, makeBackend, options);
  const caps: Required<ContractCapabilities> = {
    evicts: options.evicts ?? false,
    serializes: options.serializes ?? false,
    failsAfterClose: options.failsAfterClose ?? true,
  };
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const title = `${name}: backend contract`;
  const register = (prefix: string) => {
    for (const c of CASES) {
      if (c.when !== undefined && !c.when(caps)) continue;
      options.it(`${prefix}${c.name}`, async () => {
        const opened: Backend[] = [];
        const open = async (o: MakeOptions = {}) => {
          const b = await made(name, makeBackend, o);
          opened.push(b);
          return b;
        };
        let failed = true;
        try {
          const backend = await open();
          await c.run({ backend, open, openUntracked: (o = {}) => made(name, makeBackend, o), seed });
          failed = false;
        } finally {
          await closeAll(opened, failed);
        }
      });
    }
  };
  if (options.describe === undefined) register(`${title}: `);
  else options.describe(title, () => register(''));
}
