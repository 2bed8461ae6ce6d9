import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Backend } from '../../backends/contract.js';
import { getDefaults } from '../../config.js';
import { AgentCacheTypeError } from '../../errors.js';
import { parseTtl, type Ttl } from '../../tool/ttl.js';
import { type AdapterTool, adapterTool } from '../adapter-tool.js';
import {
  checkToolSpec,
  isWriteSpec,
  type ReadToolSpec,
  type ToolSpec,
  type WriteToolSpec,
} from '../tool-spec.js';
import { ToolAnnotations } from './annotations.js';

/** The arguments of an MCP tool call (`params.arguments`; a call without them is keyed as `{}`). */
export type McpToolArguments = Record<string, unknown>;

/** A cached MCP tool: `resource` and `key` are functions of the call's `arguments`. */
export type McpReadSpec = ReadToolSpec<McpToolArguments, CallToolResult>;
/** An MCP tool that changes state: runs every time and invalidates `invalidates`. */
export type McpWriteSpec = WriteToolSpec<McpToolArguments>;
/** A read spec, a write spec, or `false`: never cached (and not treated as a write). */
export type McpToolSpec = McpReadSpec | McpWriteSpec | false;

export interface CacheMcpClientOptions {
  /** Specs by MCP tool name. Names are not checked against the server (tools may appear later). */
  readonly tools?: Readonly<Record<string, McpToolSpec>>;
  /**
   * Classify tools not in `tools` from the server's `listTools()` annotations: `readOnlyHint: true` is a read
   * with resource `mcp:<server>`, anything else a write that invalidates `mcp:<server>`. Default false: the
   * annotations come from the server and are only hints, so without trust such tools run uncached.
   */
  readonly trustAnnotations?: boolean;
  /** The lifetime of reads whose spec has no `ttl` (and of annotation-classified reads). Default: no expiry. */
  readonly defaultTtl?: Ttl;
  /** The server's identity in tool names (`<server>:<tool>`) and in `mcp:<server>`. Default: its reported name. */
  readonly server?: string;
  /** Where entries live. Default: the configured backend. */
  readonly backend?: Backend;
}

/** The MCP client methods this adapter uses; a `Client` of `@modelcontextprotocol/sdk` has them all. */
export type McpClientLike = Pick<Client, 'callTool' | 'listTools' | 'getServerVersion'>;

type CallToolParams = Parameters<Client['callTool']>[0];
type CallToolSchema = Parameters<Client['callTool']>[1];
type CallToolOptions = Parameters<Client['callTool']>[2];

/** What one call carries to the function the core runs (as its `this`): never key material. */
interface McpCall {
  readonly params: CallToolParams;
  readonly resultSchema: CallToolSchema;
  readonly options: CallToolOptions;
}

const OWNER = 'cacheMcpClient';

/**
 * The client with `callTool` going through agent-cache; every other property and method is the client's own.
 * A tool's identity is `<server>:<tool name>`, its key the call's `arguments` only: request options (`signal`,
 * `timeout`, `onprogress`) and `_meta` never change the key nor make a call uncached. A result with
 * `isError: true` is returned but never stored, and counts as a failure for loop detection.
 */
export function cacheMcpClient<C extends McpClientLike>(client: C, options: CacheMcpClientOptions = {}): C {
  if (typeof client?.callTool !== 'function' || typeof client.listTools !== 'function') {
    throw new AgentCacheTypeError(`${OWNER}: the first argument must be an MCP Client`);
  }
  const cache = new McpToolCache(client, checkOptions(options));
  const callTool: Client['callTool'] = (params, resultSchema, requestOptions) =>
    cache.callTool(params, resultSchema, requestOptions) as ReturnType<Client['callTool']>;
  const listTools: Client['listTools'] = (params, requestOptions) => cache.listTools(params, requestOptions);
  const bound = new WeakMap<object, unknown>();
  return new Proxy(client, {
    get(target, property) {
      if (property === 'callTool') return callTool;
      if (property === 'listTools') return listTools;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // Methods run on the client itself, so its state never splits between it and this view.
      let method = bound.get(value);
      if (method === undefined) {
        method = (value as (...a: unknown[]) => unknown).bind(target);
        bound.set(value, method);
      }
      return method;
    },
  });
}

interface CheckedOptions {
  readonly tools: ReadonlyMap<string, ToolSpec<McpToolArguments, CallToolResult> | false>;
  readonly trustAnnotations: boolean;
  readonly defaultTtl: Ttl | undefined;
  readonly server: string | undefined;
  readonly backend: Backend | undefined;
}

function checkOptions(options: CacheMcpClientOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new AgentCacheTypeError(`${OWNER}: options must be an object`);
  }
  const tools = new Map<string, ToolSpec<McpToolArguments, CallToolResult> | false>();
  for (const [name, spec] of Object.entries(options.tools ?? {})) {
    if (spec !== false) checkToolSpec(spec, `${OWNER}: tools.${name}`);
    tools.set(name, spec as ToolSpec<McpToolArguments, CallToolResult> | false);
  }
  if (options.trustAnnotations !== undefined && typeof options.trustAnnotations !== 'boolean') {
    throw new AgentCacheTypeError(`${OWNER}: option \`trustAnnotations\` must be a boolean`);
  }
  parseTtl(options.defaultTtl, OWNER, 'defaultTtl');
  if (options.server !== undefined && (typeof options.server !== 'string' || options.server === '')) {
    throw new AgentCacheTypeError(`${OWNER}: option \`server\` must be a non-empty string`);
  }
  if (options.backend !== undefined && typeof options.backend?.get !== 'function') {
    throw new AgentCacheTypeError(`${OWNER}: option \`backend\` must implement the Backend interface`);
  }
  return {
    tools,
    trustAnnotations: options.trustAnnotations === true,
    defaultTtl: options.defaultTtl,
    server: options.server,
    backend: options.backend,
  };
}

