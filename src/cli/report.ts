import { statSync, writeFileSync } from 'node:fs';
import { CommandError, UsageError } from './args.js';
import { type Command, FLAG, VALUE } from './command.js';
import { count, duration, percent, quoted, table } from './format.js';
import { reportHtml } from './report/html.js';
import { progressBar } from './report/progress.js';
import { type ReplayReport, replay } from './report/replay.js';
import { readTrace } from './report/trace.js';
import { packageVersion } from './version.js';

const USAGE = 'agent-cache report <trace.jsonl> [--html out.html] [--json]';

export const reportCommand: Command = {
  name: 'report',
  usage: USAGE,
  summary: 'replay a recorded agent run through the cache and the loop detector: what caching saves',
  options: { json: FLAG, html: VALUE },
  async run(args, io) {
    const [trace, extra] = args.positional;
    if (trace === undefined) throw new UsageError('missing <trace.jsonl>');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    const html = args.values.get('html');
    if (html === '') throw new UsageError('--html needs a file name');
    let size: number;
    try {
      const stat = statSync(trace);
      if (!stat.isFile()) throw new CommandError(`${trace} is not a file`);
      size = stat.size;
    } catch (error) {
      if (error instanceof CommandError) throw error;
      throw new CommandError(
        `cannot read ${trace}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      );
    }
    const progress = progressBar(io, size);
    let calls = 0;
    let report: ReplayReport;
    try {
      report = await replay(
        (async function* () {
          for await (const call of readTrace(trace, (bytes) => progress.update(bytes, calls))) {
            calls++;
            yield call;
          }
        })(),
      );
    } finally {
      progress.done();
    }
    if (html !== undefined) {
      try {
        writeFileSync(
          html,
          reportHtml(report, { trace, generatedAt: new Date(), version: packageVersion() }),
        );
      } catch (error) {
        throw new CommandError(`cannot write ${html}: ${(error as Error).message}`);
      }
    }
    if (args.flags.has('json')) {
      io.stdout(`${JSON.stringify(reportJson(report), null, 2)}\n`);
    } else {
      io.stdout(`${humanReport(trace, report)}\n${html === undefined ? '' : `\nwrote ${html}\n`}`);
    }
    return 0;
  },
};

/** Durations are summed as recorded and rounded to the microsecond, so float noise never shows. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** `{ calls, executions, avoided, hitRate, savedMs, loops: [{ line, session, kind, tool }], tools }`. */
export function reportJson(r: ReplayReport) {
  return {
    calls: r.calls,
    executions: r.executions,
    avoided: r.avoided,
    hitRate: r.hitRate,
    savedMs: ms(r.savedMs),
    loops: r.loops.map((l) => ({ line: l.line, session: l.session, kind: l.kind, tool: l.tool })),
    tools: Object.fromEntries(
      [...r.tools].map(([name, t]) => [name, { calls: t.calls, hits: t.hits, savedMs: ms(t.savedMs) }]),
    ),
  };
}

function humanReport(trace: string, r: ReplayReport): string {
  const writes = r.calls - r.reads;
  const stale = r.invalidations.reduce(
    (sum, inv) => sum + [...inv.invalidated.values()].reduce((a, b) => a + b, 0),
    0,
  );
  const lines = [
    `${trace}: ${count(r.calls)} calls (${count(r.reads)} reads, ${count(writes)} writes) in ${count(r.sessions.length)} ${r.sessions.length === 1 ? 'session' : 'sessions'}`,
    table(
      [
        [
          'executions',
          count(r.executions),
          r.calls === 0 ? '' : `(${percent(r.executions / r.calls)} of the calls ran)`,
        ],
        ['avoided', count(r.avoided), `(hit rate ${percent(r.hitRate)} of reads)`],
        [
          'time saved',
          duration(r.savedMs),
          r.recordedMs === 0 ? '' : `(of ${duration(r.recordedMs)} recorded in tools)`,
        ],
        [
          'invalidated',
          count(stale),
          `stored ${stale === 1 ? 'entry' : 'entries'}, by ${count(writes)} ${writes === 1 ? 'write' : 'writes'}`,
        ],
        ['loops', count(r.loops.length), r.loops.length === 0 ? '' : 'detected (warn mode: the calls ran)'],
      ],
      [1],
    ),
  ];
  if (r.tools.size > 0) {
    lines.push(
      '',
      table(
        [
          ['tool', 'kind', 'calls', 'hits', 'hit rate', 'executions', 'saved'],
          ...[...r.tools].map(([name, t]) => [
            quoted(name),
            t.kind,
            count(t.calls),
            t.kind === 'write' ? '-' : count(t.hits),
            t.kind === 'write' ? '-' : percent(t.calls === 0 ? 0 : t.hits / t.calls),
            count(t.executions),
            t.kind === 'write' ? '-' : duration(t.savedMs),
          ]),
        ],
        [2, 3, 4, 5, 6],
      ),
    );
  }
  if (r.loops.length > 0) {
    const shown = r.loops.slice(0, 10);
    lines.push('', 'loops:');
    lines.push(
      table(shown.map((l) => [`line ${l.line}`, l.kind, quoted(l.tool), `session ${quoted(l.session)}`])),
    );
    if (r.loops.length > shown.length)
      lines.push(`  … and ${count(r.loops.length - shown.length)} more (--json lists them all)`);
  }
  return lines.join('\n');
}
