/** A child process of the freshness scenario: runs its share of a row's load on a shared backend and truth. */
import { flushInvalidations } from '../../src/index.js';
import { serve } from '../lib/child.js';
import { type BackendSpec, openBackend } from './backends.js';
import { type LoadConfig, type LoadResult, runLoad } from './load.js';
import { SqliteTruth } from './truth.js';

export interface WorkerRequest {
  readonly backend: BackendSpec;
  readonly truthPath: string;
  readonly config: LoadConfig;
}

serve<WorkerRequest, LoadResult>(async ({ backend: spec, truthPath, config }) => {
  const truth = new SqliteTruth(truthPath);
  const backend = await openBackend(spec);
  try {
    return await runLoad(backend, truth, config);
  } finally {
    await flushInvalidations({ timeout: 5_000 });
    await backend.close();
    truth.close();
  }
});
