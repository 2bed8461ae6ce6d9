import { encodePrimitive } from './canonical.js';
import { ARRAY, END, OBJECT, walk } from './memo-walk.js';
import { quote } from './walk.js';

/** In a shape's structure: a leaf (a primitive) is here. */
const LEAF = Object.freeze({ shape: 'leaf' });

/**
 * The structure of some arguments without their leaves (the primitives): which arrays of what length, which
 * objects with which property names, where the leaves go. Its canonical encoding is a fixed sequence of fragments
 * with the leaves' encodings between them — for `[{"page":n3,"userId":"u1"}]`: `[{"page":`, `,"userId":`, `}]`
 * around `n3` and `"u1"`. So the encoding of arguments of a known shape can be compared with a key's text leaf by
 * leaf, stepping over the fragments, without comparing property names or punctuation again.
 *
 * The fragments follow the canonical grammar (walk.ts) for the JSON-like values the memo takes; the memo also
 * checks them once against each key it stores (`matches` with every fragment compared), so a key is only ever
 * compared the fast way against a shape it is known to have.
 */
export class Shape {
  /** The tape with LEAF where a leaf is. */
  readonly #structure: unknown[];
  /** Where the leaves are in the tape. */
  readonly #leaves: number[];
  /** The encoding between leaves: one more than there are leaves. */
  readonly #fragments: string[];
  /**
   * Set once the fragments were found, character by character, in a text the encoder wrote for a value of this
   * shape: from then on the encoding of such a value can be written from them (`encode`) instead of by the encoder.
   */
  #checked = false;

  /** The shape of the tape in `walk`. */
  constructor() {
    const n = walk.length;
    this.#structure = new Array(n);
    this.#leaves = [];
    this.#fragments = [];
    let fragment = '';
    const tape = walk.tape;
    let at = 0;
    const visit = (): void => {
      const item = tape[at];
      if (item === ARRAY) {
        const length = tape[at + 1] as number;
        this.#structure[at] = ARRAY;
        this.#structure[at + 1] = length;
        at += 2;
        fragment += '[';
        for (let i = 0; i < length; i++) {
          if (i > 0) fragment += ',';
          visit();
        }
        fragment += ']';
      } else if (item === OBJECT) {
        this.#structure[at++] = OBJECT;
        fragment += '{';
        let first = true;
        while (tape[at] !== END) {
          const name = tape[at] as string;
          this.#structure[at++] = name;
          fragment += `${first ? '' : ','}${quote(name)}:`;
          first = false;
          visit();
        }
        this.#structure[at++] = END;
        fragment += '}';
      } else {
        this.#structure[at] = LEAF;
        this.#leaves.push(at++);
        this.#fragments.push(fragment);
        fragment = '';
      }
    };
    visit();
    this.#fragments.push(fragment);
  }

  /** Whether the tape in `walk` has this structure. */
  fits(): boolean {
    const structure = this.#structure;
    const n = structure.length;
    if (walk.length !== n) return false;
    const tape = walk.tape;
    for (let i = 0; i < n; i++) {
      const s = structure[i];
      const t = tape[i];
      if (s === LEAF) {
        if (typeof t === 'object' && t !== null) return false; // a marker: not a leaf
      } else if (s !== t) return false;
    }
    return true;
  }

  /** Whether the fragments are known to be the encoder's (see #checked). */
  get checked(): boolean {
    return this.#checked;
  }

  /**
   * Compares the fragments with `material`, the encoder's text for the value just walked (which fits this shape),
   * and trusts them from then on if they are the same. Returns whether they are.
   */
  check(material: string): boolean {
    if (this.matches(material, 0, true)) this.#checked = true;
    return this.#checked;
  }

  /**
   * The canonical encoding of the tape in `walk` (which fits this shape), written from the fragments and the leaves:
   * what the encoder would write, without walking the value again. Only once the fragments are `checked`.
   */
  encode(): string {
    const tape = walk.tape;
    const leaves = this.#leaves;
    const fragments = this.#fragments;
    // A rope: the key that holds it is written out flat once (flatKey in memo.ts).
    let text = '';
    for (let j = 0; j < leaves.length; j++)
      text +=
        fragments[j]! + encodePrimitive(tape[leaves[j]!] as string | number | boolean | undefined | null);
    return text + fragments[leaves.length]!;
  }

  /**
   * Whether `text` from `from` on is exactly the encoding of the tape in `walk` (which fits this shape). With
   * `fragments: false` the fragments are stepped over: only for a text known to have this shape.
   */
  matches(text: string, from: number, fragments: boolean): boolean {
    const tape = walk.tape;
    const leaves = this.#leaves;
    const parts = this.#fragments;
    let p = from;
    for (let j = 0; j < leaves.length; j++) {
      const fragment = parts[j]!;
      if (fragments && matchText(fragment, text, p) < 0) return false;
      p += fragment.length;
      p = matchLeaf(tape[leaves[j]!], text, p);
      if (p < 0) return false;
      // A number is not self-delimiting (n1 is a prefix of n12): what follows it must be the next fragment.
      const next = parts[j + 1]!;
      if (next.length === 0 ? p !== text.length : text.charCodeAt(p) !== next.charCodeAt(0)) return false;
    }
    const last = parts[leaves.length]!;
    if (fragments && matchText(last, text, p) < 0) return false;
    return p + last.length === text.length;
  }
}

/**
 * The position after the encoding of the leaf `v` when `text` continues with it at `p`, else -1: `N`, `U`, `T`,
 * `F`, `n<String(n)>`, or a string's JSON form (`quote` in walk.ts). A string is its characters between quotes
 * unless one of them must be escaped; then the quoted form is compared.
 */
function matchLeaf(v: unknown, text: string, p: number): number {
  switch (typeof v) {
    case 'string': {
      if (text.charCodeAt(p) !== 0x22 /* " */) return -1;
      const n = v.length;
      const from = p + 1;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff))
          return matchText(quote(v), text, p);
        if (text.charCodeAt(from + i) !== c) return -1;
      }
      return text.charCodeAt(from + n) === 0x22 ? from + n + 1 : -1;
    }
    case 'number':
      return text.charCodeAt(p) === 0x6e /* n */ ? matchText(String(v), text, p + 1) : -1;
    case 'boolean':
      return text.charCodeAt(p) === (v ? 0x54 /* T */ : 0x46) /* F */ ? p + 1 : -1;
    case 'undefined':
      return text.charCodeAt(p) === 0x55 /* U */ ? p + 1 : -1;
    default:
      return v === null && text.charCodeAt(p) === 0x4e /* N */ ? p + 1 : -1;
  }
}

/** `text` continues with exactly `part` at `p`: the position after it, else -1. */
function matchText(part: string, text: string, p: number): number {
  const n = part.length;
  if (p + n > text.length) return -1;
  for (let i = 0; i < n; i++) if (text.charCodeAt(p + i) !== part.charCodeAt(i)) return -1;
  return p + n;
}
