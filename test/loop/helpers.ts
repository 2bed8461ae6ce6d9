import {
  AgentCache,
  AgentCacheInvalidator,
  type AgentCacheSessionOptions,
  type Logger,
  type LoopDetection,
} from '../../src/index.js';

let counter = 0;
/** A tool name unique in this process, so global per-tool metrics of one test never mix with another's. */
export function uniqueName(base: string): string {
  return `${base}_${++counter}`;
}

/** A read tool that counts its executions; `fail` makes the next executions throw. */
export function readTool(resource: string | ((...args: never[]) => string), base = 'getTicket') {
  const state = { runs: 0, fail: false };
  const tool = AgentCache({ resource: resource as string, name: uniqueName(base) })(async (id: unknown) => {
    state.runs++;
    if (state.fail) throw new Error(`lookup of ${String(id)} failed`);
    return { id, version: state.runs };
  });
  return Object.assign(state, { tool });
}

/** A write tool that counts its executions. */
export function writeTool(resource: string, base = 'updateTicket') {
  const state = { runs: 0, fail: false };
  const tool = AgentCacheInvalidator({ resource, name: uniqueName(base) })(
    async (id: unknown, _patch?: unknown) => {
      state.runs++;
      if (state.fail) throw new Error(`update of ${String(id)} failed`);
      return { id, updated: state.runs };
    },
  );
  return Object.assign(state, { tool });
}

/** A logger that keeps what it was told. */
export function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (message: string) => void messages.push(message) };
}

/** Session options with loop detection on, a recording logger and a handler that records and warns. */
export function recordingSession(extra: AgentCacheSessionOptions = {}) {
  const detections: LoopDetection[] = [];
  const logger = recordingLogger();
  const options: AgentCacheSessionOptions = {
    loopDetection: true,
    logger,
    onLoop: (d) => {
      detections.push(d);
      return 'warn';
    },
    ...extra,
  };
  return { options, detections, logger };
}

/** Runs `fn` and returns its rejection (fails the test if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
