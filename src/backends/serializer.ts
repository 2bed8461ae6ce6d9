import { deserialize, serialize } from 'node:v8';
import { getDefaults } from '../config.js';
import { AgentCacheTypeError } from '../errors.js';
import { parseTag } from '../tool/tags.js';
import { lossyShape } from './lossy-shape.js';

/**
 * How a persistent backend (DiskBackend, RedisBackend) turns a tool's result into bytes and back. Pass your own as
 * the backend's `serializer` option to keep what the default cannot (class instances with their methods, say):
 *
 * - `encode` may throw for a value it cannot encode: the result is then returned to the caller but not stored, with
 *   one warning per tool.
 * - `decode` may throw for bytes it does not understand (written by another serializer, damaged): that entry is a
 *   miss and is dropped.
 *
 * Every process sharing one file or one Redis prefix must use the same serializer.
 */
export interface Serializer {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/**
 * The default: v8's structured serialization. It round-trips Date, Map, Set, bigint, typed arrays, Buffers,
 * undefined, NaN and -0, errors, and nested or cyclic structures, which JSON would silently mangle. Class
 * instances come back as plain objects and symbol keys are dropped: results shaped like that are stored with one
 * warning per tool (see lossy-shape.ts).
 */
export const v8Serializer: Serializer = Object.freeze({
  encode: (value: unknown): Uint8Array => serialize(value),
  decode: (bytes: Uint8Array): unknown => deserialize(bytes),
});

/** The default serializer's encode and decode, for code that needs no options (tests, tools). */
export function encodeValue(value: unknown): Buffer {
  return serialize(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** The `serializer` option of a backend, validated (default: `v8Serializer`). */
export function serializerOption(option: unknown, owner: string): Serializer {
  if (option === undefined) return v8Serializer;
  const s = option as Partial<Serializer> | null;
  if (typeof s?.encode !== 'function' || typeof s.decode !== 'function') {
    throw new AgentCacheTypeError(
      `${owner}: option \`serializer\` must be an object with encode(value) => Uint8Array and decode(bytes) methods`,
    );
  }
  return s as Serializer;
}

/**
 * Serializes `value` for a backend, or reports why it cannot and returns undefined: the caller then does not store
 * it, and the tool's result still reaches its caller. With the default serializer, a result whose shape would not
 * come back as it went in is stored, with a warning. One warning per tool (its first tag) and backend, so a tool
 * that always returns such a value does not flood the logs; a tool that was warned about is not checked again.
 */
export function encodeOrWarn(
  value: unknown,
  backendName: string,
  tags: readonly string[],
  warned: Set<string>,
  serializer: Serializer = v8Serializer,
): Buffer | undefined {
  const tool = tags[0] ?? '';
  let bytes: Buffer;
  try {
    const encoded = serializer.encode(value);
    if (!(encoded instanceof Uint8Array))
      throw new AgentCacheTypeError('its serializer.encode did not return a Uint8Array');
    bytes = Buffer.isBuffer(encoded)
      ? encoded
      : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  } catch (error) {
    warnOnce(
      warned,
      tool,
      `agent-cache: ${backendName} cannot serialize a result of ${toolName(tool)} (${(error as Error)?.message ?? String(error)}); it is returned but not stored (warned once per tool)`,
    );
    return undefined;
  }
  if (serializer === v8Serializer && !warned.has(tool)) {
    const lost = lossyShape(value);
    if (lost !== undefined) {
      warnOnce(
        warned,
        tool,
        `agent-cache: ${backendName} stores a result of ${toolName(tool)} that it cannot keep as it is: ${lost}. Return plain data, or give the backend a \`serializer\` that keeps it (warned once per tool)`,
      );
    }
  }
  return bytes;
}

function warnOnce(warned: Set<string>, tool: string, message: string): void {
  if (warned.has(tool)) return;
  if (warned.size >= 1000) warned.clear();
  warned.add(tool);
  getDefaults().logger.warn(message);
}

function toolName(tag: string): string {
  const parsed = parseTag(tag);
  return parsed?.kind === 'tool' ? JSON.stringify(parsed.tool) : 'a tool';
}