const isErrorResult = (result: unknown): boolean =>
  (result as { isError?: unknown } | null)?.isError === true;

/** The tools of one wrapped client, made on first use (per server name, since a client may reconnect). */
class McpToolCache {
  readonly #client: McpClientLike;
  readonly #options: CheckedOptions;
  readonly #tools = new Map<string, AdapterTool<McpCall, McpToolArguments>>();
  readonly #annotations = new Map<string, ToolAnnotations>();

  constructor(client: McpClientLike, options: CheckedOptions) {
    this.#client = client;
    this.#options = options;
  }

  async callTool(
    params: CallToolParams,
    resultSchema: CallToolSchema,
    options: CallToolOptions,
  ): Promise<unknown> {
    const client = this.#client;
    const server = this.#options.server ?? client.getServerVersion()?.name;
    // Not connected (the client reports it), a malformed call, or a task-augmented call (its result is a task
    // handle, not the tool's result): the client's own behaviour, untouched.
    if (
      server === undefined ||
      typeof params?.name !== 'string' ||
      params.task !== undefined ||
      options?.task
    ) {
      return client.callTool(params, resultSchema, options);
    }
    const signal = options?.signal;
    signal?.throwIfAborted();
    const kind = await this.#kindOf(server, params.name);
    const tool = this.#tool(server, params.name, kind);
    const input = params.arguments ?? {};
    if (kind.read) {
      // A read runs without the caller's signal: an abort rejects this caller at once, while the request runs on
      // for whoever joined it, and its result is stored for the next call.
      const { signal: _, ...rest } = options ?? {};
      return abortable(tool.call({ params, resultSchema, options: rest }, input), signal);
    }
    return tool.call({ params, resultSchema, options }, input);
  }

  async listTools(
    params: Parameters<Client['listTools']>[0],
    options: Parameters<Client['listTools']>[1],
  ): ReturnType<Client['listTools']> {
    const result = await this.#client.listTools(params, options);
    const server = this.#options.server ?? this.#client.getServerVersion()?.name;
    if (server !== undefined && this.#options.trustAnnotations)
      this.#annotationsOf(server).note(result.tools);
    return result;
  }

  async #kindOf(server: string, name: string): Promise<ToolKind> {
    const spec = this.#options.tools.get(name);
    if (spec !== undefined) return spec === false ? UNCACHED : isWriteSpec(spec) ? WRITE : READ;
    if (!this.#options.trustAnnotations) return UNCACHED;
    const readOnly = await this.#annotationsOf(server).readOnly(name);
    return readOnly ? CLASSIFIED_READ : CLASSIFIED_WRITE;
  }

  #annotationsOf(server: string): ToolAnnotations {
    let annotations = this.#annotations.get(server);
    if (annotations === undefined) {
      annotations = new ToolAnnotations(this.#client, () => getDefaults().logger);
      this.#annotations.set(server, annotations);
    }
    return annotations;
  }

  #tool(server: string, name: string, kind: ToolKind): AdapterTool<McpCall, McpToolArguments> {
    const id = `${kind.id}${JSON.stringify(server)}${JSON.stringify(name)}`;
    let tool = this.#tools.get(id);
    if (tool !== undefined) return tool;
    const client = this.#client;
    const options = this.#options;
    const toolName = `${server}:${name}`;
    const serverResource = `mcp:${server}`;
    const explicit = options.tools.get(name);
    const spec: ToolSpec<McpToolArguments, CallToolResult> | false =
      kind === CLASSIFIED_READ
        ? {}
        : kind === CLASSIFIED_WRITE
          ? { invalidates: serverResource }
          : (explicit ?? false);
    tool = adapterTool<McpCall, McpToolArguments, CallToolResult>(
      toolName,
      spec,
      function (this: McpCall) {
        return client.callTool(this.params, this.resultSchema, this.options);
      },
      {
        origin: { origin: client, source: 'mcp', hint: 'give each client its own `server` option' },
        // With trust, every read of the server is tagged with it and every write of it invalidates it: a write the
        // server did not describe may change anything the server returns.
        resources: options.trustAnnotations && kind !== CLASSIFIED_WRITE ? [serverResource] : undefined,
        defaultTtl: options.defaultTtl,
        backend: options.backend,
        failed: isErrorResult,
      },
    );
    this.#tools.set(id, tool);
    return tool;
  }
}

interface ToolKind {
  readonly id: string;
  readonly read: boolean;
}
const READ: ToolKind = { id: 'r', read: true };
const WRITE: ToolKind = { id: 'w', read: false };
const UNCACHED: ToolKind = { id: 'u', read: false };
const CLASSIFIED_READ: ToolKind = { id: 'R', read: true };
const CLASSIFIED_WRITE: ToolKind = { id: 'W', read: false };

/** The call's promise, rejected with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {}); // its outcome is someone else's now
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
