/**
 * LLM layer benchmarks: cacheKey throughput on large chat requests against the order-sensitive baseline
 * (JSON.stringify + SHA-256) and safe-stable-stringify + SHA-256, cold and warm; and the per-turn cost of the key
 * (and of the prompt layout) over 300-turn conversations that grow by a new message object per turn, next to the
 * baseline's, with many conversations advanced in turn. Each target figure is the median of BENCH_RUNS runs
 * (default 3), with their spread.
 *
 *   npx tsx bench/run.ts llm        (or: npm run bench -- llm)
 */
import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { cacheKey, PromptCacheLayout, segmentsFromMessages } from '../src/index.js';
import { compare, machine, median, RUNS, spread, targetOverRuns } from './harness.js';

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
  const sizes = [10_000, 50_000, 200_000];
  /** Cold throughput ratio by size, one per run. */
  const cold = new Map<number, number[]>(sizes.map((t) => [t, []]));
  log(
    '| history | bytes (JSON) | JSON.stringify+SHA-256 µs | safe-stable-stringify+SHA-256 µs (x) | cacheKey cold µs (x) | cacheKey warm, same objects µs (x) | cacheKey warm, new array µs (x) |',
  );
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (let run = 0; run < RUNS; run++) {
    for (const tokens of sizes) {
      const m = throughputAt(tokens, run);
      cold.get(tokens)!.push(m.json! / m.cold!);
      if (run > 0) continue;
      const x = (name: string) => `${m[name]!.toFixed(0)} (${(m.json! / m[name]!).toFixed(2)}x)`;
      const bytes = JSON.stringify(request(tokens, 'size')).length;
      log(
        `| ~${tokens / 1000}k tokens | ${(bytes / 1024).toFixed(0)} KiB | ${m.json!.toFixed(0)} | ${x('sss')} | ${x('cold')} | ${x('same')} | ${x('copy')} |`,
      );
    }
  }
  log();
  log(
    `The table is the first of ${RUNS} runs; cold cacheKey throughput / JSON.stringify + SHA-256 in each run:`,
  );
  log();
  for (const tokens of sizes) log(`- ~${tokens / 1000}k tokens: ${runsOf(cold.get(tokens)!)}`);
  log();
  for (const tokens of sizes) {
    targetOverRuns(
      `cold cacheKey throughput / JSON.stringify + SHA-256, ~${tokens / 1000}k tokens`,
      cold.get(tokens)!,
      0.8,
      'atLeast',
    );
  }
}

/** One run at one size: median µs per key of each contender over interleaved rounds. */
function throughputAt(tokens: number, run: number): Record<string, number> {
  // More rounds for the small sizes: a 10k-token key takes ~0.2 ms, and its median swung with a few slow rounds.
  const rounds = tokens >= 200_000 ? 15 : tokens >= 50_000 ? 25 : 45;
  const perRound = tokens >= 200_000 ? 4 : tokens >= 50_000 ? 10 : 30;
  const samples: Record<string, number[]> = { json: [], sss: [], cold: [], same: [], copy: [] };
  const warm = request(tokens, `warm${run}`);
  cacheKey(warm);
  // The first rounds are warm-up (not timed): without them the first size measured mostly JIT compilation of
  // the cold path (JSON.stringify, the baseline, is native code), which made the 10k-token figure swing.
  const warmup = 4;
  for (let r = 0; r < rounds + warmup; r++) {
    // Fresh requests for this round, built outside the timed region; every contender keys the same ones.
    const batch = Array.from({ length: perRound }, (_, i) => request(tokens, `${run}r${r}i${i}`));
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
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v) / 1000]));
}

/** Each run's figure, then their min–max. */
const runsOf = (values: readonly number[]): string =>
  `${values.map((v) => v.toFixed(2)).join(', ')} (min–max ${spread(values)})`;

interface Turn {
  user: Message;
  assistant: Message;
}

type Cost = { key: number; layout: number; total: number };
const CHECKPOINTS = [10, 50, 100, 200, 300];
const WINDOW = 4;
const TURNS = 300;
/** Conversations per contender, advanced in turn, one turn each, so that none finds its previous turn hot. */
const CONVERSATIONS = 6;

/** One contender of the growth measurement: what it does with each turn's request, and how its messages are made. */
interface Grower {
  readonly name: string;
  readonly frozen: boolean;
  /** Growers of one pass run together, staggered; the passes one after the other (see growthRun). */
  readonly pass: number;
  /** µs spent on `req` (cacheKey and layout apart when both are timed). */
  readonly op: (req: Request) => Cost;
}

