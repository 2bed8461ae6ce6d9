/**
 * Child processes of the stress scenarios: a TypeScript module run under tsx with an IPC channel, driven by
 * request/reply messages. The parent side is `Child`; the module's side is `serve()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Envelope<T> {
  readonly id: number;
  readonly body?: T;
  readonly error?: string;
}

export interface ChildOptions {
  /** Node flags placed before the module (e.g. `--expose-gc`). */
  readonly execArgv?: readonly string[];
  readonly args?: readonly string[];
}

/** One child process running `module` (which calls `serve()`), answering one reply per request. */
export class Child<Req, Rep> {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve(r: Rep): void; reject(e: Error): void }>();
  #next = 1;
  #exited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Starts the child and resolves once its module is loaded and serving. */
  static start<Req, Rep>(module: URL, options: ChildOptions = {}): Promise<Child<Req, Rep>> {
    const child = spawn(
      process.execPath,
      [...(options.execArgv ?? []), '--import', 'tsx', fileURLToPath(module), ...(options.args ?? [])],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const handle = new Child<Req, Rep>(child);
    return new Promise((resolve, reject) => {
      child.on('message', (message: Envelope<Rep>) => {
        if (message.id === 0) return resolve(handle);
        const waiter = handle.#waiting.get(message.id);
        handle.#waiting.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.body as Rep);
      });
      child.on('exit', (code, signal) => {
        handle.#exited = true;
        const error = new Error(`child ${fileURLToPath(module)} exited (${code ?? signal})`);
        reject(error);
        for (const waiter of handle.#waiting.values()) waiter.reject(error);
        handle.#waiting.clear();
      });
    });
  }

  request(body: Req): Promise<Rep> {
    if (this.#exited) return Promise.reject(new Error('child has exited'));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.send({ id, body } satisfies Envelope<Req>);
    });
  }

  /** Ends the child (SIGTERM, then SIGKILL after a second) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect();
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 1_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The child's side: answers each request with `handler`'s result (or its error), one at a time or concurrently. */
export function serve<Req, Rep>(handler: (request: Req) => Promise<Rep>): void {
  process.on('message', (message: Envelope<Req>) => {
    handler(message.body as Req).then(
      (body) => process.send?.({ id: message.id, body } satisfies Envelope<Rep>),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          error: String((error as Error)?.stack ?? error),
        } satisfies Envelope<Rep>),
    );
  });
  // The parent closing the channel is the end of the work.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0 });
}
