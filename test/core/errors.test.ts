import {
  AgentCache,
  AgentCacheError,
  AgentCacheSession,
  AgentCacheSessionEndedError,
  AgentCacheTypeError,
  AgentLoopDetectedError,
  BackendClosedError,
  canonicalEncode,
  MemoryBackend,
  NotCanonicalisableError,
} from 'agent-cache';
import { describe, expect, it } from 'vitest';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('errors', () => {
  it('bad options are TypeErrors and AgentCacheErrors with a code', () => {
    const error = caught(() => AgentCache({ ttl: 'soon' as never })(async function f() {}));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(AgentCacheTypeError);
    expect(error).toBeInstanceOf(AgentCacheError);
    expect(AgentCacheError.isInstance(error)).toBe(true);
    expect((error as AgentCacheTypeError).code).toBe('E_INVALID_ARGUMENT');
    expect((error as Error).name).toBe('AgentCacheTypeError');
  });

  it('a value with no canonical form names its code and stays a TypeError', () => {
    const error = caught(() => canonicalEncode({ f: () => 1 }));
    expect(error).toBeInstanceOf(NotCanonicalisableError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(AgentCacheError);
    expect((error as NotCanonicalisableError).code).toBe('E_NOT_CANONICALISABLE');
    expect((error as Error).name).toBe('NotCanonicalisableError');
  });

  it('subclasses keep the ordinary instanceof check', async () => {
    const session = new AgentCacheSession();
    await session.end();
    const ended = await session.run(async () => 1).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(AgentCacheSessionEndedError);
    expect(ended).toBeInstanceOf(AgentCacheError);
    expect(ended).not.toBeInstanceOf(AgentLoopDetectedError);
    expect((ended as AgentCacheSessionEndedError).code).toBe('E_SESSION_ENDED');
    expect(new Error('plain')).not.toBeInstanceOf(AgentCacheError);
    expect(AgentCacheError.isInstance(new TypeError('plain'))).toBe(false);
  });

  it('a closed backend throws BackendClosedError', async () => {
    const backend = new MemoryBackend();
    await backend.close();
    const error = caught(() => backend.get('k'));
    expect(error).toBeInstanceOf(BackendClosedError);
    expect((error as BackendClosedError).code).toBe('E_BACKEND_CLOSED');
    expect((error as BackendClosedError).backend).toBe('MemoryBackend');
  });
});
