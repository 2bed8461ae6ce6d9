// agent-cache/otel as a user installs it: `import 'agent-cache'` loads no OpenTelemetry package; the otel entry turns
// hits and misses into SDK metrics and marks the active span of a hit.
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';

const resolved = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    resolved.push(specifier);
    return nextResolve(specifier, context);
  },
});

const { AgentCache, AgentCacheSession } = await import('agent-cache');
const getTicket = AgentCache({ resource: 'ticket' })(async function getTicket(id) {
  return { id };
});
await AgentCacheSession.run({ sessionId: 'agent-A' }, () => getTicket('T-1'));
assert.ok(resolved.includes('agent-cache'), 'the resolve hook sees the imports');
assert.deepEqual(
  resolved.filter((s) => s.includes('opentelemetry')),
  [],
  'import "agent-cache" and a cached call must not load OpenTelemetry',
);

const { context, trace } = await import('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } =
  await import('@opentelemetry/sdk-metrics');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
  '@opentelemetry/sdk-trace-base'
);
const { instrumentAgentCache } = await import('agent-cache/otel');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const spans = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('app');

const stop = instrumentAgentCache({ meterProvider });
await AgentCacheSession.run({ sessionId: 'agent-B' }, async () => {
  await getTicket('T-2');
  await tracer.startActiveSpan('turn', async (span) => {
    await getTicket('T-2');
    span.end();
  });
});
stop();
await reader.forceFlush();
const metrics = exporter
  .getMetrics()
  .at(-1)
  .scopeMetrics.flatMap((s) => s.metrics);
const total = (name) =>
  metrics.find((m) => m.descriptor.name === name)?.dataPoints.reduce((n, p) => n + p.value, 0) ?? 0;
assert.equal(total('agent_cache.hits'), 1);
assert.equal(total('agent_cache.misses'), 1);
const hitPoint = metrics.find((m) => m.descriptor.name === 'agent_cache.hits').dataPoints[0];
assert.deepEqual(hitPoint.attributes, {
  'agent_cache.tool': 'getTicket',
  'agent_cache.session_id': 'agent-B',
});
assert.equal(spans.getFinishedSpans()[0].attributes['agent_cache.hit'], true);
assert.equal(trace.getActiveSpan(), undefined);
