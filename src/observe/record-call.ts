import { canonicalEncode } from '../key/canonical.js';
import { sha256Hex } from '../key/hash.js';
import { contextStorage } from '../session/context.js';
import type { ResourceResolver, Scope } from '../tool/options.js';
import {
  type CallStatus,
  traceRecorderStarted,
  traceRecorderStopped,
  withCallStatus,
} from './call-status.js';

/** One line of a trace, as `agent-cache report` reads it. */
export interface TraceLine {
  readonly session: string;
  readonly tool: string;
  readonly kind: 'read' | 'write';
  readonly args: unknown[];
  readonly resources: string[];
  readonly scope?: Scope;
  readonly durationMs: number;
  readonly error?: string;
}

/** A recorded call before the recorder names its session: `session` is undefined outside any session. */
export type RecordedCall = Omit<TraceLine, 'session'> & { readonly session: string | undefined };

/** What a tool tells the recorder about a call it is about to make. */
export interface TracedCall {
  readonly tool: string;
  readonly kind: 'read' | 'write';
  readonly scope: Scope;
  readonly thisArg: unknown;
  readonly args: readonly unknown[];
  readonly resources: ResourceResolver;
  /** The tool's `key` option: the call is identified by its material rather than by all arguments. */
  readonly key?: ((...args: unknown[]) => unknown) | undefined;
}

/** Receives the lines of calls in the order the calls were made. */
export interface LineSink {
  /** Called when a call starts: reserves its place in the order. */
  reserve(): Slot;
}

export interface Slot {
  fill(call: RecordedCall): void;
}

const sinks = new Set<LineSink>();

export function addLineSink(sink: LineSink): void {
  if (sinks.has(sink)) return;
  sinks.add(sink);
  traceRecorderStarted();
}

export function removeLineSink(sink: LineSink): void {
  if (sinks.delete(sink)) traceRecorderStopped();
}

/**
 * Runs one tool call (`run`) and records it as a trace line: its arguments as they were when it started, and what
 * it would have cost uncached — the execution time when it ran, the recorded execution time of the entry when it
 * was served from the cache, else the time the call took (a loop stopped before running: about 0).
 */
export function recordCall(call: TracedCall, run: () => Promise<unknown>): Promise<unknown> {
  const slots = [...sinks].map((sink) => sink.reserve());
  const session = contextStorage.getStore()?.session;
  const head = {
    session: session?.sessionId,
    tool: call.tool,
    kind: call.kind,
    args: argsOf(call),
    resources: resourcesOf(call),
    ...(call.scope === 'session' ? { scope: call.scope } : {}),
  };
  const status: CallStatus = { claimed: false, savedMs: undefined, executedMs: undefined };
  const started = performance.now();
  const finish = (error?: unknown, failed = false): void => {
    const durationMs = round(status.savedMs ?? status.executedMs ?? performance.now() - started);
    const line: RecordedCall = failed
      ? { ...head, durationMs, error: messageOf(error) }
      : { ...head, durationMs };
    for (const slot of slots) slot.fill(line);
  };
  let promise: Promise<unknown>;
  try {
    promise = withCallStatus(status, run);
  } catch (error) {
    promise = Promise.reject(error);
  }
  return promise.then(
    (value) => {
      finish();
      return value;
    },
    (error: unknown) => {
      finish(error, true);
      throw error;
    },
  );
}

/**
 * The call's arguments as JSON values, frozen when it starts. Values JSON cannot carry faithfully (bigint, Map,
 * Set, typed arrays, `undefined` in arrays, ...) would make distinct calls look equal in a replay, so then the
 * arguments are recorded as `[{ "$canonical": <SHA-256 of their canonical encoding> }]`: equal calls stay equal,
 * distinct ones distinct. A tool with a `key` option is recorded by its key material (`[material]`), which is how
 * the cache told its calls apart.
 */
function argsOf(call: TracedCall): unknown[] {
  let material: readonly unknown[];
  try {
    material = call.key === undefined ? call.args : [call.key.apply(call.thisArg, call.args as unknown[])];
  } catch {
    material = call.args;
  }
  let canonical: string;
  try {
    canonical = canonicalEncode(material);
  } catch {
    // No canonical form: the call ran uncached; record what JSON can show.
    return safeJson(material) ?? [];
  }
  const json = safeJson(material);
  if (json !== undefined) {
    try {
      if (canonicalEncode(json) === canonical) return json;
    } catch {
      // fall through to the digest
    }
  }
  return [{ $canonical: sha256Hex(canonical) }];
}

function safeJson(value: readonly unknown[]): unknown[] | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : (JSON.parse(text) as unknown[]);
  } catch {
    return undefined;
  }
}

function resourcesOf(call: TracedCall): string[] {
  try {
    return [...call.resources(call.thisArg, call.args)];
  } catch {
    return [];
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Microsecond precision is plenty and keeps lines short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
