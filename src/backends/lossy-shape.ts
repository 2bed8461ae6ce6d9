/**
 * What v8's structured serialization would silently change in a value: an instance of a class comes back as a
 * plain object (or, for a subclass of Map, Array, Error..., as the built-in), without its prototype, methods or
 * getters; a property keyed by a symbol is dropped. `lossyShape` names the first such place, or returns undefined.
 *
 * Iterative (no recursion: a 100 000-deep value cannot overflow the stack here) and bounded: at most
 * `MAX_NODES` objects are looked at, so a huge result costs a bounded check; a lossy part deeper than that goes
 * unnoticed (the value is still stored).
 */
const MAX_NODES = 10_000;

const KEPT = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
  Buffer.prototype,
  ...[
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ].map((type) => type.prototype),
]);

export function lossyShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const seen = new Set<object>();
  const stack: [object, string][] = [[value, '$']];
  let nodes = 0;
  while (stack.length > 0 && nodes < MAX_NODES) {
    const [object, path] = stack.pop()!;
    if (seen.has(object)) continue;
    seen.add(object);
    nodes++;
    const proto = Object.getPrototypeOf(object) as object | null;
    if (!KEPT.has(proto)) {
      const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
      const what =
        typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a prototype';
      return `${what} at ${path} comes back as a plain object, without its prototype, methods or getters`;
    }
    if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) continue;
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (Object.prototype.propertyIsEnumerable.call(object, symbol))
        return `the symbol key ${String(symbol)} at ${path} is dropped`;
    }
    if (object instanceof Map) {
      let i = 0;
      for (const [k, v] of object) {
        push(stack, k, `${path}.<key ${i}>`);
        push(stack, v, `${path}.get(<key ${i}>)`);
        i++;
      }
    } else if (object instanceof Set) {
      let i = 0;
      for (const v of object) push(stack, v, `${path}.<member ${i++}>`);
    } else if (Array.isArray(object)) {
      for (let i = object.length - 1; i >= 0; i--) push(stack, object[i], `${path}[${i}]`);
    } else {
      const keys = Object.keys(object);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        push(stack, (object as Record<string, unknown>)[key], `${path}.${key}`);
      }
    }
  }
  return undefined;
}

function push(stack: [object, string][], value: unknown, path: string): void {
  if (typeof value === 'object' && value !== null) stack.push([value, path]);
}
