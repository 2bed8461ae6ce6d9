import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { instrumentAgentCache } from 'agent-cache/otel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentCache,
  AgentCacheInvalidator,
  AgentCacheSession,
  InMemoryResponseCache,
  withResponseCache,
} from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

/** The SDK's in-memory pipeline: instruments → reader → exporter, read back after a forced flush. */
function memoryMeter() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    /** Data points of one instrument, from the latest export. */
    async points(name: string): Promise<DataPoint<unknown>[]> {
      await reader.forceFlush();
      const latest = exporter.getMetrics().at(-1);
      const metric = latest?.scopeMetrics
        .filter((s) => s.scope.name === 'agent-cache')
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

const sum = (points: DataPoint<unknown>[], filter: Record<string, unknown> = {}) =>
  points
    .filter((p) => Object.entries(filter).every(([k, v]) => p.attributes[k] === v))
    .reduce((total, p) => total + (p.value as number), 0);

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe('instrumentAgentCache', () => {
  let meter: ReturnType<typeof memoryMeter>;
  let stop: (() => void) | undefined;
  beforeEach(() => {
    freshCache();
    meter = memoryMeter();
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    await meter.shutdown();
  });

  it('counts hits, misses, invalidations and bypasses per tool and session, with a duration histogram', async () => {
    stop = instrumentAgentCache({ meterProvider: meter.meterProvider });
    const getTicket = AgentCache({ resource: 'ticket' })(async function getTicket(id: string) {
      await sleep(5);
      return { id };
    });
    const closeTicket = AgentCacheInvalidator({ resource: 'ticket' })(async function closeTicket(id: string) {
      return id;
    });
    const getCart = AgentCache({ resource: 'cart', scope: 'session' })(async function getCart() {
      return [];
    });
    await AgentCacheSession.run({ sessionId: 'agent-A' }, async () => {
      await getTicket('T-1');
      await getTicket('T-1');
      await getTicket('T-1');
      await closeTicket('T-1');
      await getTicket('T-1');
    });
    await getTicket('T-1');
    await getCart(); // session-scoped, outside a session: bypassed

    const hits = await meter.points('agent_cache.hits');
    expect(sum(hits, { 'agent_cache.tool': 'getTicket', 'agent_cache.session_id': 'agent-A' })).toBe(2);
    expect(sum(hits, { 'agent_cache.tool': 'getTicket' })).toBe(3);
    const misses = await meter.points('agent_cache.misses');
    expect(sum(misses, { 'agent_cache.tool': 'getTicket', 'agent_cache.session_id': 'agent-A' })).toBe(2);
    expect(sum(await meter.points('agent_cache.invalidations'), { 'agent_cache.tool': 'closeTicket' })).toBe(
      1,
    );
    expect(sum(await meter.points('agent_cache.bypassed'), { 'agent_cache.tool': 'getCart' })).toBe(1);
    expect(
      sum(await meter.points('agent_cache.saved_duration'), { 'agent_cache.tool': 'getTicket' }),
    ).toBeGreaterThan(0);

    const durations = await meter.points('agent_cache.duration');
    const missTimes = durations.find(
      (p) =>
        p.attributes['agent_cache.outcome'] === 'miss' &&
        p.attributes['agent_cache.tool'] === 'getTicket' &&
        p.attributes['agent_cache.session_id'] === 'agent-A',
    );
    expect((missTimes!.value as Histogram).count).toBe(2);
    expect((missTimes!.value as Histogram).min).toBeGreaterThanOrEqual(3);
    const hitTimes = durations.filter((p) => p.attributes['agent_cache.outcome'] === 'hit');
    expect(hitTimes.reduce((n, p) => n + (p.value as Histogram).count, 0)).toBe(3);
  });

  it('counts loops by kind, backend errors, and response-cache hits with the tokens they saved', async () => {
    stop = instrumentAgentCache({ meterProvider: meter.meterProvider });
    const poll = AgentCache({ resource: 'job' })(async function pollJob(id: string) {
      return id;
    });
    await AgentCacheSession.run(
      { sessionId: 'L', loopDetection: true, onLoop: 'warn', logger: { warn() {} } },
      async () => {
        for (let i = 0; i < 7; i++) await poll('job-1');
      },
    );
    const loops = await meter.points('agent_cache.loops');
    expect(
      sum(loops, {
        'agent_cache.tool': 'pollJob',
        'agent_cache.kind': 'repeat',
        'agent_cache.session_id': 'L',
      }),
    ).toBe(2);

    const model = withResponseCache(
      async (q: string) => ({ text: q, usage: { input_tokens: 300, output_tokens: 20 } }),
      { cache: new InMemoryResponseCache() },
    );
    await model('refunds?');
    await model('refunds?');
    await model('refunds?');
    expect(sum(await meter.points('agent_cache.response.hits'))).toBe(2);
    expect(sum(await meter.points('agent_cache.response.misses'))).toBe(1);
    const tokens = await meter.points('agent_cache.saved_tokens');
    expect(sum(tokens, { 'agent_cache.token_type': 'input' })).toBe(600);
    expect(sum(tokens, { 'agent_cache.token_type': 'output' })).toBe(40);
  });

  it('leaves the session id out when asked (one series per tool)', async () => {
    stop = instrumentAgentCache({ meterProvider: meter.meterProvider, sessionIdAttribute: false });
    const get = AgentCache({ resource: 'x' })(async function getX() {
      return 1;
    });
    for (const id of ['s1', 's2', 's3']) await AgentCacheSession.run({ sessionId: id }, () => get());
    const misses = await meter.points('agent_cache.misses');
    expect(misses.map((p) => p.attributes)).toEqual([{ 'agent_cache.tool': 'getX' }]);
  });

  it('stops recording when the returned function is called', async () => {
    stop = instrumentAgentCache({ meterProvider: meter.meterProvider });
    const get = AgentCache({ resource: 'x' })(async function getY() {
      return 1;
    });
    await get();
    stop();
    stop(); // idempotent
    await get();
    await get();
    expect(sum(await meter.points('agent_cache.misses'))).toBe(1);
    expect(sum(await meter.points('agent_cache.hits'))).toBe(0);
  });
});

describe('instrumentAgentCache spans', () => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const tracer = tracerProvider.getTracer('agent');
  let stop: (() => void) | undefined;
  beforeEach(() => {
    freshCache();
    spans.reset();
  });
  afterEach(() => stop?.());

  it('marks the active span of a hit with agent_cache.hit = true, and leaves a miss unmarked', async () => {
    stop = instrumentAgentCache({ meterProvider: new MeterProvider() });
    const getDoc = AgentCache({ resource: 'doc' })(async function getDoc(id: string) {
      return id;
    });
    await tracer.startActiveSpan('turn 1', async (span) => {
      await getDoc('d1');
      span.end();
    });
    await tracer.startActiveSpan('turn 2', async (span) => {
      await sleep(1);
      await getDoc('d1');
      span.end();
    });
    const [first, second] = spans.getFinishedSpans();
    expect(first!.name).toBe('turn 1');
    expect(first!.attributes['agent_cache.hit']).toBeUndefined();
    expect(second!.attributes['agent_cache.hit']).toBe(true);
    expect(second!.events.map((e) => [e.name, e.attributes?.['agent_cache.tool']])).toEqual([
      ['agent_cache.hit', 'getDoc'],
    ]);
  });

  it('with a tracerProvider, records each execution as a child span with its real duration', async () => {
    stop = instrumentAgentCache({ meterProvider: new MeterProvider(), tracerProvider });
    const search = AgentCache({ resource: 'kb' })(async function searchKb(q: string) {
      await sleep(20);
      if (q === 'bad') throw new Error('index offline');
      return [q];
    });
    await tracer.startActiveSpan('agent turn', async (span) => {
      await AgentCacheSession.run({ sessionId: 'S' }, async () => {
        await search('refunds');
        await search('refunds');
        await search('bad').catch(() => undefined);
      });
      span.end();
    });
    const finished = spans.getFinishedSpans();
    const turn = finished.find((s) => s.name === 'agent turn')!;
    const executions = finished.filter((s) => s.name === 'agent_cache.execute');
    expect(executions).toHaveLength(2);
    for (const execution of executions) {
      expect(execution.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
      expect(execution.attributes).toMatchObject({
        'agent_cache.tool': 'searchKb',
        'agent_cache.outcome': 'miss',
        'agent_cache.session_id': 'S',
      });
      const ms = execution.duration[0] * 1e3 + execution.duration[1] / 1e6;
      expect(ms).toBeGreaterThanOrEqual(15);
    }
    expect(executions[1]!.status).toMatchObject({ code: 2, message: 'index offline' });
    expect(turn.attributes['agent_cache.hit']).toBe(true);
  });

  it('marks the active span of a response-cache hit', async () => {
    stop = instrumentAgentCache({ meterProvider: new MeterProvider() });
    const model = withResponseCache(async (q: string) => ({ text: q }), {
      cache: new InMemoryResponseCache(),
    });
    await model('hi');
    await tracer.startActiveSpan('llm call', async (span) => {
      await model('hi');
      span.end();
    });
    expect(spans.getFinishedSpans()[0]!.attributes['agent_cache.hit']).toBe(true);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
