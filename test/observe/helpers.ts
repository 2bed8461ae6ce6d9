import { type AgentCacheEventName, type AgentCacheEvents, subscribeAgentCache } from '../../src/index.js';

/** Every message published on the given events while the returned recorder is subscribed, in order. */
export function listen<E extends AgentCacheEventName>(...events: E[]) {
  const seen: { event: E; message: AgentCacheEvents[E] }[] = [];
  const stops = events.map((event) => subscribeAgentCache(event, (message) => seen.push({ event, message })));
  return {
    seen,
    of<K extends E>(event: K): AgentCacheEvents[K][] {
      return seen.filter((s) => s.event === event).map((s) => s.message as AgentCacheEvents[K]);
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
