import { duration } from '../format.js';
import { type LoopRecord, Outcome, type ReplayReport } from './replay.js';

/**
 * The report's charts, as inline SVG strings: no script, no external resource. Each chart has a `<title>` and
 * text labels, and its marks carry `<title>` tooltips. Long traces are reduced to what the width can show (one
 * point or cell per pixel column), so the page stays small whatever the trace's length.
 */

export const COLORS = {
  hit: '#2e9d5b',
  miss: '#4a78c2',
  write: '#e08a1e',
  failed: '#c0392b',
  loop: '#d7263d',
  grid: '#e3e6ea',
  axis: '#8a929c',
  text: '#39414b',
  spent: '#c6cbd2',
} as const;

/** Distinct colours for read tools in stacked bars. */
const PALETTE = ['#4a78c2', '#2e9d5b', '#8e5ec4', '#d9a21b', '#1aa3a3', '#c2577a', '#6b8e23', '#7f7f7f'];

const WIDTH = 760;

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function n(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function svg(height: number, label: string, body: string, role = 'chart'): string {
  return `<svg class="chart" data-chart="${role}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(label)}</title>${body}</svg>`;
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${esc(content)}</text>`;
}

/** Bars shown per bar chart; the rest are counted below it. */
const MAX_BARS = 15;

/** A horizontal bar chart's geometry: a label column, the bars, then a value column; `extra` px below the rows. */
function barLayout(rows: number, rowHeight: number, valueWidth: number, extra: number) {
  const top = 8;
  const labelW = 170;
  return {
    labelW,
    plotW: WIDTH - labelW - valueWidth - 16,
    height: top + Math.max(1, rows) * rowHeight + extra,
    rowY: (i: number) => top + i * rowHeight,
  };
}

/** What a chart shows when the trace has nothing for it. */
function empty(message: string, y = 26): string {
  return text(WIDTH / 2, y, message, 'text-anchor="middle" class="empty"');
}

/** Round tick values for an axis from 0 to `max`. */
function ticks(max: number, count = 5): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 1e6; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

/** Hit rate over the run: cumulative, and over a moving window of recent reads; x is the line of the trace. */
export function hitRateChart(report: ReplayReport): string {
  const { lines, outcomes } = report.timeline;
  const left = 48;
  const right = 16;
  const top = 16;
  const height = 240;
  const bottom = height - 36;
  const plotW = WIDTH - left - right;
  const plotH = bottom - top;
  const lastLine = lines.length === 0 ? 1 : lines[lines.length - 1]!;
  const x = (line: number) => left + (lastLine <= 1 ? plotW : ((line - 1) / (lastLine - 1)) * plotW);
  const y = (ratio: number) => bottom - ratio * plotH;
  const window = Math.max(10, Math.round(report.reads / 20));
  const recent: number[] = [];
  let hits = 0;
  let reads = 0;
  let windowHits = 0;
  // One point per pixel column at most: the last read that lands in each column.
  const cumulative = new Map<number, [number, number]>();
  const moving = new Map<number, [number, number]>();
  const writes: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const o = outcomes[i]!;
    if (o === Outcome.Write || o === Outcome.WriteFailed) {
      writes.push(lines[i]!);
      continue;
    }
    const hit = o === Outcome.Hit ? 1 : 0;
    reads++;
    hits += hit;
    recent.push(hit);
    windowHits += hit;
    if (recent.length > window) windowHits -= recent.shift()!;
    const px = Math.round(x(lines[i]!));
    cumulative.set(px, [px, y(hits / reads)]);
    moving.set(px, [px, y(windowHits / recent.length)]);
  }
  const path = (points: Map<number, [number, number]>) =>
    [...points.values()].map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${n(px)} ${n(py)}`).join(' ');
  let body = '';
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    body += `<line x1="${left}" x2="${WIDTH - right}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${COLORS.grid}"/>`;
    body += text(left - 6, y(t) + 4, `${t * 100}%`, `text-anchor="end" class="tick"`);
  }
  for (const t of ticks(lastLine)) {
    if (t < 1) continue;
    body += text(x(t), bottom + 16, String(t), `text-anchor="middle" class="tick"`);
  }
  body += text(left + plotW / 2, height - 4, 'line of the trace', `text-anchor="middle" class="axis-label"`);
  const seenWrite = new Set<number>();
  for (const line of writes) {
    const px = Math.round(x(line));
    if (seenWrite.has(px)) continue;
    seenWrite.add(px);
    body += `<line class="write-mark" x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom - 8}" stroke="${COLORS.write}" stroke-width="2"><title>write at line ${line}</title></line>`;
  }
  if (cumulative.size > 0) {
    body += `<path class="series moving" d="${path(moving)}" fill="none" stroke="${COLORS.hit}" stroke-opacity="0.35" stroke-width="2"/>`;
    body += `<path class="series cumulative" d="${path(cumulative)}" fill="none" stroke="${COLORS.hit}" stroke-width="2.5"/>`;
  } else {
    body += empty('no reads in this trace', top + plotH / 2);
  }
  body += `<line x1="${left}" x2="${WIDTH - right}" y1="${bottom}" y2="${bottom}" stroke="${COLORS.axis}"/>`;
  return svg(
    height,
    `Hit rate over the run: ${(report.hitRate * 100).toFixed(1)}% overall`,
    body,
    'hit-rate',
  );
}

