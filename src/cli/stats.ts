import { type CacheStats, summarize } from '../backends/inspection.js';
import { type Command, FLAG, TARGET_OPTIONS } from './command.js';
import { filtered, singleTarget, withTarget } from './entries.js';
import { bytes, count, quoted, table } from './format.js';

const USAGE = 'agent-cache stats <target> [--json] [--prefix P] [--namespace N]';

/** Resources listed in human output; `--json` lists them all. */
const TOP_RESOURCES = 15;

export const statsCommand: Command = {
  name: 'stats',
  usage: USAGE,
  summary: 'entries, bytes and expiry of a cache, per tool and per resource',
  options: { json: FLAG, ...TARGET_OPTIONS },
  async run(args, io) {
    const target = singleTarget(args);
    const namespace = args.values.get('namespace');
    const now = Date.now();
    const stats = await withTarget(target, args, true, (opened) =>
      summarize(filtered(opened, { namespace, stale: true }), now).then((s) => ({ s, opened })),
    );
    if (args.flags.has('json')) {
      io.stdout(`${JSON.stringify(statsJson(stats.opened.label, stats.s), null, 2)}\n`);
    } else {
      io.stdout(`${humanStats(stats.opened.label, stats.opened.detail, stats.s, namespace)}\n`);
    }
    return 0;
  },
};

/** The `--json` document: `{ target, entries, bytes, expiring, expired, tools, resources }`, names sorted. */
export function statsJson(target: string, s: CacheStats) {
  return {
    target,
    entries: s.entries,
    bytes: s.bytes,
    expiring: s.expiring,
    expired: s.expired,
    tools: Object.fromEntries(
      sortedByName(s.tools).map(([k, v]) => [k, { entries: v.entries, bytes: v.bytes }]),
    ),
    resources: Object.fromEntries(sortedByName(s.resources).map(([k, v]) => [k, { entries: v.entries }])),
  };
}

function sortedByName<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function humanStats(label: string, detail: string, s: CacheStats, namespace: string | undefined): string {
  const lines = [
    `${label}${detail ? ` (${detail})` : ''}${namespace === undefined ? '' : `, namespace ${JSON.stringify(namespace)}`}`,
  ];
  if (s.entries === 0 && s.stale === 0) {
    lines.push('  no entries');
    return lines.join('\n');
  }
  lines.push(
    table(
      [
        ['entries', count(s.entries), expiryNote(s)],
        ['size', bytes(s.bytes), ''],
        ...(s.stale > 0
          ? [['stale', count(s.stale), '(invalidated: never served again, dropped as the cache evicts)']]
          : []),
      ],
      [1],
    ),
  );
  if (namespace === undefined && (s.namespaces.size > 1 || !s.namespaces.has(''))) {
    const names = [...s.namespaces].sort((a, b) => b[1].entries - a[1].entries);
    lines.push(
      `  namespaces: ${names.map(([n, v]) => `${JSON.stringify(n)} ${count(v.entries)}`).join(', ')}`,
    );
  }
  lines.push(
    '',
    table(
      [
        ['tool', 'entries', 'size'],
        ...byEntries(s.tools).map(([name, v]) => [quoted(name), count(v.entries), bytes(v.bytes)]),
      ],
      [1, 2],
    ),
  );
  if (s.resources.size > 0) {
    const resources = byEntries(s.resources);
    lines.push(
      '',
      table(
        [
          ['resource', 'entries'],
          ...resources.slice(0, TOP_RESOURCES).map(([name, v]) => [quoted(name), count(v.entries)]),
        ],
        [1],
      ),
    );
    if (resources.length > TOP_RESOURCES) {
      lines.push(`  … and ${count(resources.length - TOP_RESOURCES)} more resources (--json lists them all)`);
    }
  }
  return lines.join('\n');
}

function expiryNote(s: CacheStats): string {
  const parts: string[] = [];
  if (s.expiring > 0) parts.push(`${count(s.expiring)} with a TTL`);
  if (s.expired > 0) parts.push(`${count(s.expired)} expired, not yet swept`);
  return parts.length === 0 ? '' : `(${parts.join(', ')})`;
}

function byEntries<V extends { entries: number }>(map: Map<string, V>): [string, V][] {
  return [...map].sort((a, b) => b[1].entries - a[1].entries || (a[0] < b[0] ? -1 : 1));
}
