import type { Logger } from '../../src/index.js';

/** A logger that records warnings, for asserting on them. */
export function recordingLogger(): Logger & { readonly messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    warn(message: string) {
      messages.push(message);
    },
  };
}
