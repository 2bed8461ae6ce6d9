import { type Command, FLAG, TARGET_OPTIONS } from './command.js';
import { singleTarget, withTarget } from './entries.js';
import { count } from './format.js';

const USAGE = 'agent-cache clear <target> [--prefix P] [--json]';

export const clearCommand: Command = {
  name: 'clear',
  usage: USAGE,
  summary: 'drop every entry and generation of the cache (a Redis prefix: only that prefix)',
  options: { json: FLAG, prefix: TARGET_OPTIONS.prefix },
  async run(args, io) {
    const target = singleTarget(args);
    const result = await withTarget(target, args, false, async (opened) => {
      let entries = 0;
      for await (const _ of opened.backend.inspect({ stale: true })) entries++;
      await opened.backend.clear();
      return { label: opened.label, entries };
    });
    if (args.flags.has('json')) {
      io.stdout(`${JSON.stringify({ target: result.label, droppedEntries: result.entries }, null, 2)}\n`);
    } else {
      io.stdout(
        `cleared ${result.label}: ${count(result.entries)} ${result.entries === 1 ? 'entry' : 'entries'} dropped\n`,
      );
    }
    return 0;
  },
};
