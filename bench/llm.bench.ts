/**
 * LLM layer benchmarks: cacheKey throughput on large chat requests against the order-sensitive baseline
 * (JSON.stringify + SHA-256) and safe-stable-stringify + SHA-256, cold and warm; and the per-turn cost of
 * cacheKey + prompt layout over a 300-turn conversation whose message objects are reused between turns.
 *
 *   npx tsx bench/run.ts llm        (or: npm run bench -- llm)
 */
import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { cacheKey, PromptCacheLayout, segmentsFromMessages } from '../src/index.js';
import { compare, machine, median, target } from './harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const WORDS =
  'the agent reads a ticket calls the search tool with a query then summarises the result for the customer and asks whether anything else is needed before closing'.split(
    ' ',
  );

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

/** Deterministic pseudo-random text of about `tokens` tokens (~4.2 characters per token, as in English prose). */
function text(tokens: number, seed: number, tag: string): string {
  let s = seed >>> 0 || 1;
  const words: string[] = [tag];
  for (let i = 0; i < tokens * 0.8; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    words.push(WORDS[s % WORDS.length]!);
  }
  return words.join(' ');
}

const TOOLS = (tag: string) =>
  Array.from({ length: 12 }, (_, i) => ({
    name: `tool_${i}`,
    description: text(60, i + 1, tag),
    input_schema: {
      type: 'object',
      properties: { id: { type: 'string' }, limit: { type: 'number' } },
      required: ['id'],
    },
  }));

/** A chat request with `tokens` tokens of history: ~100-token user turns and ~500-token assistant turns. */
function request(tokens: number, tag: string) {
  const messages: Message[] = [];
  let used = 0;
  for (let i = 0; used < tokens; i++) {
    const user = i % 2 === 0;
    const size = user ? 100 : 500;
    messages.push({ role: user ? 'user' : 'assistant', content: text(size, i + 7, `${tag}#${i}`) });
    used += size;
  }
  return {
    model: 'claude-sonnet',
    max_tokens: 1024,
    system: text(1500, 3, tag),
    tools: TOOLS(tag),
    messages,
  };
}

const log = (line = '') => console.log(line);

async function throughput(): Promise<void> {
  log('## cacheKey throughput on large chat requests');
  log();
  log(
    'Per-key time in µs (median of interleaved rounds) and throughput relative to JSON.stringify + SHA-256',
  );
  log(
    '(higher is better; target: cold cacheKey >= 0.80x). *Cold*: every key is of a request never seen before, with',
  );
  log(
    'all-new objects and strings. *Warm, same objects*: the same request object again. *Warm, new array*: a new',
  );
  log('request object and messages array each time, holding the same message objects (what a framework that');
  log(
    'copies its messages array on every call produces). The contenders run in a different order each round.',
  );
  log();
  const cold: [number, number][] = [];
  log(
    '| history | bytes (JSON) | JSON.stringify+SHA-256 µs | safe-stable-stringify+SHA-256 µs (x) | cacheKey cold µs (x) | cacheKey warm, same objects µs (x) | cacheKey warm, new array µs (x) |',
  );
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const tokens of [10_000, 50_000, 200_000]) {
    // More rounds for the small sizes: a 10k-token key takes ~0.2 ms, and its median swung with a few slow rounds.
    const rounds = tokens >= 200_000 ? 15 : tokens >= 50_000 ? 25 : 45;
    const perRound = tokens >= 200_000 ? 4 : tokens >= 50_000 ? 10 : 30;
    const samples: Record<string, number[]> = { json: [], sss: [], cold: [], same: [], copy: [] };
    const warm = request(tokens, 'warm');
    cacheKey(warm);
    // The first rounds are warm-up (not timed): without them the first size measured mostly JIT compilation of
    // the cold path (JSON.stringify, the baseline, is native code), which made the 10k-token figure swing.
    const warmup = 4;
    for (let r = 0; r < rounds + warmup; r++) {
      // Fresh requests for this round, built outside the timed region; every contender keys the same ones.
      const batch = Array.from({ length: perRound }, (_, i) => request(tokens, `r${r}i${i}`));
      const timed: [string, (i: number) => unknown][] = [
        ['json', (i) => sha256(JSON.stringify(batch[i]))],
        ['sss', (i) => sha256(stringify(batch[i]) as string)],
        ['same', () => cacheKey(warm)],
        ['copy', () => cacheKey({ ...warm, messages: [...warm.messages] })],
        // Cold keys memoize the batch's objects, which the baselines do not read differently for it.
        ['cold', (i) => cacheKey(batch[i])],
      ];
      const shift = r % timed.length;
      for (const [name, op] of [...timed.slice(shift), ...timed.slice(0, shift)]) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < perRound; i++) op(i);
        const ns = Number(process.hrtime.bigint() - start) / perRound;
        if (r >= warmup) samples[name]!.push(ns);
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v) / 1000]));
    const x = (name: string) => `${m[name]!.toFixed(0)} (${(m.json! / m[name]!).toFixed(2)}x)`;
    const bytes = JSON.stringify(warm).length;
    log(
      `| ~${tokens / 1000}k tokens | ${(bytes / 1024).toFixed(0)} KiB | ${m.json!.toFixed(0)} | ${x('sss')} | ${x('cold')} | ${x('same')} | ${x('copy')} |`,
    );
    cold.push([tokens, m.json! / m.cold!]);
  }
  log();
  for (const [tokens, ratio] of cold) {
    target(
      `cold cacheKey throughput / JSON.stringify + SHA-256, ~${tokens / 1000}k tokens`,
      ratio,
      0.8,
      'atLeast',
    );
  }
}

