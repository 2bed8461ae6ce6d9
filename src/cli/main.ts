#!/usr/bin/env node
/** The `agent-cache` command (package.json `bin`). Everything is in run.ts; this file only binds the process. */
import { processIo } from './io.js';
import { run } from './run.js';

// `agent-cache inspect cache.sqlite | head`: a closed pipe ends the output quietly, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2), processIo());
