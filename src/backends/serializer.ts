import { deserialize, serialize } from 'node:v8';
import { getDefaults } from '../config.js';

/**
 * Values of persistent backends go through v8's structured serialization: it round-trips Date, Map, Set, bigint,
 * typed arrays, Buffers, undefined, NaN and -0, and nested/cyclic structures, which JSON would silently mangle.
 * Class instances come back as plain objects (their prototype is not stored), like structuredClone.
 */
export function encodeValue(value: unknown): Buffer {
  return serialize(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/**
 * Serializes `value` for `backend`, or reports why it cannot (a function, a symbol, a class with native state) and
 * returns undefined: the caller then does not store it, and the tool's result still reaches its caller. One warning
 * per tool (first tag) and backend, so a tool that always returns something unstorable does not flood the logs.
 */
export function encodeOrWarn(
  value: unknown,
  backendName: string,
  tags: readonly string[],
  warned: Set<string>,
): Buffer | undefined {
  try {
    return serialize(value);
  } catch (error) {
    const tool = tags[0] ?? '';
    if (!warned.has(tool)) {
      if (warned.size >= 1000) warned.clear();
      warned.add(tool);
      getDefaults().logger.warn(
        `agent-cache: ${backendName} cannot serialize a result (${(error as Error)?.message ?? String(error)}); it is returned but not stored (warned once per tool)`,
      );
    }
    return undefined;
  }
}