type Request = {
  model: string;
  max_tokens: number;
  system: string;
  tools: ReturnType<typeof TOOLS>;
  messages: Message[];
};

const micros = (from: bigint, to: bigint) => Number(to - from) / 1000;

const GROWERS: readonly Grower[] = [
  {
    name: 'JSON.stringify + SHA-256',
    frozen: false,
    pass: 0,
    op: (req) => {
      const t0 = process.hrtime.bigint();
      sha256(JSON.stringify(req));
      const key = micros(t0, process.hrtime.bigint());
      return { key, layout: 0, total: key };
    },
  },
  {
    name: 'cacheKey, mutable messages',
    pass: 1,
    frozen: false,
    op: (req) => {
      const t0 = process.hrtime.bigint();
      cacheKey(req);
      const key = micros(t0, process.hrtime.bigint());
      return { key, layout: 0, total: key };
    },
  },
  {
    name: 'cacheKey, frozen messages',
    pass: 1,
    frozen: true,
    op: (req) => {
      const t0 = process.hrtime.bigint();
      cacheKey(req);
      const key = micros(t0, process.hrtime.bigint());
      return { key, layout: 0, total: key };
    },
  },
  {
    name: 'cacheKey + layout, mutable messages',
    pass: 1,
    frozen: false,
    op: (req) => {
      const t0 = process.hrtime.bigint();
      cacheKey(req);
      const t1 = process.hrtime.bigint();
      PromptCacheLayout.fromSegments(segmentsFromMessages(req, { cacheHistory: true }));
      const t2 = process.hrtime.bigint();
      const key = micros(t0, t1);
      const layout = micros(t1, t2);
      return { key, layout, total: key + layout };
    },
  },
];

/** The texts of one conversation, made before anything is timed (the message objects are made turn by turn). */
function conversationTexts(tag: string): { user: string; assistant: string }[] {
  return Array.from({ length: TURNS }, (_, i) => ({
    user: text(100, 2 * i + 1, `u${tag}${i}`),
    assistant: text(500, 2 * i + 2, `a${tag}${i}`),
  }));
}

/**
 * One run: the growers of each pass advance their conversations turn by turn, the growers in a different order
 * each turn and their conversations one after the other, so that between two turns of a conversation come the
 * turns of all the others of its pass (its memo and its objects are no longer hot in the CPU's caches). The
 * baseline has a pass of its own: stringifying ~1 MB per call, it would flush every other conversation out of the
 * caches too, which a server does not do between two turns; its own conversations still flush each other. Each
 * turn's user message and the reply appended after it are new objects, made at that turn. Returns, per grower,
 * the cost of each turn of each conversation.
 */
function growthRun(run: number): Cost[][][] {
  const agents = GROWERS.map((g, n) => ({
    grower: g,
    system: text(1500, 3, `sys${run}${n}`),
    tools: TOOLS(`tools${run}${n}`),
    conversations: Array.from({ length: CONVERSATIONS }, (_, c) => ({
      texts: conversationTexts(`${run}.${n}.${c}.`),
      history: [] as Message[],
      costs: [] as Cost[],
    })),
  }));
  for (const pass of new Set(GROWERS.map((g) => g.pass))) {
    const together = agents.filter((a) => a.grower.pass === pass);
    for (let t = 0; t < TURNS; t++) {
      for (let k = 0; k < together.length; k++) {
        const agent = together[(t + k) % together.length]!;
        const { grower } = agent;
        const fix = <T extends object>(o: T): T => (grower.frozen ? Object.freeze(o) : o);
        for (const conversation of agent.conversations) {
          const { user, assistant } = conversation.texts[t]!;
          const message = fix<Message>({ role: 'user', content: user });
          const req: Request = {
            model: 'claude-sonnet',
            max_tokens: 1024,
            system: agent.system,
            tools: agent.tools,
            messages: [...conversation.history, message],
          };
          conversation.costs.push(grower.op(req));
          conversation.history.push(message, fix<Message>({ role: 'assistant', content: assistant }));
        }
      }
    }
  }
  return agents.map((a) => a.conversations.map((c) => c.costs));
}

