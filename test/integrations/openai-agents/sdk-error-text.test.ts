import { RunContext, tool } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failureText, matcherFor } from '../../../src/integrations/openai-agents/sdk-error-text.js';

describe("the SDK's failure text", () => {
  it('is learned from the installed SDK and matches what a failing tool returns', async () => {
    const failing = tool({
      name: 'f',
      description: 'fails',
      parameters: z.object({}),
      execute: () => {
        throw new TypeError('something else entirely');
      },
    });
    const returned = await failing.invoke(new RunContext(), '{}');
    const matches = await failureText();
    expect(matches(returned)).toBe(true);
    expect(matches('sunny in Paris')).toBe(false);
    expect(matches(undefined)).toBe(false);
  });

  it('matches by what precedes the error when the wording includes the error', () => {
    const matches = matcherFor('An error occurred. Error: Error: agent-cache probe failure 4f1c');
    expect(matches('An error occurred. Error: TypeError: no such city')).toBe(true);
    expect(matches('An error occurred')).toBe(false);
    expect(matches('Result: fine')).toBe(false);
  });
});
