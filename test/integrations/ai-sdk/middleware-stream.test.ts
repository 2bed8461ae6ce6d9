import { BackendResponseCache, DiskBackend, type ResponseCacheEvent } from 'agent-cache';
import { agentCacheMiddleware } from 'agent-cache/ai-sdk';
import { streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { cacheFile, tempDir } from '../../backends/fixtures/temp.js';
import { flush } from '../../helpers/deferred.js';
import { controlledStream, readAll, type StreamPart, stream, textParts, usage } from './fixtures.js';

type Controlled = ReturnType<typeof controlledStream>;

/** A mock model whose every stream call gets a fresh stream the test controls (or fixed parts). */
function streamingModel(parts?: (n: number) => StreamPart[]) {
  const streams: Controlled[] = [];
  let n = 0;
  const model = new MockLanguageModelV4({
    doStream: async () => {
      n++;
      if (parts !== undefined) return stream(parts(n));
      const controlled = controlledStream();
      streams.push(controlled);
      return { stream: controlled.stream };
    },
  });
  return { model, streams };
}

describe('agentCacheMiddleware: stream', () => {
  const dir = tempDir();

  it('passes a miss through part by part, as the model produces it, and replays it on a hit', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const result = streamText({ model: cached, prompt: 'Tell me a story' });
    const reader = result.textStream[Symbol.asyncIterator]();
    await flush();
    const [source] = streams;
    const all = textParts('Once upon a time', { reasoning: 'think first' });
    // Only the parts up to the first text delta exist: the caller must see that delta before the model goes on.
    const firstDelta = all.findIndex((p) => p.type === 'text-delta');
    source!.push(...all.slice(0, firstDelta + 1));
    expect((await reader.next()).value).toBe('Once ');
    source!.push(...all.slice(firstDelta + 1));
    source!.end();
    let rest = '';
    for (let next = await reader.next(); !next.done; next = await reader.next()) rest += next.value;
    expect(rest).toBe('upon a time');
    expect(await result.providerMetadata).toBeUndefined();

    const hit = streamText({ model: cached, prompt: 'Tell me a story' });
    expect(await hit.text).toBe('Once upon a time');
    expect(await hit.reasoningText).toBe('think first');
    expect(await hit.providerMetadata).toEqual({
      agentCache: { hit: true, key: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect((await hit.usage).inputTokens).toBe(12);
    expect((await hit.response).id).toBe('resp-s');
    expect(model.doStreamCalls).toHaveLength(1);
  });

  it('replays every recorded part, tool calls included, in order and at once', async () => {
    const parts: StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'need the weather' },
      { type: 'reasoning-end', id: 'r' },
      { type: 'tool-input-start', id: 'c1', toolName: 'weather' },
      { type: 'tool-input-delta', id: 'c1', delta: '{"city":"Paris"}' },
      { type: 'tool-input-end', id: 'c1' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"city":"Paris"}' },
      {
        type: 'finish',
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage: usage(30, 9),
        providerMetadata: { mock: { served: 'by the model' } },
      },
    ];
    const { model } = streamingModel(() => parts);
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const miss = await readAll(
      (await cached.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'w' }] }] })).stream,
    );
    const hit = await readAll(
      (await cached.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'w' }] }] })).stream,
    );
    expect(miss).toEqual(parts);
    expect(hit.slice(0, -1)).toEqual(parts.slice(0, -1));
    const finish = hit.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish.providerMetadata).toEqual({
      mock: { served: 'by the model' },
      agentCache: { hit: true, key: expect.any(String) },
    });
    expect(model.doStreamCalls).toHaveLength(1);
  });

  it('keeps its own copy of the parts: a reader that edits them does not change later hits', async () => {
    const { model } = streamingModel(() => textParts('kept as is'));
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    for (let i = 0; i < 2; i++) {
      for (const part of await readAll((await cached.doStream(params)).stream)) {
        if (part.type === 'text-delta') part.delta = 'edited';
      }
    }
    const deltas = (await readAll((await cached.doStream(params)).stream)).flatMap((p) =>
      p.type === 'text-delta' ? [p.delta] : [],
    );
    expect(deltas.join('')).toBe('kept as is');
  });

  it('does not store a stream with an error part', async () => {
    const { model } = streamingModel((n) => [
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: `try ${n}` },
      { type: 'error', error: new Error('overloaded') },
      // Even when the provider then finishes as if nothing happened.
      { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(1, 1) },
    ]);
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    for (let i = 0; i < 2; i++) {
      const result = streamText({ model: cached, prompt: 'p', onError: () => {} });
      await result.consumeStream();
    }
    expect(model.doStreamCalls).toHaveLength(2);
  });

  it('does not store a stream that ends without its finish part, or that fails', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const truncated = readAll((await cached.doStream(params)).stream);
    await flush();
    streams[0]!.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'half' });
    streams[0]!.end();
    await truncated;
    const failing = readAll((await cached.doStream(params)).stream);
    await flush();
    streams[1]!.push({ type: 'text-start', id: 't' });
    streams[1]!.fail(new Error('connection reset'));
    await expect(failing).rejects.toThrow('connection reset');
    const third = readAll((await cached.doStream(params)).stream);
    await flush();
    expect(streams).toHaveLength(3);
    streams[2]!.push(...textParts('whole'));
    streams[2]!.end();
    await third;
  });

  it('does not store a stream its caller aborted, and stops reading the model', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const abort = new AbortController();
    const result = streamText({ model: cached, prompt: 'p', abortSignal: abort.signal });
    const reader = result.textStream[Symbol.asyncIterator]();
    await flush();
    const all = textParts('a long answer');
    streams[0]!.push(...all.slice(0, 4));
    expect((await reader.next()).value).toBe('a ');
    abort.abort();
    await result.consumeStream({ onError: () => {} });
    await flush();
    expect(streams[0]!.cancelled.value).toBe(true);
    // Had it been stored, this would be a hit; it calls the model again.
    const again = streamText({ model: cached, prompt: 'p' });
    await flush();
    streams[1]!.push(...all);
    streams[1]!.end();
    expect(await again.text).toBe('a long answer');
    expect(model.doStreamCalls).toHaveLength(2);
  });

  it('does not store a stream whose request was aborted, even when the model went on to the end', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const abort = new AbortController();
    const read = readAll((await cached.doStream({ ...params, abortSignal: abort.signal })).stream);
    await flush();
    streams[0]!.push(...textParts('x y').slice(0, 3));
    abort.abort();
    // This mock does not watch the signal: its stream completes anyway.
    streams[0]!.push(...textParts('x y').slice(3));
    streams[0]!.end();
    await read;
    const again = readAll((await cached.doStream(params)).stream);
    await flush();
    expect(streams).toHaveLength(2);
    streams[1]!.push(...textParts('x y'));
    streams[1]!.end();
    await again;
  });

  it('does not store a stream whose reader cancelled it', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const { stream: out } = await cached.doStream(params);
    const reader = out.getReader();
    await flush();
    streams[0]!.push(...textParts('abc'));
    await reader.read();
    await reader.cancel('not interested');
    expect(streams[0]!.cancelled).toEqual({ value: true, reason: 'not interested' });
    streams.length = 0;
    const second = (await cached.doStream(params)).stream;
    await flush();
    expect(streams).toHaveLength(1);
    await second.cancel();
  });

  it('calls the model once for identical concurrent streams; a late joiner replays, then follows live', async () => {
    const { model, streams } = streamingModel();
    const events: ResponseCacheEvent[] = [];
    const cached = wrapLanguageModel({
      model,
      middleware: agentCacheMiddleware({ onEvent: (e) => events.push(e) }),
    });
    const first = streamText({ model: cached, prompt: 'shared' });
    const firstText = first.text;
    await flush();
    const all = textParts('one two three four');
    streams[0]!.push(...all.slice(0, 5));
    await flush();
    const second = streamText({ model: cached, prompt: 'shared' });
    const secondReader = second.textStream[Symbol.asyncIterator]();
    // The joiner gets what was produced before it came, without waiting for the model.
    expect((await secondReader.next()).value).toBe('one ');
    streams[0]!.push(...all.slice(5));
    streams[0]!.end();
    let rest = '';
    for (let next = await secondReader.next(); !next.done; next = await secondReader.next())
      rest += next.value;
    expect(`one ${rest}`).toBe('one two three four');
    expect(await firstText).toBe('one two three four');
    expect(await first.providerMetadata).toBeUndefined();
    expect(await second.providerMetadata).toMatchObject({ agentCache: { hit: true } });
    expect(model.doStreamCalls).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(['cache.miss', 'cache.hit']);
  });

  it('keeps the stream for the other readers when one identical caller cancels', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const a = (await cached.doStream(params)).stream.getReader();
    const b = (await cached.doStream(params)).stream;
    await flush();
    const all = textParts('kept for b');
    streams[0]!.push(...all.slice(0, 3));
    await a.read();
    await a.cancel();
    streams[0]!.push(...all.slice(3));
    streams[0]!.end();
    expect((await readAll(b)).filter((p) => p.type === 'text-delta').length).toBe(3);
    expect(streams[0]!.cancelled.value).toBe(false);
    // Complete and read to its end by a caller: stored.
    await readAll((await cached.doStream(params)).stream);
    expect(model.doStreamCalls).toHaveLength(1);
  });

  it('a joiner that aborts leaves the stream to the others', async () => {
    const { model, streams } = streamingModel();
    const cached = wrapLanguageModel({ model, middleware: agentCacheMiddleware() });
    const params = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'p' }] }] };
    const a = readAll((await cached.doStream(params)).stream);
    const abort = new AbortController();
    const b = readAll((await cached.doStream({ ...params, abortSignal: abort.signal })).stream);
    await flush();
    streams[0]!.push(...textParts('x y').slice(0, 3));
    await flush();
    abort.abort(new Error('user left'));
    await expect(b).rejects.toThrow('user left');
    streams[0]!.push(...textParts('x y').slice(3));
    streams[0]!.end();
    expect((await a).at(-1)?.type).toBe('finish');
  });

  it('serves a recorded stream after a restart from a DiskBackend', async () => {
    const path = cacheFile(dir);
    const { model } = streamingModel(() => textParts('persisted answer'));
    const backend = new DiskBackend(path);
    const first = streamText({
      model: wrapLanguageModel({
        model,
        middleware: agentCacheMiddleware({ cache: new BackendResponseCache(backend) }),
      }),
      prompt: 'p',
    });
    await first.consumeStream();
    await backend.close();
    const reopened = new DiskBackend(path);
    try {
      const again = streamText({
        model: wrapLanguageModel({
          model,
          middleware: agentCacheMiddleware({ cache: new BackendResponseCache(reopened) }),
        }),
        prompt: 'p',
      });
      expect(await again.text).toBe('persisted answer');
      expect((await again.response).timestamp).toEqual(new Date(0));
      expect(model.doStreamCalls).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });
});
