import { AgentCacheError } from '../../errors.js';
import { finishedNormally, marked } from './recorded.js';
import type { StreamPart } from './types.js';

type State = 'reading' | 'done' | 'failed' | 'cancelled';

/** How the source ended. `complete`: worth storing. `failed`: it errored (with `error`) or was cancelled. */
export interface FlightEnd {
  readonly complete: boolean;
  readonly failed: boolean;
  readonly error?: unknown;
  /** Its `finish` part (the usage), when it had one. */
  readonly finish: StreamPart | undefined;
}

/**
 * One model stream, recorded as it is read and shared by every identical request that arrives while it runs.
 *
 * Nothing is buffered ahead of the readers: the source is read only when a subscriber asks for a part it does not
 * have yet (so the first part reaches the first reader as soon as the model produces it), and each subscriber
 * reads the recording at its own pace (a late one replays what it missed, then follows live). When every
 * subscriber has gone (cancelled its stream, or aborted), the source is cancelled and the recording is not kept.
 *
 * `ended` settles once, when the source ends: `complete` when it closed after a `finish` part of a normal finish,
 * with no `error` part, and nothing spoiled it (an aborted request, a cancelled source).
 */
export class StreamFlight {
  readonly parts: StreamPart[] = [];
  readonly #reader: ReadableStreamDefaultReader<StreamPart>;
  readonly ended: Promise<FlightEnd>;
  #end!: (end: FlightEnd) => void;
  #reading: Promise<void> | undefined;
  #state: State = 'reading';
  #error: unknown;
  #subscribers = 0;
  #storable = true;
  #finish: StreamPart | undefined;

  constructor(source: ReadableStream<StreamPart>) {
    this.#reader = source.getReader();
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /** The request this stream answers was aborted: whatever it produced is not stored. */
  spoil(): void {
    this.#storable = false;
  }

  /**
   * A stream of every part, from the first. `hitKey`: mark the parts as answered from the cache (a request that
   * joined this one); `signal`: that subscriber's own abort signal, which ends its stream only.
   */
  subscribe(hitKey?: string, signal?: AbortSignal): ReadableStream<StreamPart> {
    this.#subscribers++;
    let index = 0;
    let gone = false;
    let onAbort: (() => void) | undefined;
    const leave = (reason?: unknown): void => {
      if (gone) return;
      gone = true;
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      if (--this.#subscribers === 0 && this.#state === 'reading') this.#cancel(reason);
    };
    return new ReadableStream<StreamPart>(
      {
        start: (controller) => {
          if (signal === undefined) return;
          onAbort = () => {
            if (gone) return;
            controller.error(signal.reason);
            leave(signal.reason);
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        },
        pull: async (controller) => {
          for (;;) {
            if (gone) return;
            const parts = this.parts;
            if (index < parts.length) {
              while (index < parts.length) {
                const part = parts[index++]!;
                controller.enqueue(hitKey === undefined ? part : marked(part, hitKey));
              }
              return;
            }
            if (this.#state === 'done') {
              leave();
              controller.close();
              return;
            }
            if (this.#state !== 'reading') {
              leave();
              controller.error(
                this.#state === 'failed'
                  ? this.#error
                  : new AgentCacheError('E_STREAM_CANCELLED', 'the model stream was cancelled'),
              );
              return;
            }
            await this.#advance();
          }
        },
        cancel: (reason) => leave(reason),
      },
      // No part is read ahead of a reader's request.
      { highWaterMark: 0 },
    );
  }

  /** Reads one more part from the source (one read at a time, shared by every subscriber waiting for it). */
  #advance(): Promise<void> {
    this.#reading ??= this.#reader.read().then(
      (next) => {
        this.#reading = undefined;
        if (this.#state !== 'reading') return;
        if (next.done) {
          this.#state = 'done';
          const finish = this.#finish;
          this.#end({ complete: this.#storable && finish !== undefined, failed: false, finish });
          return;
        }
        const part = next.value;
        if (part.type === 'error') this.#storable = false;
        else if (part.type === 'finish') {
          this.#finish = part;
          if (!finishedNormally(part.finishReason)) this.#storable = false;
        }
        this.parts.push(part);
      },
      (error: unknown) => {
        this.#reading = undefined;
        if (this.#state !== 'reading') return;
        this.#state = 'failed';
        this.#error = error;
        this.#end({ complete: false, failed: true, error, finish: this.#finish });
      },
    );
    return this.#reading;
  }

  #cancel(reason: unknown): void {
    this.#state = 'cancelled';
    this.#reader.cancel(reason).catch(() => {});
    this.#end({ complete: false, failed: true, error: reason, finish: this.#finish });
  }
}