/** Time saved per read tool (hits × their recorded duration), beside the time its executions took. */
export function savedChart(report: ReplayReport): string {
  const tools = [...report.tools]
    .filter(([, t]) => t.kind !== 'write')
    .sort((a, b) => b[1].savedMs - a[1].savedMs);
  const shown = tools.slice(0, MAX_BARS);
  const { labelW, plotW, height, rowY } = barLayout(shown.length, 30, 190, 8);
  const max = Math.max(1, ...shown.map(([, t]) => Math.max(t.savedMs, t.spentMs)));
  let body = shown.length === 0 ? empty('no read tools in this trace') : '';
  shown.forEach(([name, t], i) => {
    const y = rowY(i);
    const saved = (t.savedMs / max) * plotW;
    const spent = (t.spentMs / max) * plotW;
    body += text(labelW - 8, y + 17, name, `text-anchor="end" class="label"`);
    body += `<rect class="bar spent" x="${labelW}" y="${y + 15}" width="${n(Math.max(spent, t.spentMs > 0 ? 1 : 0))}" height="8" fill="${COLORS.spent}"><title>${esc(name)}: ${esc(duration(t.spentMs))} spent in ${t.executions} executions</title></rect>`;
    body += `<rect class="bar saved" x="${labelW}" y="${y + 4}" width="${n(Math.max(saved, t.savedMs > 0 ? 1 : 0))}" height="11" fill="${COLORS.hit}"><title>${esc(name)}: ${esc(duration(t.savedMs))} saved by ${t.hits} hits</title></rect>`;
    body += text(
      labelW + plotW + 8,
      y + 17,
      `${duration(t.savedMs)} saved · ${t.hits}/${t.calls} hits`,
      `class="value"`,
    );
  });
  if (tools.length > shown.length)
    body += text(labelW, height - 2, `… and ${tools.length - shown.length} more tools`, 'class="tick"');
  return svg(height, `Time saved per tool: ${duration(report.savedMs)} in total`, body, 'saved');
}

/**
 * Where loops start: one lane per session, every call a tick coloured by what happened to it, and a marker at each
 * loop detection; the first detection of a run of them is labelled with its kind and tool.
 */
