import type { EntryInfo } from '../backends/inspection.js';
import { UsageError } from './args.js';
import { type Command, FLAG, TARGET_OPTIONS, VALUE } from './command.js';
import { filtered, singleTarget, withTarget } from './entries.js';
import { bytes, quoted, relative, table, truncate } from './format.js';

const USAGE =
  'agent-cache inspect <target> [--tool T] [--resource R] [--session S] [--limit N] [--json] [--prefix P] [--namespace N]';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: USAGE,
  summary: 'list the entries of a cache (tool, arguments, scope, resources, size, age, expiry)',
  options: { json: FLAG, tool: VALUE, resource: VALUE, session: VALUE, limit: VALUE, ...TARGET_OPTIONS },
  async run(args, io) {
    const target = singleTarget(args);
    const limit = parseLimit(args.values.get('limit'));
    const filter = {
      namespace: args.values.get('namespace'),
      tool: args.values.get('tool'),
      resource: args.values.get('resource'),
      session: args.values.get('session'),
    };
    const { entries, label } = await withTarget(target, args, true, async (opened) => {
      const out: EntryInfo[] = [];
      for await (const entry of filtered(opened, filter)) out.push(entry);
      return { entries: out, label: opened.label };
    });
    // Oldest first, the same order from every backend (SQLite pages by key, Redis SCANs in hash order).
    entries.sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const shown = limit === undefined ? entries : entries.slice(-limit);
    if (args.flags.has('json')) {
      io.stdout(`${JSON.stringify({ entries: shown.map(entryJson) }, null, 2)}\n`);
    } else {
      io.stdout(`${humanEntries(label, shown, entries.length)}\n`);
    }
    return 0;
  },
};

/** One entry of `--json`: `{ key, tool, scope, sessionId?, resources, bytes, createdAt, expiresAt? }`. */
export function entryJson(e: EntryInfo) {
  return {
    key: e.key,
    tool: e.tool,
    scope: e.scope,
    ...(e.sessionId === undefined ? {} : { sessionId: e.sessionId }),
    resources: e.resources,
    bytes: e.bytes,
    createdAt: e.createdAt,
    ...(e.expiresAt === 0 ? {} : { expiresAt: e.expiresAt }),
  };
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function humanEntries(label: string, entries: readonly EntryInfo[], total: number): string {
  if (entries.length === 0) return `${label}: no entries${total === 0 ? '' : ' match'}`;
  const now = Date.now();
  const rows = entries.map((e) => [
    quoted(e.tool),
    truncate(arguments_(e), 40),
    e.scope === 'global' ? 'global' : `session ${truncate(quoted(e.sessionId!), 20)}`,
    truncate(e.resources.map(quoted).join(', ') || '-', 40),
    bytes(e.bytes),
    e.createdAt === 0 ? '?' : relative(e.createdAt, now),
    e.expiresAt === 0 ? 'never' : e.expiresAt <= now ? 'expired' : relative(e.expiresAt, now),
  ]);
  const more =
    total > entries.length ? `\n  (the newest ${entries.length} of ${total}; --limit shows more)` : '';
  return `${label}: ${total} ${total === 1 ? 'entry' : 'entries'}\n${table(
    [['tool', 'arguments', 'scope', 'resources', 'size', 'stored', 'expires'], ...rows],
    [4],
  )}${more}`;
}

/** The arguments as the key holds them: `("T-100", 2)` for an argument list, `#…` when they were hashed. */
function arguments_(e: EntryInfo): string {
  const m = e.material;
  if (m === undefined) return e.kind === 'response' ? '(model request)' : '-';
  if (m.startsWith('#')) return '(hashed)';
  const shown = readable(m);
  return shown.startsWith('[') && shown.endsWith(']') ? `(${shown.slice(1, -1)})` : shown;
}

const WORDS: Record<string, string> = { T: 'true', F: 'false', N: 'null', U: 'undefined' };

/**
 * The canonical encoding (see src/key/canonical.ts) with its scalar codes spelled as JavaScript: `n2` → `2`,
 * `T` → `true`, `N` → `null`; strings are copied as they are. Only for display: other codes (Dates, Maps) stay.
 */
function readable(material: string): string {
  let out = '';
  let tokenStart = true;
  for (let i = 0; i < material.length; i++) {
    const c = material[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < material.length && material[j] !== '"') j += material[j] === '\\' ? 2 : 1;
      out += material.slice(i, j + 1);
      i = j;
      tokenStart = false;
    } else if (tokenStart && c === 'n') {
      const number = /^-?(?:Infinity|NaN|[0-9.eE+-]+)/.exec(material.slice(i + 1))?.[0] ?? '';
      out += number;
      i += number.length;
      tokenStart = false;
    } else if (tokenStart && c in WORDS) {
      out += WORDS[c];
      tokenStart = false;
    } else {
      out += c;
      tokenStart = c === '[' || c === ',' || c === ':' || c === '{';
    }
  }
  return out;
}
