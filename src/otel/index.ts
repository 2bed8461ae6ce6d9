/**
 * `agent-cache/otel`: agent-cache's events as OpenTelemetry instruments, and hits marked on the active span.
 * `@opentelemetry/api` is an optional peer dependency, loaded when `instrumentAgentCache` is first called.
 */
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type * as OTel from '@opentelemetry/api';
import { AgentCacheTypeError, MissingPeerDependencyError } from '../errors.js';
import { type AgentCacheEventName, type AgentCacheEvents, channelNames } from '../observe/channels.js';

export interface InstrumentAgentCacheOptions {
  /** Where the instruments are created. Default: the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: OTel.MeterProvider;
  /**
   * With a tracer provider, every execution of a tool (a miss, or an uncached run) is also recorded as a span
   * `agent_cache.execute` (child of the span active at the call, with the execution's own start and end), so a
   * trace shows which calls ran and which were answered from the cache. Without one, only hits are marked, on the
   * active span (`agent_cache.hit = true`, and an `agent_cache.hit` span event).
   */
  readonly tracerProvider?: OTel.TracerProvider;
  /**
   * Put the session id on every data point (`agent_cache.session_id`). Default true. A process that runs many
   * short sessions makes a high-cardinality attribute of it: turn it off to keep one series per tool.
   */
  readonly sessionIdAttribute?: boolean;
}

const SCOPE = 'agent-cache';

function loadApi(): typeof OTel {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof OTel;
  } catch (error) {
    throw new MissingPeerDependencyError('@opentelemetry/api', 'agent-cache/otel', { cause: error });
  }
}

/**
 * Subscribes to agent-cache's diagnostics channels and records them as OpenTelemetry instruments:
 * - counters `agent_cache.hits`, `agent_cache.misses`, `agent_cache.invalidations`, `agent_cache.loops`,
 *   `agent_cache.bypassed`, `agent_cache.backend_errors`, `agent_cache.saved_duration` (ms that hits saved),
 *   `agent_cache.response.hits`, `agent_cache.response.misses`, `agent_cache.saved_tokens`
 *   (`agent_cache.token_type`: `input` | `output`) and `agent_cache.prefix_breaks`;
 * - a histogram `agent_cache.duration` (ms) of tool calls, with `agent_cache.outcome` (`hit`, `miss`, `bypass`);
 * - attributes `agent_cache.tool`, `agent_cache.session_id` and, on loops, `agent_cache.kind`;
 * - `agent_cache.hit = true` on the span active when a call (or a model request) is answered from the cache.
 * Returns the function that stops it (idempotent).
 */
