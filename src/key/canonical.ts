import { NotCanonicalisableError } from './errors.js';

/**
 * The one canonical encoder of agent-cache. Every key (tool arguments, resource tags, LLM requests) goes through
 * here, so that equal values give equal keys in every process and on every restart.
 *
 * The output is a small self-delimiting grammar, so the mapping is injective over the supported values:
 *   null `N`, undefined `U`, true `T`, false `F`, number `n<String(n)>` (NaN and ±Infinity included, -0 is 0),
 *   bigint `b<digits>`, string: its JSON form, array `[a,b]`, plain object `{"k":v,...}` with keys sorted and
 *   `undefined` properties dropped, Date `D<time>`, Map `M{k:v,...}` and Set `S[...]` sorted by encoded member,
 *   typed arrays and Buffers `X"<type>""<base64>"`, ArrayBuffer `A"<base64>"`, RegExp `R"<source>""<flags>"`,
 *   URL `L"<href>"`, objects with `toJSON()` as their JSON value, other class instances `C"<name>"{...}`.
 *
 * The fast path keeps only a depth counter; when a structure is too deep (a cycle) or holds a value that has no
 * canonical form, a second, slower pass finds the path of the offending value for the error message.
 */
export function canonicalEncode(value: unknown): string {
  try {
    return encode(value, 0);
  } catch (error) {
    if (error instanceof NotCanonicalisableError) throw diagnose(value) ?? error;
    if (error instanceof RangeError)
      throw diagnose(value) ?? new NotCanonicalisableError('$', 'a structure nested too deeply');
    throw error;
  }
}

/** Past this depth we assume a cycle and let the diagnostic pass tell. */
const MAX_DEPTH = 2_000;
const objectProto = Object.prototype;

function encode(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return `n${value}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'bigint':
      return `b${value}`;
    case 'object':
      if (value === null) return 'N';
      if (depth > MAX_DEPTH) throw new NotCanonicalisableError('$', 'a circular structure');
      return encodeObject(value, depth + 1);
    default:
      // function, symbol
      throw new NotCanonicalisableError('$', `a ${typeof value}`);
  }
}

function encodeObject(value: object, depth: number): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += encode(value[i], depth);
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === objectProto || proto === null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return encode(toJSON.call(value, ''), depth);
    return encodePlain(value as Record<string, unknown>, depth);
  }
  return encodeSpecial(value, depth);
}

function encodePlain(value: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(value);
  if (keys.length > 1) sortKeys(keys);
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = value[k];
    if (v === undefined) continue;
    out += first ? quote(k) : `,${quote(k)}`;
    first = false;
    out += `:${encode(v, depth)}`;
  }
  return `${out}}`;
}

/**
 * Sorts property names by UTF-16 code units (the same order as Array.prototype.sort's default). Objects passed
 * to tools have few keys, where an insertion sort beats the generic sort by a wide margin.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The JSON form of a string, without calling JSON.stringify for the common case: a string with no quote,
 * backslash, control character or surrogate is its JSON form between quotes. Surrogates go the slow way so that
 * lone ones are escaped (hashing a lone surrogate as UTF-8 would merge distinct strings).
 */
export function quote(s: string): string {
  if (s.length > 64) return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function encodeSpecial(value: object, depth: number): string {
  if (value instanceof Date) return `D${value.getTime()}`;
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value) parts.push(`${encode(k, depth)}:${encode(v, depth)}`);
    return `M{${parts.sort().join(',')}}`;
  }
  if (value instanceof Set) {
    const parts: string[] = [];
    for (const v of value) parts.push(encode(v, depth));
    return `S[${parts.sort().join(',')}]`;
  }
  if (ArrayBuffer.isView(value)) {
    const type = value instanceof Buffer ? 'Uint8Array' : value.constructor.name;
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return `X${JSON.stringify(type)}"${bytes}"`;
  }
  if (value instanceof ArrayBuffer) return `A"${Buffer.from(value).toString('base64')}"`;
  if (value instanceof RegExp) return `R${JSON.stringify(value.source)}${JSON.stringify(value.flags)}`;
  if (value instanceof URL) return `L${JSON.stringify(value.href)}`;
  const opaque = opaqueReason(value);
  if (opaque) throw new NotCanonicalisableError('$', opaque);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return encode(toJSON.call(value, ''), depth);
  if (value instanceof String || value instanceof Number || value instanceof Boolean) {
    return encode(value.valueOf(), depth);
  }
  const name = (value.constructor as { name?: string } | undefined)?.name ?? '';
  return `C${JSON.stringify(name)}${encodePlain(value as Record<string, unknown>, depth)}`;
}

/** Slow pass: walks the value keeping the path and the ancestors, and describes the first problem it meets. */
function diagnose(root: unknown): NotCanonicalisableError | undefined {
  const ancestors = new Set<object>();
  const visit = (value: unknown, path: string): NotCanonicalisableError | undefined => {
    if (typeof value === 'function') return new NotCanonicalisableError(path, 'a function');
    if (typeof value === 'symbol') return new NotCanonicalisableError(path, 'a symbol');
    if (typeof value !== 'object' || value === null) return undefined;
    if (ancestors.has(value)) return new NotCanonicalisableError(path, 'a circular reference');
    const opaque = opaqueReason(value);
    if (opaque) return new NotCanonicalisableError(path, opaque);
    ancestors.add(value);
    try {
      for (const [childPath, child] of children(value, path)) {
        const problem = visit(child, childPath);
        if (problem) return problem;
      }
    } finally {
      ancestors.delete(value);
    }
    return undefined;
  };
  return visit(root, '$');
}

/** Objects with no value to compare (promises, weak collections): why, or undefined for the others. */
function opaqueReason(value: object): string | undefined {
  if (value instanceof Promise || typeof (value as { then?: unknown }).then === 'function')
    return 'a promise';
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return `a ${value.constructor.name} (it has no value to compare)`;
  }
  return undefined;
}

function* children(value: object, path: string): Generator<[string, unknown]> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield [`${path}[${i}]`, value[i]];
    return;
  }
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      yield [`${path}.<key ${i}>`, k];
      yield [`${path}.get(${i})`, v];
      i++;
    }
    return;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) yield [`${path}.<member ${i++}>`, v];
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    yield [`${path}.toJSON()`, toJSON.call(value, '')];
    return;
  }
  for (const k of Object.keys(value)) {
    yield [
      /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
      (value as Record<string, unknown>)[k],
    ];
  }
}
