/**
 * Watching the cache from the outside, the way an application would: every line the demo prints for a call comes
 * from agent-cache's `node:diagnostics_channel` events (`subscribeAgentCache`), and so does every figure of the
 * summary. The events name the tool and a hash of the entry's key, never the arguments; to print those, each
 * tool's `execute` runs inside an AsyncLocalStorage holding its input (listeners run synchronously, in the async
 * context of the call that published), and each agent run inside one holding its question.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribeAgentCache } from 'agent-cache';
import type { ToolSet } from 'ai';
import { OUTCOME_STYLE, paint } from './paint.js';

interface ToolCallScope {
  readonly input: unknown;
  readonly startedAt: number;
}

interface AskScope {
  readonly question: string;
  modelCalls: number;
}

const toolCall = new AsyncLocalStorage<ToolCallScope>();
const ask = new AsyncLocalStorage<AskScope>();

/** The same toolset, each `execute` run with its input in reach of the listeners. */
export function watchTools<T extends ToolSet>(tools: T): T {
  const watched: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tools)) {
    const execute = t.execute;
    watched[name] =
      execute === undefined
        ? t
        : {
            ...t,
            execute: (input: unknown, options: never) =>
              toolCall.run({ input, startedAt: performance.now() }, () => execute(input, options)),
          };
  }
  return watched as T;
}

/** Runs one agent run (a `generateText`) with its question in reach of the listeners. */
export function asking<T>(question: string, run: () => Promise<T>): Promise<T> {
  return ask.run({ question, modelCalls: 0 }, run);
}

/** What one tool's calls came to. */
export interface ToolCounts {
  calls: number;
  hits: number;
  /** Hits that joined an identical execution in flight. */
  joined: number;
  misses: number;
  writes: number;
  loops: number;
  bypassed: number;
  savedMs: number;
  /** Hits answered by an entry that an earlier run wrote (its key was not executed in this run). */
  fromFile: number;
}

export interface ModelCounts {
  calls: number;
  hits: number;
  misses: number;
  savedInputTokens: number;
  savedOutputTokens: number;
  fromFile: number;
}

export interface Counts {
  readonly tools: Map<string, ToolCounts>;
  readonly model: ModelCounts;
  /** Loops by what was done about them (`raise`, `short_circuit`, `warn`). */
  readonly loopsByMode: Map<string, number>;
  invalidations: number;
  prefixBreaks: number;
  backendErrors: number;
}

export function emptyCounts(): Counts {
  return {
    tools: new Map(),
    model: { calls: 0, hits: 0, misses: 0, savedInputTokens: 0, savedOutputTokens: 0, fromFile: 0 },
    loopsByMode: new Map(),
    invalidations: 0,
    prefixBreaks: 0,
    backendErrors: 0,
  };
}

/** The counts of every tool together. */
export function toolTotals(counts: Counts): ToolCounts {
  const total = emptyTool();
  for (const c of counts.tools.values()) {
    for (const name of Object.keys(total) as (keyof ToolCounts)[]) total[name] += c[name];
  }
  return total;
}

function emptyTool(): ToolCounts {
  return {
    calls: 0,
    hits: 0,
    joined: 0,
    misses: 0,
    writes: 0,
    loops: 0,
    bypassed: 0,
    savedMs: 0,
    fromFile: 0,
  };
}

