import { AgentCacheError } from '../errors.js';
import type { LoopDetection, LoopKind } from './types.js';

/** A loop was detected in a session whose `onLoop` resolved to 'raise'; the tool did not run. */
export class AgentLoopDetectedError extends AgentCacheError implements LoopDetection {
  readonly kind: LoopKind;
  readonly toolName: string;
  readonly args: readonly unknown[];
  readonly sessionId: string;
  readonly count: number;
  readonly cycle?: readonly string[];

  constructor(detection: LoopDetection) {
    super('E_LOOP_DETECTED', describeLoop(detection));
    this.kind = detection.kind;
    this.toolName = detection.toolName;
    this.args = detection.args;
    this.sessionId = detection.sessionId;
    this.count = detection.count;
    if (detection.cycle) this.cycle = detection.cycle;
  }
}

export function describeLoop(d: LoopDetection): string {
  const where = `in session ${JSON.stringify(d.sessionId)}`;
  switch (d.kind) {
    case 'repeat':
      return `loop detected ${where}: ${d.toolName} called ${d.count} times with the same arguments`;
    case 'oscillation':
      return `loop detected ${where}: the cycle ${(d.cycle ?? []).join(' → ')} repeated ${d.count} times`;
    case 'retry_storm':
      return `loop detected ${where}: ${d.toolName} called again after ${d.count} consecutive failures`;
    case 'depth':
      return `loop detected ${where}: ${d.toolName} would nest ${d.count} wrapped-tool executions deep`;
  }
}
