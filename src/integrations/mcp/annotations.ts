import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Logger } from '../../logger.js';

type ListedTool = Awaited<ReturnType<Client['listTools']>>['tools'][number];

/** Names looked up again after a miss, at most: a model calling many tools that do not exist stays bounded. */
const MAX_REFETCHED_NAMES = 1_000;

/**
 * The `readOnlyHint` of one server's tools, from `listTools()` (every page), fetched on first need and refreshed
 * whenever the user lists tools through the wrapped client, or a tool not seen yet is called. A tool the server
 * does not describe, or a listing that fails, reads as not read-only: such a call is treated as a write.
 */
export class ToolAnnotations {
  readonly #client: Pick<Client, 'listTools'>;
  readonly #logger: () => Logger;
  readonly #readOnly = new Map<string, boolean>();
  readonly #refetched = new Set<string>();
  #loading: Promise<void> | undefined;
  #warned = false;

  constructor(client: Pick<Client, 'listTools'>, logger: () => Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  note(tools: readonly ListedTool[]): void {
    for (const tool of tools) this.#readOnly.set(tool.name, tool.annotations?.readOnlyHint === true);
  }

  async readOnly(name: string): Promise<boolean> {
    const known = this.#readOnly.get(name);
    if (known !== undefined) return known;
    if (this.#loading !== undefined) await this.#loading;
    else if (!this.#refetched.has(name) && this.#refetched.size < MAX_REFETCHED_NAMES) {
      this.#refetched.add(name);
      await this.#load();
    }
    return this.#readOnly.get(name) ?? false;
  }

  #load(): Promise<void> {
    this.#loading ??= this.#listAll().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #listAll(): Promise<void> {
    try {
      let cursor: string | undefined;
      do {
        const page = await this.#client.listTools(cursor === undefined ? undefined : { cursor });
        this.note(page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      if (this.#warned) return;
      this.#warned = true;
      this.#logger().warn(
        'agent-cache: cacheMcpClient could not list the server’s tools; tools it cannot classify are treated as writes (warned once)',
        error,
      );
    }
  }
}