export function loopsChart(report: ReplayReport): string {
  const { lines, sessions: sessionOf, outcomes } = report.timeline;
  const loopSessions = new Set(report.loops.map((l) => l.session));
  const callsPer = new Map<number, number>();
  for (const s of sessionOf) callsPer.set(s, (callsPer.get(s) ?? 0) + 1);
  const order = report.sessions
    .map((id, i) => ({ id, i, loops: loopSessions.has(id) ? 1 : 0, calls: callsPer.get(i) ?? 0 }))
    .sort((a, b) => b.loops - a.loops || a.i - b.i);
  const lanes = order.slice(0, 12);
  const laneOf = new Map(lanes.map((l, k) => [l.i, k]));
  const left = 130;
  const right = 16;
  const top = 8;
  const lane = 34;
  const plotW = WIDTH - left - right;
  const height = top + Math.max(1, lanes.length) * lane + 30;
  const lastLine = lines.length === 0 ? 1 : lines[lines.length - 1]!;
  const x = (line: number) => left + (lastLine <= 1 ? 0 : ((line - 1) / (lastLine - 1)) * plotW);
  let body = '';
  lanes.forEach((l, k) => {
    const y = top + k * lane;
    body += `<line x1="${left}" x2="${WIDTH - right}" y1="${y + 24}" y2="${y + 24}" stroke="${COLORS.grid}"/>`;
    body += text(left - 8, y + 24, l.id, `text-anchor="end" class="label"`);
  });
  // One tick per lane and pixel column; the most telling outcome wins (failure > write > miss > hit).
  const rank: Record<number, number> = {
    [Outcome.Hit]: 0,
    [Outcome.Miss]: 1,
    [Outcome.Write]: 2,
    [Outcome.MissFailed]: 3,
    [Outcome.WriteFailed]: 3,
  };
  const cells = new Map<string, { px: number; k: number; o: Outcome; line: number }>();
  for (let i = 0; i < lines.length; i++) {
    const k = laneOf.get(sessionOf[i]!);
    if (k === undefined) continue;
    const px = Math.round(x(lines[i]!));
    const id = `${k}:${px}`;
    const o = outcomes[i]!;
    const cell = cells.get(id);
    if (cell === undefined || rank[o]! > rank[cell.o]!) cells.set(id, { px, k, o, line: lines[i]! });
  }
  const colour = (o: Outcome) =>
    o === Outcome.Hit
      ? COLORS.hit
      : o === Outcome.Miss
        ? COLORS.miss
        : o === Outcome.Write
          ? COLORS.write
          : COLORS.failed;
  const word = (o: Outcome) => ['hit', 'miss', 'failed read', 'write', 'failed write'][o]!;
  for (const c of cells.values()) {
    const y = top + c.k * lane;
    body += `<rect class="call" x="${c.px - 1}" y="${y + 17}" width="3" height="14" fill="${colour(c.o)}"><title>line ${c.line}: ${word(c.o)}</title></rect>`;
  }
  // A run: detections of one kind and tool in a session with no other detection of that session between them.
  // Its label names where it starts, placed after its last marker.
  const sessionIndex = new Map(report.sessions.map((id, i) => [id, i]));
  const runs: { k: number; first: LoopRecord; last: LoopRecord }[] = [];
  const open = new Map<string, (typeof runs)[number]>();
  for (const loop of report.loops) {
    const k = laneOf.get(sessionIndex.get(loop.session)!);
    if (k === undefined) continue;
    const y = top + k * lane;
    const px = x(loop.line);
    body += `<path class="loop" d="M${n(px)} ${y + 15} l-5 -9 h10 z" fill="${COLORS.loop}"><title>line ${loop.line}: ${loop.kind} loop (${esc(loop.tool)}, count ${loop.count})</title></path>`;
    const run = open.get(loop.session);
    if (run !== undefined && run.first.kind === loop.kind && run.first.tool === loop.tool) {
      run.last = loop;
    } else {
      const started = { k, first: loop, last: loop };
      runs.push(started);
      open.set(loop.session, started);
    }
  }
  const labelled = new Set<string>();
  for (const { k, first, last } of runs) {
    const px = x(last.line);
    const slot = `${k}:${Math.round(x(first.line) / 80)}`;
    if (labelled.has(slot)) continue; // runs closer than a label's width: the first one speaks for them
    labelled.add(slot);
    const lines = first === last ? `line ${first.line}` : `lines ${first.line}–${last.line}`;
    const atEnd = px > WIDTH - 220;
    body += text(
      atEnd ? x(first.line) - 8 : px + 8,
      top + k * lane + 10,
      `${first.kind} · ${first.tool} (${lines})`,
      `class="loop-label"${atEnd ? ' text-anchor="end"' : ''}`,
    );
  }
  if (lanes.length === 0) body += empty('no calls in this trace');
  const legendY = height - 8;
  let lx = left;
  for (const [label, color] of [
    ['hit', COLORS.hit],
    ['miss', COLORS.miss],
    ['write', COLORS.write],
    ['failed', COLORS.failed],
    ['loop detected', COLORS.loop],
  ] as const) {
    body += `<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${color}"/>`;
    body += text(lx + 14, legendY, label, 'class="tick"');
    lx += 30 + label.length * 7;
  }
  if (order.length > lanes.length)
    body += text(
      WIDTH - right,
      legendY,
      `${order.length - lanes.length} more sessions not shown`,
      'text-anchor="end" class="tick"',
    );
  return svg(
    height,
    `Where loops start: ${report.loops.length} loop detections in ${loopSessions.size} sessions`,
    body,
    'loops',
  );
}

