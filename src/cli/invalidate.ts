import { resourceTag } from '../tool/tags.js';
import { UsageError } from './args.js';
import { type Command, FLAG, TARGET_OPTIONS } from './command.js';
import { withTarget } from './entries.js';
import { count, quoted } from './format.js';

const USAGE = 'agent-cache invalidate <target> <resource...> [--namespace N] [--prefix P] [--json]';

export const invalidateCommand: Command = {
  name: 'invalidate',
  usage: USAGE,
  summary:
    'make every entry of the resources stale, for every process using the cache (as a write tool does)',
  options: { json: FLAG, ...TARGET_OPTIONS },
  async run(args, io) {
    const [target, ...resources] = args.positional;
    if (target === undefined) throw new UsageError('missing <target>');
    if (resources.length === 0) throw new UsageError('missing <resource>: name at least one');
    if (resources.some((r) => r === '')) throw new UsageError('a resource name cannot be empty');
    const namespace = args.values.get('namespace') ?? '';
    const names = [...new Set(resources)];
    const result = await withTarget(target, args, false, async (opened) => {
      // Exactly what a global-scope write tool does: advance the generation of each resource tag, in this
      // backend, where every process reading it sees the change (in Redis, L1 caches hear it by pub/sub).
      await opened.backend.bump(names.map((r) => resourceTag(namespace, r)));
      // Then, for the operator: how many stored entries that made stale, and where else the names appear.
      let stale = 0;
      const elsewhere = new Map<string, number>();
      for await (const entry of opened.backend.inspect({ stale: true })) {
        if (!entry.resources.some((r) => names.includes(r))) continue;
        if (entry.namespace === namespace) {
          if (entry.stale) stale++;
        } else if (!entry.stale) {
          elsewhere.set(entry.namespace, (elsewhere.get(entry.namespace) ?? 0) + 1);
        }
      }
      return { label: opened.label, stale, elsewhere };
    });
    for (const [ns, n] of result.elsewhere) {
      const what = names.length === 1 ? 'this resource' : 'these resources';
      io.stderr(
        `note: ${count(n)} ${n === 1 ? 'entry' : 'entries'} of namespace ${JSON.stringify(ns)} ${n === 1 ? 'has' : 'have'} ${what} too, untouched (--namespace ${JSON.stringify(ns)} invalidates there)\n`,
      );
    }
    if (args.flags.has('json')) {
      io.stdout(
        `${JSON.stringify({ target: result.label, namespace, resources: names, staleEntries: result.stale }, null, 2)}\n`,
      );
      return 0;
    }
    io.stdout(
      `invalidated ${names.map(quoted).join(', ')} in ${result.label}${namespace === '' ? '' : ` (namespace ${JSON.stringify(namespace)})`}: ` +
        `${count(result.stale)} stored ${result.stale === 1 ? 'entry is' : 'entries are'} stale now\n`,
    );
    return 0;
  },
};
