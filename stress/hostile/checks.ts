/**
 * Bookkeeping shared by the hostile-input checks: each check counts its cases and its failures by kind, keeps the
 * first few failures as examples, and runs tool calls so that an exception out of a call is a failure (the cache
 * must never turn a working call into a failed one).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, configure, DiskBackend, MemoryBackend } from '../../src/index.js';
import { dropPrefix, REDIS_URL } from '../../test/backends/fixtures/redis.js';

export type BackendName = 'memory' | 'disk' | 'redis';

export class Check {
  readonly name: string;
  readonly backend: BackendName | '-';
  cases = 0;
  readonly failures = new Map<string, number>();
  readonly notes = new Map<string, number>();
  readonly examples: string[] = [];

  constructor(name: string, backend: BackendName | '-') {
    this.name = name;
    this.backend = backend;
  }

  get failed(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }

  fail(kind: string, detail: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
    if (this.examples.length < 5) this.examples.push(`${kind}: ${detail.slice(0, 300)}`);
  }

  /** A guarantee that does not hold, known and reported (not counted in `failed`). */
  readonly limits = new Map<string, number>();
  readonly limitExamples: string[] = [];

  limit(kind: string, n: number, example?: string): void {
    this.limits.set(kind, (this.limits.get(kind) ?? 0) + n);
    if (example !== undefined && this.limitExamples.length < 3)
      this.limitExamples.push(example.slice(0, 200));
  }

  /** An outcome that is allowed but worth reporting (a miss, a file moved aside, data served as plain data). */
  note(kind: string, n = 1): void {
    this.notes.set(kind, (this.notes.get(kind) ?? 0) + n);
  }

  /** Runs one tool call; a throw is a failure and yields `undefined`. */
  async call<T>(what: string, f: () => Promise<T>): Promise<{ value: T } | undefined> {
    try {
      return { value: await f() };
    } catch (error) {
      this.fail('exception into the tool call', `${what}: ${String((error as Error)?.stack ?? error)}`);
      return undefined;
    }
  }
}

/** Where the checks keep their files and Redis prefixes; everything is removed by close(). */
export class Place {
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-cache-hostile-'));
  readonly redis: boolean;
  readonly #prefixes: string[] = [];
  readonly #backends: Backend[] = [];
  #files = 0;

  constructor(redis: boolean) {
    this.redis = redis;
  }

  file(): string {
    return join(this.dir, `cache-${++this.#files}.db`);
  }

  prefix(): string {
    const p = `agent-cache-stress:${randomUUID()}:`;
    this.#prefixes.push(p);
    return p;
  }

  /** A new backend of that kind (a fresh file or prefix), closed by close(). */
  async open(kind: BackendName, at?: string): Promise<Backend> {
    let backend: Backend;
    if (kind === 'memory') backend = new MemoryBackend({ maxEntries: 100_000 });
    else if (kind === 'disk') backend = new DiskBackend(at ?? this.file());
    else {
      const { RedisBackend } = await import('../../src/backends/redis/index.js');
      backend = new RedisBackend({ url: REDIS_URL, prefix: at ?? this.prefix(), timeout: 5_000 });
    }
    this.#backends.push(backend);
    return backend;
  }

  get kinds(): BackendName[] {
    return this.redis ? ['memory', 'disk', 'redis'] : ['memory', 'disk'];
  }

  async close(): Promise<void> {
    for (const b of this.#backends.splice(0)) await b.close().catch(() => {});
    for (const p of this.#prefixes.splice(0)) await dropPrefix(p);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Captures the library's log lines for the duration of the checks (they are expected: files moved aside, ...). */
export function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const sink = (level: string) => (message: unknown) => {
    lines.push(`${level}: ${String(message)}`);
  };
  configure({ logger: { debug: () => {}, info: sink('info'), warn: sink('warn'), error: sink('error') } });
  return { lines, restore: () => configure({ logger: console }) };
}
