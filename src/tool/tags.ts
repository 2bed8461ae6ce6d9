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