export function instrumentAgentCache(options: InstrumentAgentCacheOptions = {}): () => void {
  if (typeof options !== 'object' || options === null) {
    throw new AgentCacheTypeError('instrumentAgentCache: options must be an object');
  }
  const api = loadApi();
  const meter = (options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
  const tracer = options.tracerProvider?.getTracer(SCOPE);
  const withSession = options.sessionIdAttribute !== false;

  const counter = (name: string, description: string, unit = '{call}') =>
    meter.createCounter(name, { description, unit, valueType: api.ValueType.INT });
  const hits = counter('agent_cache.hits', 'Tool calls answered from the cache');
  const misses = counter('agent_cache.misses', 'Tool calls that executed the tool');
  const invalidations = counter('agent_cache.invalidations', 'Write-tool calls and invalidateResource calls');
  const loops = counter('agent_cache.loops', 'Loop detections', '{detection}');
  const bypassed = counter('agent_cache.bypassed', 'Tool calls that ran uncached');
  const backendErrors = counter('agent_cache.backend_errors', 'Failed backend operations', '{error}');
  const responseHits = counter(
    'agent_cache.response.hits',
    'Model requests answered from the response cache',
    '{request}',
  );
  const responseMisses = counter(
    'agent_cache.response.misses',
    'Model requests that called the model',
    '{request}',
  );
  const prefixBreaks = counter(
    'agent_cache.prefix_breaks',
    'Changes of the cacheable prompt prefix',
    '{break}',
  );
  const savedTokens = counter(
    'agent_cache.saved_tokens',
    'Tokens that response-cache hits did not spend',
    '{token}',
  );
  const savedDuration = meter.createCounter('agent_cache.saved_duration', {
    description:
      'Execution time that hits avoided (tool executions, and model calls without agent_cache.tool)',
    unit: 'ms',
    valueType: api.ValueType.DOUBLE,
  });
  const duration = meter.createHistogram('agent_cache.duration', {
    description: 'Duration of tool calls (a hit: answering it; a miss or bypass: the execution)',
    unit: 'ms',
    valueType: api.ValueType.DOUBLE,
  });

  const base = (tool: string | undefined, sessionId: string | undefined): OTel.Attributes => {
    const attributes: OTel.Attributes = {};
    if (tool !== undefined) attributes['agent_cache.tool'] = tool;
    if (withSession && sessionId !== undefined) attributes['agent_cache.session_id'] = sessionId;
    return attributes;
  };
  const markHit = (event: string, attributes: OTel.Attributes): void => {
    const span = api.trace.getActiveSpan();
    if (span === undefined) return;
    span.setAttribute('agent_cache.hit', true);
    span.addEvent(event, attributes);
  };
  /** An execution that has just ended, as a span with its real start and end. */
  const executionSpan = (
    tool: string,
    key: string | undefined,
    sessionId: string | undefined,
    durationMs: number,
    outcome: 'miss' | 'bypass',
    failed: boolean,
    error: unknown,
  ): void => {
    if (tracer === undefined) return;
    const end = performance.timeOrigin + performance.now();
    const attributes: OTel.Attributes = { 'agent_cache.tool': tool, 'agent_cache.outcome': outcome };
    if (key !== undefined) attributes['agent_cache.key'] = key;
    if (sessionId !== undefined) attributes['agent_cache.session_id'] = sessionId;
    const span = tracer.startSpan(
      'agent_cache.execute',
      { startTime: end - durationMs, attributes, kind: api.SpanKind.INTERNAL },
      api.context.active(),
    );
    if (failed) {
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
    }
    span.end(end);
  };

  const handlers: { [E in AgentCacheEventName]: (message: AgentCacheEvents[E]) => void } = {
    hit(m) {
      const attributes = base(m.tool, m.sessionId);
      hits.add(1, attributes);
      if (m.savedMs > 0) savedDuration.add(m.savedMs, attributes);
      duration.record(m.durationMs, { ...attributes, 'agent_cache.outcome': 'hit' });
      markHit('agent_cache.hit', { 'agent_cache.tool': m.tool, 'agent_cache.key': m.key });
    },
    miss(m) {
      const attributes = base(m.tool, m.sessionId);
      misses.add(1, attributes);
      duration.record(m.durationMs, { ...attributes, 'agent_cache.outcome': 'miss' });
      executionSpan(m.tool, m.key, m.sessionId, m.durationMs, 'miss', 'error' in m, m.error);
    },
    bypass(m) {
      const attributes = base(m.tool, m.sessionId);
      bypassed.add(1, { ...attributes, 'agent_cache.reason': m.reason });
      duration.record(m.durationMs, { ...attributes, 'agent_cache.outcome': 'bypass' });
      executionSpan(m.tool, m.key, m.sessionId, m.durationMs, 'bypass', 'error' in m, m.error);
    },
    invalidate(m) {
      invalidations.add(1, { ...base(m.tool, m.sessionId), 'agent_cache.scope': m.scope });
    },
    loop(m) {
      loops.add(1, { ...base(m.tool, m.sessionId), 'agent_cache.kind': m.kind, 'agent_cache.mode': m.mode });
    },
    'backend-error'(m) {
      backendErrors.add(1, { ...base(m.tool, m.sessionId), 'agent_cache.operation': m.operation });
    },
    'response-hit'(m) {
      const attributes = base(undefined, m.sessionId);
      responseHits.add(1, attributes);
      if (m.savedMs > 0) savedDuration.add(m.savedMs, attributes);
      if (m.inputTokens) savedTokens.add(m.inputTokens, { ...attributes, 'agent_cache.token_type': 'input' });
      if (m.outputTokens)
        savedTokens.add(m.outputTokens, { ...attributes, 'agent_cache.token_type': 'output' });
      markHit('agent_cache.response_hit', { 'agent_cache.key': m.key });
    },
    'response-miss'(m) {
      responseMisses.add(1, base(undefined, m.sessionId));
    },
    'prefix-break'(m) {
      const attributes = base(undefined, m.sessionId);
      if (m.firstChangedId !== undefined) attributes['agent_cache.segment'] = m.firstChangedId;
      prefixBreaks.add(1, attributes);
    },
  };

  // An instrument that throws must never reach the tool call that published the event.
  const subscriptions = (Object.keys(handlers) as AgentCacheEventName[]).map((event) => {
    const handler = handlers[event] as (message: unknown) => void;
    const listener = (message: unknown): void => {
      try {
        handler(message);
      } catch {
        // OpenTelemetry SDKs do not throw from instruments; a broken exporter is not our caller's problem.
      }
    };
    diagnostics.subscribe(channelNames[event], listener);
    return { name: channelNames[event], listener };
  });
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const { name, listener } of subscriptions) diagnostics.unsubscribe(name, listener);
  };
}