interface Turn {
  user: Message;
  assistant: Message;
}

type Cost = { key: number; layout: number; total: number };
const CHECKPOINTS = [10, 50, 100, 200, 300];
const PASSES = 12;
const WINDOW = 4;

async function growth(): Promise<void> {
  log();
  log('## Growth: cacheKey + layout per turn over a 300-turn conversation');
  log();
  log(
    'Each turn sends a new request (a new object and a new messages array) holding the same message objects as',
  );
  log('before plus a ~100-token user message, then appends the ~500-token reply. Timed per turn:');
  log(
    '`cacheKey(request)` + `PromptCacheLayout.fromSegments(segmentsFromMessages(request, { cacheHistory: true }))`.',
  );
  log(
    `Figure: median over turns t-${WINDOW}..t+${WINDOW} of ${PASSES} independent conversations (run alternately per mode).`,
  );
  log(
    'Two modes: plain (mutable) message objects, re-checked for in-place edits on every call, and frozen ones',
  );
  log('(`Object.freeze`), which cannot change and are trusted without a re-check.');
  log();
  const samples: Record<string, Cost[][]> = { mutable: [], frozen: [] };
  for (let pass = 0; pass < PASSES; pass++) {
    for (const mode of ['mutable', 'frozen'] as const) {
      samples[mode]!.push(realTurns(mode === 'frozen', `${pass}`));
    }
  }
  const results: Record<string, Record<number, Cost>> = {};
  for (const mode of ['mutable', 'frozen'] as const) {
    results[mode] = {};
    for (const t of CHECKPOINTS) {
      const window: Cost[] = [];
      for (const pass of samples[mode]!) {
        for (let u = Math.max(1, t - WINDOW); u <= Math.min(300, t + WINDOW); u++) window.push(pass[u - 1]!);
      }
      const pick = (f: keyof Cost) => median(window.map((c) => c[f]));
      results[mode]![t] = { key: pick('key'), layout: pick('layout'), total: pick('total') };
    }
  }
  table(results);
  const ratio = (mode: string) => results[mode]![300]!.total / results[mode]![10]!.total;
  target('growth, cacheKey + layout, turn 300 / turn 10, plain mutable messages', ratio('mutable'), 1.5);
  log(`frozen messages: turn 300 / turn 10 = ${ratio('frozen').toFixed(2)}`);

  log();
  log('### Alternative next turns (retries, regenerations)');
  log();
  log(
    'At each checkpoint, 200 different next user messages on the same history (each a branch from the same',
  );
  log('memoized state, which copies its snapshot arrays); median of 200, median over 3 conversations.');
  log();
  const branches: Record<string, Record<number, Cost>> = {};
  for (const mode of ['mutable', 'frozen'] as const) {
    const passes = [0, 1, 2].map((p) => branchTurns(mode === 'frozen', `b${p}`));
    branches[mode] = {};
    for (const t of CHECKPOINTS) {
      const pick = (f: keyof Cost) => median(passes.map((p) => p[t]![f]));
      branches[mode]![t] = { key: pick('key'), layout: pick('layout'), total: pick('total') };
    }
  }
  table(branches);
  for (const mode of ['mutable', 'frozen']) {
    const r = branches[mode]!;
    log(`${mode}: turn 300 / turn 10 = ${(r[300]!.total / r[10]!.total).toFixed(2)}`);
  }
}

