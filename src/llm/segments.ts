import { AgentCacheTypeError } from '../errors.js';
import { rememberElements } from '../key/digest.js';
import type { PromptSegment } from './prompt-layout.js';

export interface ChatRequestLike {
  /** Tool definitions, cached first by every provider. */
  readonly tools?: unknown;
  /** The system prompt (a string, or content blocks). */
  readonly system?: unknown;
  readonly messages: readonly unknown[];
}

export interface SegmentsFromMessagesOptions {
  /** Mark the messages before the newest user turn cacheable (a provider cache breakpoint on history). Default false. */
  readonly cacheHistory?: boolean;
}

type Role = NonNullable<PromptSegment['role']>;

/**
 * Segments of a plain chat request in the order providers cache: `tools`, `system`, then one segment per message
 * (`message:<index>`, stable as the conversation grows). Tools and system are cacheable, and so are leading
 * `system`/`developer` messages (the OpenAI way of writing a system prompt). Earlier messages are cacheable only
 * with `cacheHistory`; the newest user message and everything after it (the current turn's tool calls and
 * results) are volatile.
 *
 * Segments are frozen, and the same message (or tool list, or system prompt) at the same place gets the same
 * segment object every turn, so a layout built from them extends the previous turn's instead of starting over.
 * Each segment's content is the message object itself.
 */
export function segmentsFromMessages(
  request: ChatRequestLike,
  options: SegmentsFromMessagesOptions = {},
): PromptSegment[] {
  const messages = request?.messages;
  if (!Array.isArray(messages))
    throw new AgentCacheTypeError('segmentsFromMessages: `messages` must be an array');
  const cacheHistory = options.cacheHistory === true;
  const segments: PromptSegment[] = [];
  const { tools, system } = request;
  if (tools !== undefined && !(Array.isArray(tools) && tools.length === 0)) {
    segments.push(segment('tools', true, 'tools', tools));
  }
  if (system !== undefined && system !== '') segments.push(segment('system', true, 'system', system));
  let newestUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (roleOf(messages[i]) === 'user') {
      newestUser = i;
      break;
    }
  }
  // Without a user message, the last message is the volatile turn.
  const volatileFrom = newestUser === -1 ? Math.max(0, messages.length - 1) : newestUser;
  const front = segments.length;
  // Messages before both this call's and the previous call's volatile turn, and the same objects as then, get
  // the same segments: keep them instead of looking each one up (a long conversation repeats its history).
  const previous = messages.length > 0 ? lastCall.get(messages[0] as object) : undefined;
  let start = 0;
  let snapshot: PromptSegment[] = [];
  let contents: unknown[] = [];
  if (previous !== undefined && previous.cacheHistory === cacheHistory) {
    // A segment's content is its message, and segments are frozen: their contents are the snapshot to compare
    // with, kept side by side in `contents` (one array read per message, not one segment object each).
    const old = previous.segments;
    const known = previous.contents;
    const limit = Math.min(volatileFrom, previous.volatileFrom, old.length, known.length);
    // Frozen messages cannot have had their role edited: the same objects are classified as before.
    const trusted = Math.min(limit, previous.frozenUpTo);
    // Roles only matter while the leading system messages last: past them, a message before the volatile turn
    // is history whatever its role.
    let leading = true;
    while (start < limit) {
      if (messages[start] !== known[start]) break;
      if (leading) {
        const wasSystem = old[start]!.role === 'system';
        if (start >= trusted) {
          // Roles are re-read: a role edited in place changes how the message is classified.
          const role = roleOf(messages[start]);
          if ((role === 'system' || role === 'developer') !== wasSystem) break;
        }
        leading = wasSystem;
      }
      start++;
    }
    // The snapshot is private to the conversation's last call, which this call replaces: reuse it in place.
    old.length = start;
    known.length = start;
    snapshot = old;
    contents = known;
  }
  // The new messages' digests are asked for next (by a layout): when the request was just keyed, they are known.
  rememberElements(messages, start);
  let leadingSystem = start === 0 || snapshot[start - 1]!.role === 'system';
  for (let i = start; i < messages.length; i++) {
    const message = messages[i];
    const role = roleOf(message);
    leadingSystem &&= (role === 'system' || role === 'developer') && i < volatileFrom;
    const id = messageId(i);
    if (leadingSystem) snapshot.push(segment(id, true, 'system', message));
    else if (i < volatileFrom) snapshot.push(segment(id, cacheHistory, 'history', message));
    else snapshot.push(segment(id, false, 'volatile', message));
    contents.push(message);
  }
  if (typeof messages[0] === 'object' && messages[0] !== null) {
    let frozenUpTo = Math.min(start, previous?.frozenUpTo ?? 0);
    while (frozenUpTo < messages.length && Object.isFrozen(messages[frozenUpTo])) frozenUpTo++;
    lastCall.set(messages[0], { segments: snapshot, contents, volatileFrom, cacheHistory, frozenUpTo });
  }
  // The caller's array is its own: a copy of the snapshot.
  return front === 0 ? snapshot.slice() : segments.concat(snapshot);
}

interface LastCall {
  /** The message segments (after tools and system), one per message; reused by the next call. */
  readonly segments: PromptSegment[];
  /** The messages of those segments (their contents), in the same order. */
  readonly contents: unknown[];
  readonly volatileFrom: number;
  readonly cacheHistory: boolean;
  /** How many leading messages are frozen objects (their role cannot have been edited since). */
  readonly frozenUpTo: number;
}

/** The previous call of each conversation, by its first message (a conversation keeps its first message). */
const lastCall = new WeakMap<object, LastCall>();

/** The last segment made for an object content (messages, tool lists, block-form system prompts). */
const byContent = new WeakMap<object, PromptSegment>();
/** The same for string contents (a system prompt), bounded. */
const byText = new Map<string, PromptSegment>();
const MAX_TEXTS = 64;

function segment(id: string, cacheable: boolean, role: Role, content: unknown): PromptSegment {
  const isObject = typeof content === 'object' && content !== null;
  const known = isObject
    ? byContent.get(content)
    : typeof content === 'string'
      ? byText.get(content)
      : undefined;
  if (known !== undefined && known.id === id && known.cacheable === cacheable && known.role === role)
    return known;
  const made: PromptSegment = Object.freeze({ id, cacheable, role, content });
  if (isObject) byContent.set(content, made);
  else if (typeof content === 'string') {
    if (byText.size >= MAX_TEXTS) byText.delete(byText.keys().next().value as string);
    byText.set(content, made);
  }
  return made;
}

const ids: string[] = [];

/** `message:<i>`, built once per index (a long conversation asks for the same ids every turn). */
function messageId(i: number): string {
  for (let n = ids.length; n <= i; n++) ids.push(`message:${n}`);
  return ids[i]!;
}

function roleOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { role?: unknown }).role : undefined;
}
