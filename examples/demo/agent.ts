/**
 * One support agent run: `generateText` with the cached tools and the cached model, multi-step (the SDK calls the
 * tools the model asks for and calls the model again, until it answers or `stopWhen` ends the run), inside the
 * agent's AgentCacheSession.
 */
import type { AgentCacheSession } from 'agent-cache';
import { generateText, isStepCount, type LanguageModel } from 'ai';
import { paint } from './paint.js';
import type { SupportTools } from './tools.js';
import { asking } from './watch.js';

export interface Agent {
  readonly session: AgentCacheSession;
  readonly system: string;
  /** Who the agent is talking to (the getMyTickets tool's context). */
  readonly customerId?: string;
}

export interface Runner {
  readonly model: LanguageModel;
  readonly tools: SupportTools;
  readonly print: (line: string) => void;
}

export async function ask(
  runner: Runner,
  agent: Agent,
  question: string,
  options: { readonly maxSteps?: number } = {},
): Promise<string> {
  const maxSteps = options.maxSteps ?? 6;
  const result = await agent.session.run(() =>
    asking(question, () =>
      generateText({
        model: runner.model,
        tools: runner.tools,
        system: agent.system,
        prompt: question,
        stopWhen: isStepCount(maxSteps),
        toolsContext: { getMyTickets: { customerId: agent.customerId ?? '' } },
      }),
    ),
  );
  const answer =
    result.text !== ''
      ? result.text
      : `(no answer: stopWhen ended the run after ${result.steps.length} steps)`;
  runner.print(`  ${agent.session.sessionId.padEnd(8)} ${paint('cyan', `↳ ${answer}`)}`);
  return result.text;
}
