import { describe, expect, it, vi } from 'vitest';
import {
  AgentCacheSession,
  PromptCacheGuard,
  PromptCacheLayout,
  PromptPrefixViolationError,
  type PromptSegment,
  segmentsFromMessages,
} from '../../src/index.js';

const layout = (system: string, extra: PromptSegment[] = []) =>
  PromptCacheLayout.fromSegments([
    { id: 'tools', cacheable: true, content: ['search'] },
    { id: 'system', cacheable: true, content: system },
    ...extra,
    { id: 'user', cacheable: false, content: 'question' },
  ]);

describe('PromptCacheGuard', () => {
  it('records a changed prefix and ignores an unchanged or extended one (default policy: record only)', () => {
    const guard = new PromptCacheGuard();
    expect(guard.observe(layout('v1'))).toBeUndefined();
    expect(guard.observe(layout('v1'))).toBeUndefined();
    expect(guard.observe(layout('v1', [{ id: 'm0', cacheable: true, content: 'hi' }]))).toBeUndefined();
    const event = guard.observe(layout('v2'), { label: 'turn 4' });
    expect(event).toMatchObject({ changedPrefix: true, firstChangedId: 'system', label: 'turn 4' });
    expect(guard.events()).toEqual([event]);
  });

  it('raises PromptPrefixViolationError naming the change when the policy protects the prefix', () => {
    const guard = new PromptCacheGuard({
      policy: { responseCacheEnabled: false, protectPromptPrefix: true },
    });
    guard.observe(layout('v1'));
    let caught: unknown;
    try {
      guard.observe(layout('v1 at 10:31:02'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PromptPrefixViolationError);
    expect((caught as PromptPrefixViolationError).firstChangedId).toBe('system');
    expect(String((caught as Error).message)).toMatch(/"system"/);
    expect(guard.events()).toHaveLength(1);
    // the new layout is the reference now: the same prompt again is fine
    expect(guard.observe(layout('v1 at 10:31:02'))).toBeUndefined();
  });

  it('checkPass names the middleware that broke the prefix', () => {
    const guard = new PromptCacheGuard({ policy: { protectPromptPrefix: true } });
    const before = segmentsFromMessages({ system: 'rules', messages: [{ role: 'user', content: 'q' }] });
    const addDate = before.map((s) =>
      s.id === 'system' ? { ...s, content: `${s.content} Today is 2025-01-01.` } : s,
    );
    expect(() => guard.checkPass(before, addDate, { middleware: 'addDate' })).toThrow(/middleware "addDate"/);
    const harmless = [
      ...before.slice(0, -1),
      { id: 'rag', cacheable: false, content: 'docs' },
      before.at(-1)!,
    ];
    expect(guard.checkPass(before, harmless, { middleware: 'rag' }).changedPrefix).toBe(false);
    try {
      guard.checkPass(before, addDate, { middleware: 'addDate' });
    } catch (error) {
      expect((error as PromptPrefixViolationError).middleware).toBe('addDate');
    }
  });

  it('warns through the logger, or only records, as configured', () => {
    const warn = vi.fn();
    const warning = new PromptCacheGuard({
      policy: { protectPromptPrefix: true },
      onViolation: 'warn',
      logger: { warn },
    });
    warning.observe(layout('a'));
    expect(warning.observe(layout('b'))?.changedPrefix).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/prompt prefix changed/);
    const recording = new PromptCacheGuard({ policy: { protectPromptPrefix: true }, onViolation: 'record' });
    recording.observe(layout('a'));
    recording.observe(layout('b'));
    expect(recording.events()).toHaveLength(1);
    expect(() => new PromptCacheGuard({ onViolation: 'explode' as never })).toThrow(TypeError);
  });

  it('keeps a history per session, and one per guard outside sessions', async () => {
    const guard = new PromptCacheGuard();
    guard.observe(layout('global'));
    const a = new AgentCacheSession({ sessionId: 'A' });
    const b = new AgentCacheSession({ sessionId: 'B' });
    await a.run(() => guard.observe(layout('for A')));
    await b.run(() => guard.observe(layout('for B')));
    // each session compares with its own previous layout: no change
    expect(await a.run(() => guard.observe(layout('for A')))).toBeUndefined();
    expect(await b.run(() => guard.observe(layout('for B')))).toBeUndefined();
    expect(await a.run(() => guard.observe(layout('A changed')))).toBeDefined();
    expect(await a.run(() => guard.events())).toHaveLength(1);
    expect(await b.run(() => guard.events())).toHaveLength(0);
    expect(guard.observe(layout('global'))).toBeUndefined();
    expect(guard.events()).toHaveLength(0);
    await a.end();
    await b.end();
  });

  it('holds nothing for an ended session once its object is gone', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return;
    const guard = new PromptCacheGuard();
    let ref: WeakRef<AgentCacheSession>;
    await (async () => {
      const session = new AgentCacheSession();
      ref = new WeakRef(session);
      await session.run(() => guard.observe(layout('x'.repeat(100_000))));
      await session.end();
    })();
    for (let i = 0; i < 10 && ref!.deref() !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    expect(ref!.deref()).toBeUndefined();
  });
});
