/**
 * Generation tags. Each part is a JSON string, which is self-delimiting, so no namespace, tool name, session id
 * or resource name can make two different tags equal (an id containing separators cannot forge another's tag).
 */
export function toolTag(namespace: string, toolName: string): string {
  return `t${JSON.stringify(namespace)}${JSON.stringify(toolName)}`;
}

export function resourceTag(namespace: string, resource: string): string {
  return `r${JSON.stringify(namespace)}${JSON.stringify(resource)}`;
}

export function sessionResourceTag(namespace: string, sessionKeyPart: string, resource: string): string {
  return `${sessionKeyPart}${JSON.stringify(namespace)}${JSON.stringify(resource)}`;
}

/** Key prefix of a tool's entries: namespace and tool name, both self-delimited. */
export function toolKeyPrefix(namespace: string, toolName: string): string {
  return `${JSON.stringify(namespace)}${JSON.stringify(toolName)}`;
}

/** What a generation tag names, read back from its text (the inverse of the functions above). */
export type ParsedTag =
  | { readonly kind: 'tool'; readonly namespace: string; readonly tool: string }
  | { readonly kind: 'resource'; readonly namespace: string; readonly resource: string }
  | {
      readonly kind: 'session-resource';
      readonly sessionId: string;
      readonly namespace: string;
      readonly resource: string;
    };

/** Parses a tag made by `toolTag`, `resourceTag` or `sessionResourceTag`; undefined for any other text. */
export function parseTag(tag: string): ParsedTag | undefined {
  const parts = jsonStrings(tag, 1);
  if (parts === undefined) return undefined;
  switch (tag[0]) {
    case 't':
      return parts.length === 2 ? { kind: 'tool', namespace: parts[0]!, tool: parts[1]! } : undefined;
    case 'r':
      return parts.length === 2 ? { kind: 'resource', namespace: parts[0]!, resource: parts[1]! } : undefined;
    case 's':
      return parts.length === 3
        ? { kind: 'session-resource', sessionId: parts[0]!, namespace: parts[1]!, resource: parts[2]! }
        : undefined;
    default:
      return undefined;
  }
}

/** A tool entry's key split into its parts: namespace, tool, scope and the (possibly hashed) key material. */
export interface ParsedToolKey {
  readonly namespace: string;
  readonly tool: string;
  /** The session id of a session-scoped key; undefined for a global one. */
  readonly sessionId: string | undefined;
  /** The canonical encoding of the key material, or `#` + its SHA-256 when it was long. */
  readonly material: string;
}

/** Parses a key built from `toolKeyPrefix` + scope part (`g` or `s` + JSON session id) + material. */
export function parseToolKey(key: string): ParsedToolKey | undefined {
  const ns = jsonStringAt(key, 0);
  const tool = ns && jsonStringAt(key, ns.end);
  if (tool === undefined) return undefined;
  if (key[tool.end] === 'g') {
    return {
      namespace: ns!.value,
      tool: tool.value,
      sessionId: undefined,
      material: key.slice(tool.end + 1),
    };
  }
  const session = key[tool.end] === 's' ? jsonStringAt(key, tool.end + 1) : undefined;
  if (session === undefined) return undefined;
  return {
    namespace: ns!.value,
    tool: tool.value,
    sessionId: session.value,
    material: key.slice(session.end),
  };
}

/** The consecutive JSON strings that make up `text` from `start` to its end, or undefined if it is not only those. */
function jsonStrings(text: string, start: number): string[] | undefined {
  const out: string[] = [];
  let at = start;
  while (at < text.length) {
    const next = jsonStringAt(text, at);
    if (next === undefined) return undefined;
    out.push(next.value);
    at = next.end;
  }
  return out;
}

/** The JSON string literal starting at `at` in `text`, and the index just past it (undefined if there is none). */
export function jsonStringAt(text: string, at: number): { value: string; end: number } | undefined {
  if (text[at] !== '"') return undefined;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      i++; // an escape: the next character is never the closing quote
    } else if (c === 0x22) {
      try {
        return { value: JSON.parse(text.slice(at, i + 1)) as string, end: i + 1 };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