/** Median cost at turn `t` (1-based): over turns t-WINDOW..t+WINDOW of every conversation. */
function at(conversations: Cost[][], t: number): Cost {
  const window: Cost[] = [];
  for (const costs of conversations) {
    for (let u = Math.max(1, t - WINDOW); u <= Math.min(TURNS, t + WINDOW); u++) window.push(costs[u - 1]!);
  }
  const pick = (f: keyof Cost) => median(window.map((c) => c[f]));
  return { key: pick('key'), layout: pick('layout'), total: pick('total') };
}

async function growth(): Promise<void> {
  log();
  log(`## Growth: the key of each turn of ${TURNS}-turn conversations, next to JSON.stringify + SHA-256`);
  log();
  for (const line of [
    'Each turn sends a new request (a new object and a new messages array) holding the conversation so far and a',
    'new ~100-token user message; the ~500-token reply is appended after it. Every message is a new object made',
    'at its turn: plain (mutable) objects, re-checked for in-place edits on every call, or frozen ones, which',
    `cannot change and are trusted without a re-check. Each contender keys ${CONVERSATIONS} conversations of its own (one system`,
    'prompt and tool list per contender, as an agent serving many users has). The cacheKey contenders advance',
    'their conversations together, one turn at a time in rotating order, so that between two turns of a',
    'conversation come the turns of all the others: nothing of its previous turn is still hot in the CPU caches.',
    'The baseline advances its own conversations the same way, in a pass of its own (stringifying ~1 MB per call,',
    'it would flush the others out of the caches too, which a server does not do between two turns).',
    `Figure: median µs over turns t-${WINDOW}..t+${WINDOW} of every conversation, in the first of ${RUNS} runs (new`,
    'conversations each); the growth ratios are given for every run. The layout is',
    '`PromptCacheLayout.fromSegments(segmentsFromMessages(request, { cacheHistory: true }))`, timed after the key.',
  ])
    log(line);
  log();
  const runs: Cost[][][][] = [];
  for (let r = 0; r < RUNS; r++) {
    // Each run starts from a collected heap (npm run bench exposes gc), not with the previous run's garbage.
    (globalThis as { gc?: () => void }).gc?.();
    runs.push(growthRun(r));
  }
  const first = runs[0]!;
  log(`| turn | messages | history tokens | ${GROWERS.map((g) => g.name).join(' | ')} | of which layout |`);
  log(`| ---: | ---: | ---: | ${GROWERS.map(() => '---:').join(' | ')} | ---: |`);
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  for (const t of CHECKPOINTS) {
    const cells = GROWERS.map((_, n) => f(at(first[n]!, t).total));
    const layout = at(first[GROWERS.length - 1]!, t).layout;
    log(`| ${t} | ${2 * t - 1} | ~${(600 * (t - 1) + 100) / 1000}k | ${cells.join(' | ')} | ${f(layout)} |`);
  }
  log();
  const ratios = GROWERS.map((_, n) => runs.map((run) => at(run[n]!, TURNS).total / at(run[n]!, 10).total));
  log('Turn 300 / turn 10, per run:');
  log();
  for (let n = 0; n < GROWERS.length; n++) {
    const ends = runs.map((run) => `${f(at(run[n]!, 10).total)} → ${f(at(run[n]!, TURNS).total)}`);
    log(`- ${GROWERS[n]!.name}: ${runsOf(ratios[n]!)}; µs at turn 10 → ${TURNS}: ${ends.join(', ')}`);
  }
  log();
  targetOverRuns('growth, cacheKey, turn 300 / turn 10, plain mutable messages', ratios[1]!, 1.5);
  targetOverRuns('growth, cacheKey + layout, turn 300 / turn 10, plain mutable messages', ratios[3]!, 1.5);
}

async function branches(): Promise<void> {
  log();
  log('### Alternative next turns (retries, regenerations)');
  log();
  log(
    'At each checkpoint, 200 different next user messages on the same history (each a branch from the same',
  );
  log('memoized state, which copies its snapshot arrays); median of 200, median over 3 conversations.');
  log();
  const results: Record<string, Record<number, Cost>> = {};
  for (const mode of ['mutable', 'frozen'] as const) {
    const passes = [0, 1, 2].map((p) => branchTurns(mode === 'frozen', `b${p}`));
    results[mode] = {};
    for (const t of CHECKPOINTS) {
      const pick = (f: keyof Cost) => median(passes.map((p) => p[t]![f]));
      results[mode]![t] = { key: pick('key'), layout: pick('layout'), total: pick('total') };
    }
  }
  table(results);
  for (const mode of ['mutable', 'frozen']) {
    const r = results[mode]!;
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
  await branches();
  await small();
}
