import type { Backend } from '../backends/contract.js';
import type { InspectableBackend } from '../backends/inspection.js';
import { AgentCacheError } from '../errors.js';
import { CommandError, UsageError } from './args.js';

/** An opened cache: a SQLite file or a Redis prefix. */
export interface Target {
  /** What to call it in output: the path as given, or the URL without its password. */
  readonly label: string;
  /** Shown after the label in human output (the Redis prefix). */
  readonly detail: string;
  readonly backend: Backend & InspectableBackend;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** Redis key prefix; only for `redis://` targets. */
  readonly prefix: string | undefined;
  /** Open for reading only (stats, inspect): a SQLite file is opened read-only. */
  readonly readOnly: boolean;
}

export const DEFAULT_PREFIX = 'agent-cache:';

export function isRedisUrl(target: string): boolean {
  return /^rediss?:\/\//i.test(target);
}

/**
 * Opens the target without ever creating or changing anything that is not already a cache: a file must exist and
 * be an agent-cache file (DiskBackend `create: false`, so a foreign file is left untouched rather than moved aside);
 * a Redis must answer and its prefix must have been used by agent-cache.
 */
export async function openTarget(target: string, options: TargetOptions): Promise<Target> {
  if (isRedisUrl(target)) return openRedis(target, options);
  if (options.prefix !== undefined) throw new UsageError('--prefix applies to redis:// targets only');
  let DiskBackend: typeof import('../backends/disk.js').DiskBackend;
  try {
    ({ DiskBackend } = await import('../backends/disk.js'));
  } catch (error) {
    throw new CommandError(
      `cache files need node:sqlite, which this Node (${process.version}) lacks: use Node >= 22.13 (${(error as Error).message})`,
    );
  }
  let backend: InstanceType<typeof DiskBackend>;
  try {
    backend = new DiskBackend(
      options.readOnly ? { path: target, readOnly: true } : { path: target, create: false },
    );
  } catch (error) {
    if (AgentCacheError.isInstance(error))
      throw new CommandError(error.message, { code: error.code, cause: error });
    throw new CommandError(String(error), { cause: error });
  }
  return { label: target, detail: '', backend, close: () => backend.close() };
}

async function openRedis(url: string, options: TargetOptions): Promise<Target> {
  const label = redactUrl(url);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const client = await connect(url, label);
  const { RedisBackend } = await import('../backends/redis/index.js');
  const backend = new RedisBackend({ client, prefix, timeout: 10_000 });
  const close = async () => {
    await backend.close();
    client.disconnect();
  };
  try {
    if (!(await backend.inUse())) {
      throw new CommandError(
        `${label} holds no agent-cache under prefix ${JSON.stringify(prefix)} (check --prefix)`,
      );
    }
  } catch (error) {
    await close();
    if (error instanceof CommandError) throw error;
    throw new CommandError(`${label}: ${(error as Error).message}`);
  }
  return { label, detail: `prefix ${JSON.stringify(prefix)}`, backend, close };
}

/** One connection attempt with a bounded wait: an unreachable Redis is an error now, not a retry loop. */
async function connect(url: string, label: string) {
  const { connectOnce } = await import('../backends/redis/client.js');
  try {
    return await connectOnce(url);
  } catch (error) {
    if (AgentCacheError.isInstance(error))
      throw new CommandError(error.message, { code: error.code, cause: error });
    throw new CommandError(`cannot connect to ${label}: ${(error as Error).message || String(error)}`);
  }
}

/** The URL with any password replaced, for messages and output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
