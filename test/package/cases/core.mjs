// The core entry point as a user imports it: a read tool hits on the second call.
import assert from 'node:assert/strict';
import { AgentCache, AgentCacheError, getMetrics } from 'agent-cache';

let runs = 0;
const getTicket = AgentCache({ resource: 'ticket' })(async function getTicket(id) {
  runs++;
  return { id };
});
assert.deepEqual(await getTicket('T-1'), { id: 'T-1' });
assert.deepEqual(await getTicket('T-1'), { id: 'T-1' });
assert.equal(runs, 1);
assert.equal(getMetrics().hits, 1);
assert.equal(typeof AgentCacheError.isInstance, 'function');
