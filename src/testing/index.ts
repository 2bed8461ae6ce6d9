/**
 * `agent-cache/testing`: the backend contract suite that every agent-cache backend passes, for anyone writing a
 * `Backend`.
 * It registers its tests with your test runner (`backendContract(name, makeBackend, { describe, it })`) and
 * asserts with node:assert, so it works with vitest, jest, node:test or mocha.
 */
export {
  type BackendContractOptions,
  backendContract,
  type ContractCapabilities,
  type ContractRunner,
  type MakeBackend,
  type MakeOptions,
} from './backend-contract.js';
