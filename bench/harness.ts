/**
 * Side-by-side benchmark harness: every contender runs in the same process, rounds are interleaved (the order
 * rotates each round), and the figure reported is the median per-operation time of each contender plus its ratio
 * to a baseline measured in the same run. Absolute times on a shared machine are noise; ratios are the figure.
 */
import { cpus, totalmem } from 'node:os';

export interface Contender {
  readonly name: string;
  /** One operation; `i` is the operation's index in the round (use it to pick keys). */
  readonly op: (i: number) => unknown;
  /** Run before and after each of its rounds, untimed (e.g. subscribe a listener for this contender only). */
  readonly setup?: () => void;
  readonly teardown?: () => void;
  /**
   * The operation times itself: `op` resolves to the nanoseconds to count, so that what it does before or after
   * the measured part (setting up the next step) stays out of the figure.
   */
  readonly timed?: boolean;
}

export interface CompareOptions {
  /** Rounds per contender (median taken over them). Default 15. */
  readonly rounds?: number;
  /** Operations per round. Default 20 000. */
  readonly ops?: number;
  /** Untimed warm-up operations per contender. Default: ops. */
  readonly warmup?: number;
  /** Name of the contender the ratios are taken against. Default: the first. */
  readonly baseline?: string;
  /**
   * What a round is timed with: `'wall'` (default) the elapsed time, `'cpu'` the CPU time of this process (user +
   * system, every thread: the garbage collector's helpers count). For work done entirely in this process, CPU time
   * leaves out the time the process waited for a core, which on a shared machine is most of the noise; work that
   * waits on another process (a server) must be timed by the wall clock. Contenders that time themselves are not
   * affected.
   */
  readonly clock?: 'wall' | 'cpu';
  /** Print the table (default true): a bench that repeats a comparison prints its first run only. */
  readonly print?: boolean;
}

export interface ComparisonResult {
  readonly title: string;
  /** Median ns per operation, by contender name. */
  readonly medians: Record<string, number>;
  /** median / baseline median, by contender name. */
  readonly ratios: Record<string, number>;
  readonly baseline: string;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runRound(c: Contender, ops: number, cpu = false): Promise<number> {
  c.setup?.();
  if (c.timed) {
    let total = 0;
    for (let i = 0; i < ops; i++) total += (await c.op(i)) as number;
    c.teardown?.();
    return total / ops;
  }
  const cpuStart = cpu ? process.cpuUsage() : undefined;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const r = c.op(i);
    if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') await r;
  }
  let elapsed = Number(process.hrtime.bigint() - start) / ops;
  if (cpuStart !== undefined) {
    const used = process.cpuUsage(cpuStart);
    elapsed = ((used.user + used.system) * 1000) / ops;
  }
  c.teardown?.();
  return elapsed;
}

export async function compare(
  title: string,
  contenders: readonly Contender[],
  options: CompareOptions = {},
): Promise<ComparisonResult> {
  const rounds = options.rounds ?? 15;
  const ops = options.ops ?? 20_000;
  const baseline = options.baseline ?? contenders[0]!.name;
  const cpu = options.clock === 'cpu';
  for (const c of contenders) await runRound(c, options.warmup ?? ops, cpu);
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(r + k) % contenders.length]!;
      samples.get(c.name)!.push(await runRound(c, ops, cpu));
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, s] of samples) medians[name] = median(s);
  const ratios: Record<string, number> = {};
  for (const name of Object.keys(medians)) ratios[name] = medians[name]! / medians[baseline]!;
  if (options.print !== false) printTable(title, medians, ratios, baseline, rounds, ops, cpu);
  return { title, medians, ratios, baseline };
}

function printTable(
  title: string,
  medians: Record<string, number>,
  ratios: Record<string, number>,
  baseline: string,
  rounds: number,
  ops: number,
  cpu: boolean,
): void {
  const unit = cpu ? 'median CPU ns/op' : 'median ns/op';
  console.log(`\n## ${title}\n(${rounds} interleaved rounds × ${ops} ops; ${unit}; ratio vs ${baseline})\n`);
  console.log(`| contender | ${unit} | ratio |`);
  console.log('| --- | ---: | ---: |');
  for (const name of Object.keys(medians)) {
    console.log(`| ${name} | ${medians[name]!.toFixed(0)} | ${ratios[name]!.toFixed(2)} |`);
  }
}

/** `1000` → `1k`, `1000000` → `1M`: the column names of a table by size. */
export function sizeLabel(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** Prints a table of figures by size: a row per figure, a column per size (`100 | 10k | 100k | 1M`). */
export function scaleTable(
  title: string,
  sizes: readonly number[],
  rows: readonly (readonly [label: string, cells: readonly string[]])[],
): void {
  console.log(`\n## ${title}\n`);
  console.log(`| figure | ${sizes.map(sizeLabel).join(' | ')} |`);
  console.log(`| --- | ${sizes.map(() => '---:').join(' | ')} |`);
  for (const [label, cells] of rows) console.log(`| ${label} | ${cells.join(' | ')} |`);
}

/**
 * Prints a target check line, `PASS <label>: <ratio> (target <= <limit>)` (or `MISS ...`; `>=` with `'atLeast'`),
 * which `npm run bench` collects into the targets table of BENCHMARKS.md. Returns whether it held.
 */
export function target(
  label: string,
  ratio: number,
  limit: number,
  direction: 'atMost' | 'atLeast' = 'atMost',
): boolean {
  const ok = direction === 'atMost' ? ratio <= limit : ratio >= limit;
  const op = direction === 'atMost' ? '<=' : '>=';
  console.log(`${ok ? 'PASS' : 'MISS'} ${label}: ${ratio.toFixed(2)} (target ${op} ${limit})`);
  return ok;
}

/**
 * How many times a bench repeats each comparison (`BENCH_RUNS`, default 3): a target's figure is the median of the
 * runs' ratios, printed with their spread (min–max), so that one lucky or unlucky run cannot decide it.
 */
export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));

/** `0.41–0.49`: the spread of some ratios. */
export function spread(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

/**
 * A target measured over several runs: prints `PASS <label>: <median> (target <= <limit>; spread <min>–<max> over
 * <n> runs)` (or `MISS ...`), judged on the median of the runs' ratios. Returns whether it held.
 */
export function targetOverRuns(
  label: string,
  ratios: readonly number[],
  limit: number,
  direction: 'atMost' | 'atLeast' = 'atMost',
): boolean {
  const m = median(ratios);
  const ok = direction === 'atMost' ? m <= limit : m >= limit;
  const op = direction === 'atMost' ? '<=' : '>=';
  console.log(
    `${ok ? 'PASS' : 'MISS'} ${label}: ${m.toFixed(2)} (target ${op} ${limit}; spread ${spread(ratios)} over ${ratios.length} runs)`,
  );
  return ok;
}
