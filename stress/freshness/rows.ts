/**
 * One row of the freshness scenario: a backend, in one process or across several, under one load. Runs the load,
 * merges what the processes saw and decides whether the guarantees held.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPrefix, REDIS_URL } from '../../test/backends/fixtures/redis.js';
import { Child } from '../lib/child.js';
import { type BackendSpec, openBackend } from './backends.js';
import type { Fault } from './faults.js';
import { type Lagging, type LoadConfig, type LoadResult, runLoad, type Written } from './load.js';
import { MemoryTruth, resourceNames, SqliteTruth } from './truth.js';
import type { WorkerRequest } from './worker.js';

export type BackendKind = 'memory' | 'disk' | 'redis strict' | 'redis l1';

export interface RowSpec {
  readonly backend: BackendKind;
  /** 1: in this process. */
  readonly processes: number;
  /** Calls over all processes. */
  readonly ops: number;
  /** Lanes per process. */
  readonly lanes: number;
  readonly resources: number;
  readonly fault?: Fault;
}

export interface RowResult extends Omit<LoadResult, 'lagging' | 'written' | 'examples'> {
  readonly spec: RowSpec;
  /** Reads of another process that lagged behind a completed write (only ever allowed with the L1). */
  readonly lagMaxMs: number;
  /** Of those, reads that lagged longer than the L1's heartbeat bound. */
  readonly beyondBound: number;
  readonly examples: readonly string[];
  readonly ok: boolean;
}

/** The L1's default heartbeat bound: it never serves on a subscription not proven live within it. */
export const L1_BOUND_MS = 1_000;

/** Child processes reused by the rows of one run, a temporary directory, and the Redis prefixes to drop. */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-cache-freshness-'));
  readonly #prefixes: string[] = [];
  #children: Child<WorkerRequest, LoadResult>[] = [];

  async children(n: number): Promise<Child<WorkerRequest, LoadResult>[]> {
    while (this.#children.length < n) {
      const more = await Promise.all(
        Array.from({ length: n - this.#children.length }, () =>
          Child.start<WorkerRequest, LoadResult>(new URL('./worker.ts', import.meta.url)),
        ),
      );
      this.#children.push(...more);
    }
    return this.#children.slice(0, n);
  }

  spec(kind: BackendKind, label: string): BackendSpec {
    switch (kind) {
      case 'memory':
        return { kind: 'memory' };
      case 'disk':
        return { kind: 'disk', path: join(this.dir, `${label}.db`) };
      default: {
        const prefix = `agent-cache-stress:${randomUUID()}:`;
        this.#prefixes.push(prefix);
        return { kind: 'redis', url: REDIS_URL, prefix, l1: kind === 'redis l1' };
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.close()));
    this.#children = [];
    for (const prefix of this.#prefixes.splice(0)) await dropPrefix(prefix);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let rows = 0;

export async function runRow(rig: Rig, spec: RowSpec): Promise<RowResult> {
  const label = `row${++rows}`;
  const backendSpec = rig.spec(spec.backend, label);
  const config = (name: string, ops: number): LoadConfig => ({
    lanes: spec.lanes,
    ops,
    resources: spec.resources,
    writeShare: 0.1,
    pairShare: 0.2,
    fault: spec.fault ?? 'none',
    name,
  });
  let results: LoadResult[];
  if (spec.processes === 1) {
    const backend = await openBackend(backendSpec);
    try {
      results = [await runLoad(backend, new MemoryTruth(), config('in process', spec.ops))];
    } finally {
      await backend.close();
    }
  } else {
    const truthPath = join(rig.dir, `${label}-truth.db`);
    SqliteTruth.create(truthPath, resourceNames(spec.resources));
    const children = await rig.children(spec.processes);
    const share = Math.ceil(spec.ops / spec.processes);
    results = await Promise.all(
      children.map((child, i) =>
        child.request({ backend: backendSpec, truthPath, config: config(`process ${i + 1}`, share) }),
      ),
    );
  }
  return merge(spec, results);
}

function merge(spec: RowSpec, results: readonly LoadResult[]): RowResult {
  const sum = (f: (r: LoadResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const lags = lagsOf(
    results.flatMap((r) => r.lagging),
    results.flatMap((r) => r.written),
  );
  const l1Across = spec.backend === 'redis l1' && spec.processes > 1;
  const beyondBound = lags.filter((lag) => lag > L1_BOUND_MS).length;
  const row = {
    spec,
    ops: sum((r) => r.ops),
    reads: sum((r) => r.reads),
    writes: sum((r) => r.writes),
    staleOwn: sum((r) => r.staleOwn),
    staleOther: sum((r) => r.staleOther),
    unrecorded: sum((r) => r.unrecorded),
    writesPending: sum((r) => r.writesPending),
    loopDelayMaxMs: results.reduce((n, r) => Math.max(n, r.loopDelayMaxMs), 0),
    corrupt: sum((r) => r.corrupt),
    failed: sum((r) => r.failed),
    hits: sum((r) => r.hits),
    misses: sum((r) => r.misses),
    coalesced: sum((r) => r.coalesced),
    bypassed: sum((r) => r.bypassed),
    backendErrors: sum((r) => r.backendErrors),
    lagMaxMs: lags.reduce((a, b) => Math.max(a, b), 0),
    beyondBound,
    examples: results.flatMap((r) => r.examples).slice(0, 10),
  };
  const ok =
    row.ops >= spec.ops &&
    row.failed === 0 &&
    row.corrupt === 0 &&
    row.staleOwn === 0 &&
    (l1Across ? beyondBound === 0 : row.staleOther === 0) &&
    row.hits > 0;
  return { ...row, ok };
}

/**
 * For each read that lagged behind another process's write: how long after the first newer version had been
 * written it started (wall clock, ms; `Date.now()` is the one clock every process of the machine shares).
 */
export function lagsOf(lagging: readonly Lagging[], writes: readonly Written[]): number[] {
  if (lagging.length === 0) return [];
  // Per resource: writes by version, and the earliest completion among all versions >= each index.
  const byResource = new Map<string, { versions: number[]; earliest: number[] }>();
  const written = [...writes].sort((a, b) => a[1] - b[1]);
  for (const [r, v, at] of written) {
    let w = byResource.get(r);
    if (w === undefined) {
      w = { versions: [], earliest: [] };
      byResource.set(r, w);
    }
    w.versions.push(v);
    w.earliest.push(at);
  }
  for (const w of byResource.values())
    for (let i = w.earliest.length - 2; i >= 0; i--)
      w.earliest[i] = Math.min(w.earliest[i]!, w.earliest[i + 1]!);
  return lagging.map(([r, v, startedAt]) => {
    const w = byResource.get(r);
    if (w === undefined) return 0;
    let lo = 0;
    let hi = w.versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (w.versions[mid]! > v) hi = mid;
      else lo = mid + 1;
    }
    return lo === w.versions.length ? 0 : Math.max(0, startedAt - w.earliest[lo]!);
  });
}