/** Subscribes to every agent-cache event, printing one line per call and counting; returns the counts and a stop. */
export function watchCache(print: (line: string) => void): { counts: Counts; stop: () => void } {
  const counts = emptyCounts();
  const executed = new Set<string>();
  const answered = new Set<string>();
  const tool = (name: string): ToolCounts => {
    let c = counts.tools.get(name);
    if (c === undefined) {
      c = emptyTool();
      counts.tools.set(name, c);
    }
    return c;
  };
  const line = (
    agent: string | undefined,
    what: string,
    args: string,
    outcome: string,
    ms: number,
    note = '',
  ) =>
    print(
      `  ${(agent ?? '-').padEnd(8)} ${what.padEnd(18)} ${clip(args, 44).padEnd(44)} ${paint(
        OUTCOME_STYLE[outcome] ?? 'none',
        outcome.padEnd(12),
      )}${ms.toFixed(1).padStart(6)} ms${note === '' ? '' : `  ${paint('dim', note)}`}`,
    );
  const input = (): string => show(toolCall.getStore()?.input);

  const stops = [
    subscribeAgentCache('hit', (e) => {
      const c = tool(e.tool);
      c.calls++;
      c.hits++;
      c.savedMs += e.savedMs;
      const notes = [`saved ${e.savedMs.toFixed(1)} ms`];
      if (e.coalesced) {
        c.joined++;
        notes.push('joined the call in flight');
      } else if (!executed.has(e.key)) {
        c.fromFile++;
        notes.push('from an earlier run');
      }
      line(e.sessionId, e.tool, input(), 'HIT', e.durationMs, notes.join(', '));
    }),
    subscribeAgentCache('miss', (e) => {
      const c = tool(e.tool);
      c.calls++;
      c.misses++;
      executed.add(e.key);
      line(e.sessionId, e.tool, input(), 'MISS', e.durationMs, e.error === undefined ? '' : 'failed');
    }),
    subscribeAgentCache('invalidate', (e) => {
      counts.invalidations++;
      if (e.tool !== undefined) {
        const c = tool(e.tool);
        c.calls++;
        c.writes++;
      }
      line(
        e.sessionId,
        e.tool ?? 'invalidateResource',
        input(),
        'INVALIDATE',
        e.durationMs,
        e.resources.join(', '),
      );
    }),
    subscribeAgentCache('loop', (e) => {
      const c = tool(e.tool);
      c.calls++;
      c.loops++;
      counts.loopsByMode.set(e.mode, (counts.loopsByMode.get(e.mode) ?? 0) + 1);
      const started = toolCall.getStore()?.startedAt;
      const what =
        e.mode === 'raise'
          ? 'not run, the model gets an error'
          : e.mode === 'short_circuit'
            ? 'not run, the stored result returned'
            : 'warned, ran';
      line(
        e.sessionId,
        e.tool,
        input(),
        'LOOP',
        started === undefined ? 0 : performance.now() - started,
        `${e.kind} #${e.count}, ${e.mode}: ${what}`,
      );
    }),
    subscribeAgentCache('bypass', (e) => {
      const c = tool(e.tool);
      c.calls++;
      c.bypassed++;
      line(e.sessionId, e.tool, input(), 'BYPASS', e.durationMs, e.reason);
    }),
    subscribeAgentCache('backend-error', (e) => {
      counts.backendErrors++;
      print(`  ${paint('red', 'backend error')} ${e.operation}: ${String(e.error)}`);
    }),
    subscribeAgentCache('response-hit', (e) => {
      const m = counts.model;
      m.calls++;
      m.hits++;
      m.savedInputTokens += e.inputTokens ?? 0;
      m.savedOutputTokens += e.outputTokens ?? 0;
      const notes = [`saved ${e.inputTokens ?? 0} + ${e.outputTokens ?? 0} tokens`];
      if (!e.coalesced && !answered.has(e.key)) {
        m.fromFile++;
        notes.push('from an earlier run');
      }
      line(e.sessionId, 'model', modelStep(), 'HIT', e.durationMs, notes.join(', '));
    }),
    subscribeAgentCache('response-miss', (e) => {
      const m = counts.model;
      m.calls++;
      m.misses++;
      answered.add(e.key);
      line(
        e.sessionId,
        'model',
        modelStep(),
        'MISS',
        e.durationMs,
        `${e.inputTokens} + ${e.outputTokens} tokens`,
      );
    }),
    subscribeAgentCache('prefix-break', (e) => {
      counts.prefixBreaks++;
      const what = e.contentOnlyChange
        ? `segment ${e.firstChangedId} changed`
        : `segment ${e.firstChangedId} moved or left`;
      line(e.sessionId, 'prompt guard', 'the cacheable prompt prefix', 'PREFIX-BREAK', 0, what);
    }),
  ];
  return {
    counts,
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** What the model was asked: the question on an agent run's first model call, its step after that. */
function modelStep(): string {
  const scope = ask.getStore();
  if (scope === undefined) return '';
  scope.modelCalls++;
  return scope.modelCalls === 1 ? `"${scope.question}"` : `step ${scope.modelCalls}`;
}

function show(input: unknown): string {
  return input === undefined ? '' : JSON.stringify(input);
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
