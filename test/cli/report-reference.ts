/**
 * An independent, deliberately naive reading of the replay rules of `agent-cache report` (docs/cli.md), written
 * from the rules alone and sharing no code with the library: a map of stored results with the time each was
 * stored, the time of the last write of each resource, and a per-session call list checked by brute force. The
 * report must agree with it on every trace.
 */

export interface RefCall {
  readonly line: number;
  readonly session: string;
  readonly tool: string;
  readonly kind: 'read' | 'write';
  readonly args: readonly unknown[];
  readonly resources: readonly string[];
  readonly scope?: 'global' | 'session';
  readonly durationMs: number;
  readonly error?: string;
}

export interface RefReport {
  calls: number;
  executions: number;
  avoided: number;
  hitRate: number;
  savedMs: number;
  loops: { line: number; session: string; kind: string; tool: string }[];
  tools: Record<string, { calls: number; hits: number; savedMs: number }>;
}

const MAX_REPEATS = 5;
const WINDOW = 50;
const MAX_PERIOD = 5;
const MIN_CYCLES = 3;
const MAX_FAILURES = 3;

/** JSON with object keys sorted: trace arguments are JSON values, so this is a canonical form of them. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

interface SessionState {
  /** Identities of the session's calls, oldest first, with the time of each. */
  history: { id: string; time: number }[];
  failures: Map<string, number>;
}

export function referenceReport(calls: readonly RefCall[]): RefReport {
  const stored = new Map<string, { time: number; resources: readonly string[] }>();
  const globalWrites = new Map<string, number>(); // resource → time of its last global write
  const sessionWrites = new Map<string, number>(); // session \0 resource → time of its last session write
  const sessions = new Map<string, SessionState>();
  const out: RefReport = {
    calls: 0,
    executions: 0,
    avoided: 0,
    hitRate: 0,
    savedMs: 0,
    loops: [],
    tools: {},
  };
  let reads = 0;
  calls.forEach((call, time) => {
    const scope = call.scope ?? 'global';
    let s = sessions.get(call.session);
    if (s === undefined) {
      s = { history: [], failures: new Map() };
      sessions.set(call.session, s);
    }
    out.tools[call.tool] ??= { calls: 0, hits: 0, savedMs: 0 };
    const tool = out.tools[call.tool]!;
    tool.calls++;
    out.calls++;

    // Loop detection, before the call runs.
    const id = `${call.kind}|${call.tool}|${call.kind === 'read' ? scope : ''}|${stable(call.args)}`;
    s.history.push({ id, time });
    if (s.history.length > WINDOW) s.history.shift();
    const kind =
      retryStorm(s, call.tool) ?? oscillation(s) ?? repeat(s, call, id, globalWrites, sessionWrites);
    if (kind !== undefined) out.loops.push({ line: call.line, session: call.session, kind, tool: call.tool });

    if (call.kind === 'write') {
      out.executions++;
      for (const r of call.resources) {
        if (scope === 'global') globalWrites.set(r, time);
        else sessionWrites.set(`${call.session}\0${r}`, time);
      }
      settle(s, call.tool, call.error === undefined);
      return;
    }
    reads++;
    const key = `${call.tool}|${scope === 'session' ? `s:${call.session}` : 'g'}|${stable(call.args)}`;
    const entry = stored.get(key);
    const fresh = entry?.resources.every(
      (r) =>
        (globalWrites.get(r) ?? -1) < entry.time &&
        (scope === 'global' || (sessionWrites.get(`${call.session}\0${r}`) ?? -1) < entry.time),
    );
    if (fresh) {
      out.avoided++;
      out.savedMs += call.durationMs;
      tool.hits++;
      tool.savedMs += call.durationMs;
      settle(s, call.tool, true);
      return;
    }
    out.executions++;
    if (call.error === undefined) stored.set(key, { time, resources: call.resources });
    settle(s, call.tool, call.error === undefined);
  });
  out.hitRate = reads === 0 ? 0 : out.avoided / reads;
  return out;
}

function settle(s: SessionState, tool: string, ok: boolean): void {
  s.failures.set(tool, ok ? 0 : (s.failures.get(tool) ?? 0) + 1);
}

function retryStorm(s: SessionState, tool: string): string | undefined {
  return (s.failures.get(tool) ?? 0) >= MAX_FAILURES ? 'retry_storm' : undefined;
}

function oscillation(s: SessionState): string | undefined {
  const ids = s.history.map((h) => h.id);
  for (let p = 2; p <= MAX_PERIOD; p++) {
    const n = p * MIN_CYCLES;
    if (ids.length < n) break;
    const tail = ids.slice(-n);
    const block = tail.slice(-p);
    if (new Set(block).size < 2) continue; // a cycle needs two distinct calls
    if (tail.every((id, i) => id === block[i % p])) return 'oscillation';
  }
  return undefined;
}

function repeat(
  s: SessionState,
  call: RefCall,
  id: string,
  globalWrites: Map<string, number>,
  sessionWrites: Map<string, number>,
): string | undefined {
  // For a read, only the identical calls after the last write of one of its resources (global, or this session's).
  let since = -1;
  if (call.kind === 'read') {
    for (const r of call.resources) {
      since = Math.max(since, globalWrites.get(r) ?? -1, sessionWrites.get(`${call.session}\0${r}`) ?? -1);
    }
  }
  const identical = s.history.filter((h) => h.id === id && h.time > since).length;
  return identical > MAX_REPEATS ? 'repeat' : undefined;
}