/** Which writes invalidated what: per write tool, the stored entries its calls made stale, by read tool. */
export function invalidationChart(report: ReplayReport): string {
  const byWrite = new Map<string, Map<string, number>>();
  for (const inv of report.invalidations) {
    let m = byWrite.get(inv.tool);
    if (m === undefined) {
      m = new Map();
      byWrite.set(inv.tool, m);
    }
    for (const [read, count] of inv.invalidated) m.set(read, (m.get(read) ?? 0) + count);
  }
  const writes = [...byWrite].map(([tool, m]) => ({
    tool,
    m,
    total: [...m.values()].reduce((a, b) => a + b, 0),
  }));
  writes.sort((a, b) => b.total - a.total);
  const readTools = [...new Set(writes.flatMap((w) => [...w.m.keys()]))].sort();
  const colorOf = new Map(readTools.map((t, i) => [t, PALETTE[i % PALETTE.length]!]));
  const shown = writes.slice(0, MAX_BARS);
  const legendTop = barLayout(shown.length, 28, 120, 0).height + 12;
  const { labelW, plotW, height, rowY } = barLayout(
    shown.length,
    28,
    120,
    12 + Math.ceil(readTools.length / 4) * 18,
  );
  const max = Math.max(1, ...shown.map((w) => w.total));
  let body = shown.length === 0 ? empty('no writes in this trace') : '';
  shown.forEach((w, i) => {
    const y = rowY(i);
    body += text(labelW - 8, y + 16, w.tool, `text-anchor="end" class="label"`);
    let x = labelW;
    for (const read of readTools) {
      const count = w.m.get(read) ?? 0;
      if (count === 0) continue;
      const width = Math.max(1, (count / max) * plotW);
      body += `<rect class="bar invalidated" x="${n(x)}" y="${y + 4}" width="${n(width)}" height="16" fill="${colorOf.get(read)}"><title>${esc(w.tool)} made ${count} ${esc(read)} ${count === 1 ? 'entry' : 'entries'} stale</title></rect>`;
      x += width;
    }
    const calls = report.invalidations.filter((inv) => inv.tool === w.tool).length;
    body += text(
      Math.max(x, labelW) + 8,
      y + 16,
      `${w.total} ${w.total === 1 ? 'entry' : 'entries'} · ${calls} ${calls === 1 ? 'call' : 'calls'}`,
      'class="value"',
    );
  });
  readTools.forEach((t, i) => {
    const lx = labelW + (i % 4) * 140;
    const ly = legendTop + Math.floor(i / 4) * 18;
    body += `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${colorOf.get(t)}"/>`;
    body += text(lx + 14, ly + 9, t, 'class="tick"');
  });
  const total = writes.reduce((a, w) => a + w.total, 0);
  return svg(
    height,
    `Which writes invalidated what: ${total} stored entries made stale by ${report.invalidations.length} writes`,
    body,
    'invalidations',
  );
}
