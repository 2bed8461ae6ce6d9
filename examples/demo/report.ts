/**
 * The end of a run: a table per tool and a summary whose figures add up, all from the counted events, then checked
 * against the library's own metrics (`getMetrics()`) and the counters of the helpdesk API and of the model.
 */
import type { MetricsSnapshot } from 'agent-cache';
import type { Start } from './cache-file.js';
import { paint } from './paint.js';
import { type Counts, type ToolCounts, toolTotals } from './watch.js';

export function toolTable(counts: Counts): string[] {
  const head = ['tool', 'calls', 'hits', 'misses', 'writes', 'loops', 'ran', 'saved ms'];
  const row = (name: string, c: ToolCounts) => [
    name,
    c.calls,
    c.hits,
    c.misses,
    c.writes,
    c.loops,
    c.misses + c.writes + c.bypassed,
    c.savedMs.toFixed(1),
  ];
  const rows = [...counts.tools].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => row(name, c));
  rows.push(row('all tools', toolTotals(counts)));
  const m = counts.model;
  rows.push(['model', m.calls, m.hits, m.misses, '', '', m.misses, '']);
  const cells = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const format = (r: string[]) =>
    `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`.trimEnd();
  const lines = cells.map(format);
  return [paint('bold', lines[0]!), ...lines.slice(1)];
}

export interface Counters {
  /** Calls the helpdesk API received. */
  readonly api: number;
  /** Calls the model received. */
  readonly model: number;
}

export function summary(counts: Counts, counters: Counters): string[] {
  const t = toolTotals(counts);
  const m = counts.model;
  const executions = t.misses + t.writes + t.bypassed;
  const reads = t.hits + t.misses;
  const uncached = t.bypassed > 0 ? ` + ${t.bypassed} uncached` : '';
  const pct = (n: number, d: number) => `${d === 0 ? 0 : Math.round((100 * n) / d)}%`;
  const raise = counts.loopsByMode.get('raise') ?? 0;
  const shortCircuit = counts.loopsByMode.get('short_circuit') ?? 0;
  const row = (name: string, value: string | number, detail: string) =>
    `  ${name.padEnd(19)}${String(value).padStart(8)}  ${detail}`;
  return [
    row(
      'tool calls',
      t.calls,
      `= ${t.hits} hits + ${t.misses} misses + ${t.writes} writes + ${t.loops} loops stopped${uncached}`,
    ),
    row(
      'executions',
      executions,
      `= ${t.misses} misses + ${t.writes} writes${uncached}; the helpdesk API counted ${counters.api} calls`,
    ),
    row(
      'executions avoided',
      t.hits + t.loops,
      `= ${t.hits} hits (${t.joined} joined a call in flight) + ${t.loops} loops stopped`,
    ),
    row('hit rate', pct(t.hits, reads), `= ${t.hits} hits / ${reads} reads (hits + misses)`),
    row('time saved', `${t.savedMs.toFixed(1)} ms`, 'of API time: the measured execution behind each hit'),
    row(
      'model calls',
      m.calls,
      `= ${m.hits} answered from the cache + ${m.misses} made; the model counted ${counters.model} calls`,
    ),
    row(
      'tokens saved',
      m.savedInputTokens + m.savedOutputTokens,
      `= ${m.savedInputTokens} input + ${m.savedOutputTokens} output: the usage of the cached answers`,
    ),
    row('invalidations', counts.invalidations, `one per write (${t.writes} writes)`),
    row('loops', t.loops, `${raise} raise + ${shortCircuit} short_circuit`),
    row('prefix breaks', counts.prefixBreaks, 'the cacheable prompt prefix changed between two requests'),
  ];
}

export function startLine(start: Start): string[] {
  if (start.kind !== 'warm') {
    const why = start.kind === 'fresh' ? '--fresh: removed the earlier run' : 'no cache yet';
    return [`${paint('bold', 'Cold start')} (${why}): the cache is ${start.cacheFile}.`];
  }
  const tools = [...start.toolEntries.values()].reduce((a, b) => a + b, 0);
  const byTool = [...start.toolEntries].map(([tool, n]) => `${tool} ${n}`).join(', ');
  return [
    `${paint('bold', 'Warm start')}: ${start.cacheFile} holds ${tools + start.responseEntries} entries from earlier runs: ` +
      `${tools} tool results (${byTool || 'none'}) and ${start.responseEntries} model answers.`,
    '(npm run demo -- --fresh starts cold)',
  ];
}

export function endLine(start: Start, counts: Counts): string {
  const t = toolTotals(counts);
  if (start.kind === 'warm') {
    return `${paint('bold', 'Served from the file')}: ${t.fromFile} tool calls and ${counts.model.fromFile} model calls were answered by entries that earlier runs stored in ${start.cacheFile}.`;
  }
  return `Run npm run demo again: it starts warm from ${start.cacheFile}.`;
}

/** Every figure of the summary against the library's metrics and the API's and model's own counters. */
export function disagreements(counts: Counts, metrics: MetricsSnapshot, counters: Counters): string[] {
  const wrong: string[] = [];
  const check = (what: string, ours: number, theirs: number) => {
    if (Math.abs(ours - theirs) > 1e-6)
      wrong.push(`${what}: the events say ${ours}, the other count ${theirs}`);
  };
  const t = toolTotals(counts);
  for (const [name, c] of counts.tools) {
    const own = metrics.tools[name];
    check(`${name} hits`, c.hits, own?.hits ?? 0);
    check(`${name} coalesced`, c.joined, own?.coalesced ?? 0);
    check(`${name} misses`, c.misses, own?.misses ?? 0);
    check(`${name} writes`, c.writes, own?.invalidations ?? 0);
    check(`${name} loops`, c.loops, own?.loopDetections ?? 0);
    check(`${name} bypassed`, c.bypassed, own?.bypassed ?? 0);
    check(`${name} saved ms`, c.savedMs, own?.savedMs ?? 0);
  }
  check('hits', t.hits, metrics.hits);
  check('misses', t.misses, metrics.misses);
  check('invalidations', counts.invalidations, metrics.invalidations);
  check('loops', t.loops, metrics.loopDetections);
  check('saved ms', t.savedMs, metrics.savedMs);
  check('executions', t.misses + t.writes + t.bypassed, counters.api);
  check('model hits', counts.model.hits, metrics.responses.hits);
  check('model calls made', counts.model.misses, metrics.responses.misses);
  check('model calls made', counts.model.misses, counters.model);
  check('input tokens saved', counts.model.savedInputTokens, metrics.responses.savedInputTokens);
  check('output tokens saved', counts.model.savedOutputTokens, metrics.responses.savedOutputTokens);
  check('backend errors', counts.backendErrors, metrics.backendErrors);
  return wrong;
}
