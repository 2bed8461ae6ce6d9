import { createWriteStream, type WriteStream } from 'node:fs';
import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import {
  addLineSink,
  type LineSink,
  type RecordedCall,
  removeLineSink,
  type Slot,
  type TraceLine,
} from './record-call.js';

export type { TraceLine } from './record-call.js';

/** Where trace lines go: a file path, or anything with `write(text)` (a Node stream, `process.stdout`). */
export type TraceDestination = string | { write(chunk: string): unknown };

export interface RecordTraceOptions {
  /** The `session` of calls made outside any AgentCacheSession. Default `'(none)'`. */
  readonly outsideSession?: string;
  /** A file destination is appended to instead of replaced. Default false. */
  readonly append?: boolean;
}

export interface TraceRecorder {
  /** Lines written so far. */
  readonly lines: number;
  /**
   * Stops recording and resolves once every line is written (and the file closed, when the recorder opened it).
   * Calls still running then are left out; a call that started while recording and settled is always written.
   */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface PendingSlot extends Slot {
  call: RecordedCall | undefined;
}

/**
 * Records every call of a wrapped tool (reads and writes, in every session) as one JSON line of the trace format
 * that `agent-cache report` replays, in the order the calls were made:
 * `{ "session", "tool", "kind": "read" | "write", "args", "resources", "scope"?, "durationMs", "error"? }`.
 * `durationMs` is what the call would have cost uncached: its execution time, or for a call answered from the
 * cache the recorded execution time of the entry that answered it. Recording never changes what a call returns;
 * a destination that fails is reported once through the logger and recording stops.
 */
export function recordTrace(destination: TraceDestination, options: RecordTraceOptions = {}): TraceRecorder {
  const outside = options.outsideSession ?? '(none)';
  if (typeof outside !== 'string' || outside === '') {
    throw new AgentCacheTypeError('recordTrace: option `outsideSession` must be a non-empty string');
  }
  let stream: WriteStream | undefined;
  let write: (text: string) => void;
  if (typeof destination === 'string') {
    // Traces hold tool arguments: readable by their owner only.
    const file = createWriteStream(destination, { flags: options.append ? 'a' : 'w', mode: 0o600 });
    stream = file;
    write = (text) => {
      file.write(text);
    };
  } else if (typeof destination?.write === 'function') {
    write = (text) => {
      destination.write(text);
    };
  } else {
    throw new AgentCacheTypeError(
      'recordTrace: the destination must be a file path or have a write(text) method (a stream)',
    );
  }

  const queue: PendingSlot[] = [];
  let written = 0;
  let stopped = false;
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    getDefaults().logger.error(
      'agent-cache: recordTrace could not write the trace; recording stopped',
      error,
    );
    removeLineSink(sink);
  };
  stream?.on('error', fail);

  const emit = (call: RecordedCall): void => {
    if (failed) return;
    const line: TraceLine = { ...call, session: call.session ?? outside };
    try {
      write(`${JSON.stringify(line)}\n`);
      written++;
    } catch (error) {
      fail(error);
    }
  };
  /** Writes every finished line at the head of the queue: a line waits for the calls made before it. */
  const drain = (): void => {
    while (queue.length > 0 && queue[0]!.call !== undefined) emit(queue.shift()!.call!);
  };
  const sink: LineSink = {
    reserve() {
      const slot: PendingSlot = {
        call: undefined,
        fill(call) {
          if (stopped) return;
          slot.call = call;
          drain();
        },
      };
      queue.push(slot);
      return slot;
    },
  };
  addLineSink(sink);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    removeLineSink(sink);
    for (const slot of queue) if (slot.call !== undefined) emit(slot.call);
    queue.length = 0;
    if (stream !== undefined && !stream.destroyed) {
      await new Promise<void>((resolve) => stream!.end(resolve));
    }
  };
  return {
    get lines() {
      return written;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
