/**
 * `npm run demo`: a support agent built on the Vercel AI SDK, with agent-cache between it and its tools and model.
 * The model is the SDK's own test double scripted to act as an LLM does (no network, no key), the helpdesk is a
 * simulated slow API; everything else is the real library: `cacheTools` and `agentCacheMiddleware` from
 * agent-cache/ai-sdk, sessions, loop detection, the prompt guard, and a DiskBackend in `.agent-cache/demo.sqlite`,
 * so a second run starts warm. Each call's line comes from agent-cache's diagnostics_channel events.
 *
 *   npm run demo              # warm when an earlier run left its cache
 *   npm run demo -- --fresh   # start cold
 */
import { fileURLToPath } from 'node:url';
import { BackendResponseCache, configure, getMetrics, PromptCacheGuard } from 'agent-cache';
import { agentCacheMiddleware, type RecordedResponse } from 'agent-cache/ai-sdk';
import { wrapLanguageModel } from 'ai';
import { openState } from './demo/cache-file.js';
import { LATENCY_MS } from './demo/helpdesk.js';
import { MODEL_LATENCY_MS, ScriptedModel } from './demo/model.js';
import { paint } from './demo/paint.js';
import { disagreements, endLine, startLine, summary, toolTable } from './demo/report.js';
import { STEPS, snapshot, stepLine } from './demo/steps.js';
import { supportTools } from './demo/tools.js';
import { watchCache, watchTools } from './demo/watch.js';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--fresh');
if (unknown.length > 0) {
  console.error(`usage: npm run demo [-- --fresh]   (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}

const print = (line: string) => console.log(line);
const root = fileURLToPath(new URL('..', import.meta.url));
const { disk, helpdesk, start } = await openState(root, args.includes('--fresh'));
configure({ backend: disk });

const scripted = new ScriptedModel();
const model = wrapLanguageModel({
  model: scripted.model,
  middleware: agentCacheMiddleware({
    cache: new BackendResponseCache<RecordedResponse>(disk, { ttl: '1d' }),
    guard: new PromptCacheGuard(), // records prefix breaks (a 'prefix-break' event) without failing the call
  }),
});
const tools = watchTools(supportTools(helpdesk));

print(
  paint('bold', 'agent-cache demo: a support agent on the Vercel AI SDK') +
    ` (scripted model: ${MODEL_LATENCY_MS} ms a call; simulated helpdesk API: ${LATENCY_MS} ms a call)`,
);
for (const line of startLine(start)) print(line);
print(
  paint(
    'dim',
    `  ${'agent'.padEnd(8)} ${'call'.padEnd(18)} ${'arguments'.padEnd(44)} ${'outcome'.padEnd(12)}  time`,
  ),
);

const { counts, stop } = watchCache(print);
for (const [i, step] of STEPS.entries()) {
  print(`\n${paint('bold', `${i + 1}. ${step.title}`)}`);
  const before = snapshot(counts);
  await step.run({ model, tools, print });
  print(stepLine(before, snapshot(counts)));
}
stop();

const counters = { api: helpdesk.calls, model: scripted.calls };
print(`\n${paint('bold', 'Per tool')}`);
for (const line of toolTable(counts)) print(line);
print(`\n${paint('bold', 'Summary')}`);
for (const line of summary(counts, counters)) print(line);
const wrong = disagreements(counts, getMetrics(), counters);
if (wrong.length === 0) {
  print(paint('green', '  ✓ every figure agrees with getMetrics() and with the API and model call counters'));
} else {
  for (const w of wrong) print(paint('red', `  ✗ ${w}`));
  process.exitCode = 1;
}
print(`\n${endLine(start, counts)}`);
await disk.close();
// performance.now() counts from the start of this process (imports included).
print(paint('dim', `(${(performance.now() / 1000).toFixed(1)} s)`));