function table(results: Record<string, Record<number, Cost>>): void {
  log(
    '| turn | messages | history tokens | mutable: cacheKey µs | layout µs | total µs | frozen: cacheKey µs | layout µs | total µs |',
  );
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of CHECKPOINTS) {
    const a = results.mutable![t]!;
    const b = results.frozen![t]!;
    const f = (n: number) => n.toFixed(1);
    log(
      `| ${t} | ${2 * t - 1} | ~${(600 * (t - 1) + 100) / 1000}k | ${f(a.key)} | ${f(a.layout)} | ${f(a.total)} | ${f(b.key)} | ${f(b.layout)} | ${f(b.total)} |`,
    );
  }
  log();
}

interface Conversation {
  readonly fix: <T extends object>(o: T) => T;
  readonly turns: Turn[];
  readonly work: (messages: Message[]) => Cost;
}

function conversation(frozen: boolean, pass: string): Conversation {
  const fix = <T extends object>(o: T): T => (frozen ? Object.freeze(o) : o);
  const tag = `${frozen ? 'f' : 'm'}${pass}`;
  const system = text(1500, 3, `sys${tag}`);
  const tools = TOOLS(`tools${tag}`);
  const turns: Turn[] = Array.from({ length: 300 }, (_, i) => ({
    user: fix({ role: 'user', content: text(100, 2 * i + 1, `u${tag}${i}`) }),
    assistant: fix({ role: 'assistant', content: text(500, 2 * i + 2, `a${tag}${i}`) }),
  }));
  const work = (messages: Message[]): Cost => {
    const req = { model: 'claude-sonnet', max_tokens: 1024, system, tools, messages };
    const t0 = process.hrtime.bigint();
    cacheKey(req);
    const t1 = process.hrtime.bigint();
    PromptCacheLayout.fromSegments(segmentsFromMessages(req, { cacheHistory: true }));
    const t2 = process.hrtime.bigint();
    const key = Number(t1 - t0) / 1000;
    const layout = Number(t2 - t1) / 1000;
    return { key, layout, total: key + layout };
  };
  return { fix, turns, work };
}

/** The cost of each real turn of one conversation. */
function realTurns(frozen: boolean, pass: string): Cost[] {
  const { turns, work } = conversation(frozen, pass);
  const history: Message[] = [];
  const costs: Cost[] = [];
  for (const turn of turns) {
    costs.push(work([...history, turn.user]));
    history.push(turn.user, turn.assistant);
  }
  return costs;
}

/** At each checkpoint, 200 alternative next turns from the same history. */
function branchTurns(frozen: boolean, pass: string): Record<number, Cost> {
  const { fix, turns, work } = conversation(frozen, pass);
  const history: Message[] = [];
  const cost: Record<number, Cost> = {};
  for (let t = 1; t <= 300; t++) {
    const turn = turns[t - 1]!;
    if (CHECKPOINTS.includes(t)) {
      const runs: Cost[] = [];
      for (let r = 0; r < 200; r++) {
        runs.push(work([...history, fix({ role: 'user', content: `${turn.user.content} (${r})` })]));
      }
      const pick = (f: keyof Cost) => median(runs.map((c) => c[f]));
      cost[t] = { key: pick('key'), layout: pick('layout'), total: pick('total') };
    }
    work([...history, turn.user]);
    history.push(turn.user, turn.assistant);
  }
  return cost;
}

async function small(): Promise<void> {
  // The tool-cache fast path is canonicalEncode, untouched; cacheKey on a small request costs one encode + hash.
  const req = {
    model: 'm',
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    temperature: 0,
  };
  await compare(
    'small request (one short message): cacheKey vs JSON.stringify + SHA-256',
    [
      { name: 'JSON.stringify + SHA-256', op: () => sha256(JSON.stringify(req)) },
      { name: 'safe-stable-stringify + SHA-256', op: () => sha256(stringify(req) as string) },
      { name: 'cacheKey', op: () => cacheKey(req) },
    ],
    { rounds: 11, ops: 20_000 },
  );
}

export async function main(): Promise<void> {
  log('# LLM layer benchmarks');
  log();
  log(`machine: ${machine()}`);
  log('command: npm run bench -- llm');
  log();
  if (!process.argv.includes('--growth-only')) await throughput();
  await growth();
  await small();
}
