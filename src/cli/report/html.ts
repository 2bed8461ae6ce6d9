import { count, duration, percent } from '../format.js';
import { esc, hitRateChart, invalidationChart, loopsChart, savedChart } from './charts.js';
import type { ReplayReport } from './replay.js';

/** Rows of the loop and write tables; the charts show everything. */
const MAX_ROWS = 100;

const STYLE = `
:root { color-scheme: light; --text: #39414b; --muted: #6b7480; --line: #e3e6ea; --hit: #2e9d5b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: #f6f7f9; }
main { max-width: 820px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; }
p.lead, p.note { color: var(--muted); margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 10px; margin: 20px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 13px; }
.card.good b { color: var(--hit); }
.card.bad b { color: #d7263d; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 8px; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg .tick { fill: #6b7480; font-size: 11px; }
svg .axis-label { fill: #6b7480; font-size: 12px; }
svg .label, svg .value { fill: #39414b; font-size: 12px; }
svg .loop-label { fill: #d7263d; font-size: 11px; font-weight: 600; }
svg .empty { fill: #6b7480; font-style: italic; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #fafbfc; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
`;

export interface HtmlOptions {
  /** The trace file, as the user named it. */
  readonly trace: string;
  readonly generatedAt: Date;
  readonly version: string;
}

/** The whole report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. */
export function reportHtml(report: ReplayReport, options: HtmlOptions): string {
  const writes = report.calls - report.reads;
  const stale = report.invalidations.reduce(
    (sum, inv) => sum + [...inv.invalidated.values()].reduce((a, b) => a + b, 0),
    0,
  );
  const card = (value: string, label: string, cls = '') =>
    `<div class="card ${cls}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  const toolRows = [...report.tools]
    .map(
      ([name, t]) =>
        `<tr><td><code>${esc(name)}</code></td><td>${esc(t.kind)}</td><td class="n">${count(t.calls)}</td><td class="n">${t.kind === 'write' ? '–' : count(t.hits)}</td><td class="n">${t.kind === 'write' ? '–' : percent(t.calls === 0 ? 0 : t.hits / t.calls)}</td><td class="n">${count(t.executions)}</td><td class="n">${t.kind === 'write' ? '–' : esc(duration(t.savedMs))}</td></tr>`,
    )
    .join('');
  const loopRows = report.loops
    .slice(0, MAX_ROWS)
    .map(
      (l) =>
        `<tr><td class="n">${l.line}</td><td><code>${esc(l.session)}</code></td><td>${esc(l.kind)}</td><td><code>${esc(l.tool)}</code></td><td class="n">${l.count}</td></tr>`,
    )
    .join('');
  // The writes that made something stale tell what invalidation did; the others only count.
  const effective = report.invalidations.filter((inv) => inv.invalidated.size > 0);
  const writeRows = effective
    .slice(0, MAX_ROWS)
    .map((inv) => {
      const what = [...inv.invalidated].map(([tool, n]) => `<code>${esc(tool)}</code> × ${n}`).join(', ');
      return `<tr><td class="n">${inv.line}</td><td><code>${esc(inv.session)}</code></td><td><code>${esc(inv.tool)}</code></td><td>${inv.resources.map((r) => `<code>${esc(r)}</code>`).join(', ') || '–'}${inv.scope === 'session' ? ' <small>(this session)</small>' : ''}</td><td>${what}</td></tr>`;
    })
    .join('');
  const more = (total: number) =>
    total > MAX_ROWS ? `<p class="note">The first ${MAX_ROWS} of ${count(total)}.</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agent-cache report: ${esc(options.trace)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>What caching saves on this run</h1>
<p class="lead">The agent run recorded in <code>${esc(options.trace)}</code>, replayed through agent-cache: ${count(report.calls)} tool calls in ${count(report.sessions.length)} ${report.sessions.length === 1 ? 'session' : 'sessions'}.</p>
<section class="cards">
${card(count(report.calls), 'calls')}
${card(count(report.executions), 'executions')}
${card(count(report.avoided), 'executions avoided', 'good')}
${card(percent(report.hitRate), `hit rate (${count(report.reads)} reads)`, 'good')}
${card(duration(report.savedMs), `saved of ${duration(report.recordedMs)} recorded`, 'good')}
${card(count(report.loops.length), 'loop detections', report.loops.length > 0 ? 'bad' : '')}
</section>

<h2>Hit rate over the run</h2>
<p class="note">Dark line: the hit rate of every read so far; light line: over the last reads only. Orange ticks: writes.</p>
<figure>${hitRateChart(report)}</figure>

<h2>Time saved per tool</h2>
<p class="note">Green: the recorded time of the calls answered from the cache. Grey: the time of the calls that executed.</p>
<figure>${savedChart(report)}</figure>

<h2>Where loops start</h2>
<p class="note">Each session's calls from left to right; red markers are calls the loop detector flagged (default limits, warn mode).</p>
<figure>${loopsChart(report)}</figure>

<h2>Which writes invalidated what</h2>
<p class="note">For each write tool, the stored results its calls made stale (${count(stale)} in all, from ${count(writes)} writes), by the read tool that stored them.</p>
<figure>${invalidationChart(report)}</figure>

<h2>Per tool</h2>
<table><thead><tr><th>tool</th><th>kind</th><th class="n">calls</th><th class="n">hits</th><th class="n">hit rate</th><th class="n">executions</th><th class="n">saved</th></tr></thead><tbody>${toolRows}</tbody></table>

<h2>Loops</h2>
${report.loops.length === 0 ? '<p class="note">No loop detected.</p>' : `<table><thead><tr><th class="n">line</th><th>session</th><th>kind</th><th>tool</th><th class="n">count</th></tr></thead><tbody>${loopRows}</tbody></table>${more(report.loops.length)}`}

<h2>Writes</h2>
${report.invalidations.length === 0 ? '<p class="note">No write in this trace.</p>' : `<p class="note">${count(effective.length)} of the ${count(report.invalidations.length)} writes made stored results stale${effective.length > MAX_ROWS ? `; the first ${MAX_ROWS} of them` : ''}:</p>${effective.length === 0 ? '' : `<table><thead><tr><th class="n">line</th><th>session</th><th>tool</th><th>resources</th><th>made stale</th></tr></thead><tbody>${writeRows}</tbody></table>`}`}

<footer>Generated by agent-cache ${esc(options.version)} on ${esc(options.generatedAt.toISOString())}. Every hit, miss, invalidation and loop above is what the library does with these calls; time saved is the recorded <code>durationMs</code> of the calls answered from the cache.</footer>
</main>
</body>
</html>
`;
}
