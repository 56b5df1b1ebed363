// Finds added tokens in raw text before pre-tokenization, with HF's
// AddedVocabulary rules: leftmost-longest match (as its aho-corasick automaton),
// optional lstrip / rstrip / single_word.

export interface AddedTokenSpec {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
  normalized: boolean;
}

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Index into the token list when a token ends here, else -1. */
  token: number;
}

/** Rust's `char::is_whitespace` (Unicode White_Space). */
export function isWhitespaceCode(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

export interface AddedMatch {
  token: AddedTokenSpec;
  start: number;
  end: number;
}

export class AddedTokenMatcher {
  readonly tokens: AddedTokenSpec[] = [];
  private readonly root: TrieNode = { children: new Map(), token: -1 };
  /** Bitmap of UTF-16 units that can start a token. */
  private readonly first = new Uint8Array(65536);
  /** The unit every token starts with, when they all start alike (LLaMA-3's and GPT-2's `<`), else null. */
  private onlyFirst: string | null = null;
  private firstCount = 0;

  get size(): number {
    return this.tokens.length;
  }

  add(token: AddedTokenSpec): void {
    if (token.content.length === 0) return;
    let node = this.root;
    for (let i = 0; i < token.content.length; i++) {
      const code = token.content.charCodeAt(i);
      let child = node.children.get(code);
      if (child === undefined) {
        child = { children: new Map(), token: -1 };
        node.children.set(code, child);
      }
      node = child;
    }
    if (node.token >= 0) this.tokens[node.token] = token;
    else {
      node.token = this.tokens.length;
      this.tokens.push(token);
    }
    const code = token.content.charCodeAt(0);
    if (this.first[code] === 0) {
      this.first[code] = 1;
      this.firstCount++;
      this.onlyFirst = this.firstCount === 1 ? token.content[0]! : null;
    }
  }

  /** Matches in `text[from, to)`, in order, not overlapping. */
  find(text: string, from: number, to: number): AddedMatch[] {
    const matches: AddedMatch[] = [];
    if (this.tokens.length === 0) return matches;
    const first = this.first;
    // To the end of the text, one start unit is found by indexOf (a vectorised scan, ~6% of
    // LLaMA-3's encode time as a unit-by-unit loop); a range stops short of the end, and indexOf
    // could scan far past it, so ranges take the loop.
    const only = to === text.length ? this.onlyFirst : null;
    let lastEnd = from;
    let i = from;
    while (i < to) {
      if (only !== null) {
        i = text.indexOf(only, i);
        if (i < 0) break;
      } else if (first[text.charCodeAt(i)] === 0) {
        i++;
        continue;
      }
      let node: TrieNode | undefined = this.root;
      let best = -1;
      let bestEnd = -1;
      for (let j = i; j < to; j++) {
        node = node.children.get(text.charCodeAt(j));
        if (node === undefined) break;
        if (node.token >= 0) {
          best = node.token;
          bestEnd = j + 1;
        }
      }
      if (best < 0) {
        i++;
        continue;
      }
      const token = this.tokens[best];
      let start = i;
      let end = bestEnd;
      if (token.singleWord) {
        const before = start > from && WORD_CHAR.test(text[start - 1]);
        const after = end < to && WORD_CHAR.test(text[end]);
        // The automaton's iterator has already consumed this match: scanning resumes after it.
        if (before || after) {
          i = end;
          continue;
        }
      }
      if (token.lstrip) {
        while (start > lastEnd && isWhitespaceCode(text.charCodeAt(start - 1))) start--;
      }
      if (token.rstrip) {
        while (end < to && isWhitespaceCode(text.charCodeAt(end))) end++;
      }
      matches.push({ token, start, end });
      lastEnd = end;
      i = end;
    }
    return matches;
  }
}
