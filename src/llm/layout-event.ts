import { firstDifference, PromptCacheLayout, type PromptSegment } from './prompt-layout.js';

export type LayoutInput = PromptCacheLayout | readonly PromptSegment[];

export function toLayout(input: LayoutInput): PromptCacheLayout {
  return input instanceof PromptCacheLayout ? input : PromptCacheLayout.fromSegments(input);
}

/** How the cacheable prefix moved from one prompt to the next (or across one middleware pass). */
export class CacheLayoutEvent {
  /** `after` does not keep `before`'s prefix (same ids and contents, in order): the provider cache misses. */
  readonly changedPrefix: boolean;
  /** The prefix was kept and grew by more cacheable segments (a longer conversation): not a break. */
  readonly extended: boolean;
  /** `after` has no cacheable prefix at all. */
  readonly volatileOnly: boolean;
  /** Same prefix ids, different contents (a timestamp in the system prompt, an edited tool description). */
  readonly contentOnlyChange: boolean;
  /** Prefix ids before and after. */
  readonly segmentIdsBefore: readonly string[];
  readonly segmentIdsAfter: readonly string[];
  /**
   * The first prefix segment of `before` that `after` does not keep (its id, content or position changed, or it
   * was removed); undefined when the prefix was kept.
   */
  readonly firstChangedId: string | undefined;
  /** Free text set by PromptCacheGuard.observe (`label`) or checkPass (`middleware`). */
  readonly label: string | undefined;
  readonly middleware: string | undefined;

  private constructor(fields: Omit<CacheLayoutEvent, 'describe'>) {
    this.changedPrefix = fields.changedPrefix;
    this.extended = fields.extended;
    this.volatileOnly = fields.volatileOnly;
    this.contentOnlyChange = fields.contentOnlyChange;
    this.segmentIdsBefore = fields.segmentIdsBefore;
    this.segmentIdsAfter = fields.segmentIdsAfter;
    this.firstChangedId = fields.firstChangedId;
    this.label = fields.label;
    this.middleware = fields.middleware;
  }

  static between(
    before: LayoutInput,
    after: LayoutInput,
    context: { readonly label?: string; readonly middleware?: string } = {},
  ): CacheLayoutEvent {
    const a = toLayout(before);
    const b = toLayout(after);
    const first = firstDifference(a, b);
    const changedPrefix = first !== -1;
    const sameIds =
      a.prefixIds.length === b.prefixIds.length && a.prefixIds.every((id, i) => id === b.prefixIds[i]);
    return new CacheLayoutEvent({
      changedPrefix,
      extended: !changedPrefix && b.prefixIds.length > a.prefixIds.length,
      volatileOnly: b.prefixIds.length === 0,
      contentOnlyChange: changedPrefix && sameIds,
      segmentIdsBefore: a.prefixIds,
      segmentIdsAfter: b.prefixIds,
      firstChangedId: changedPrefix ? a.prefixIds[first] : undefined,
      label: context.label,
      middleware: context.middleware,
    });
  }

  /** One line saying what changed, for errors and warnings. */
  describe(): string {
    if (!this.changedPrefix)
      return this.extended ? 'prompt prefix extended (stable)' : 'prompt prefix unchanged';
    const where = this.middleware !== undefined ? ` in middleware ${JSON.stringify(this.middleware)}` : '';
    const label = this.label !== undefined ? ` (${this.label})` : '';
    const id = JSON.stringify(this.firstChangedId);
    let what: string;
    if (this.contentOnlyChange) what = `the content of segment ${id} changed`;
    else if (!this.segmentIdsAfter.includes(this.firstChangedId!))
      what = `segment ${id} left the cacheable prefix`;
    else if (
      this.segmentIdsAfter.indexOf(this.firstChangedId!) !==
      this.segmentIdsBefore.indexOf(this.firstChangedId!)
    ) {
      what = `segment ${id} moved (prefix reordered or a segment was inserted before it)`;
    } else what = `the content of segment ${id} changed`;
    return `prompt prefix changed${where}${label}: ${what}; before ${list(this.segmentIdsBefore)}, after ${list(this.segmentIdsAfter)}`;
  }
}

/** A short id list: a 300-turn history would otherwise make a 300-id error message. */
function list(ids: readonly string[]): string {
  const shown = ids.slice(0, 8).join(', ');
  return ids.length > 8 ? `[${shown}, … ${ids.length - 8} more]` : `[${shown}]`;
}
