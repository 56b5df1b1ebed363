// A single-pass reader for tokenizer.json that skips JSON.parse's object tree
// for the two big members (model.vocab: ~100k keys, model.merges: ~300k
// strings): they are read straight into a Map and string pairs. Every other
// member goes through JSON.parse. Malformed input raises JsonScanError with
// the character position.

export class JsonScanError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at character ${position}`);
  }
}

import { FNV_OFFSET, FNV_PRIME, SECOND_PRIME, SECOND_SEED, StringIdTable } from './string-table.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface ScannedModel {
  /** Every model member except vocab and merges, JSON.parse'd. */
  members: Record<string, unknown>;
  vocab: StringIdTable | null;
  /** Merges resolved to (left id, right id, merged id) triples, when the vocab came first (HF's order). */
  mergeIds: Int32Array | null;
  /** Otherwise merges as flat strings [left0, right0, left1, right1, …]. */
  mergeStrings: string[] | null;
  /** The first merge whose tokens are not all in the vocab: [rank, missing token]. */
  badMerge: [number, string] | null;
}

export interface ScannedTokenizerJson {
  members: Record<string, unknown>;
  model: ScannedModel | null;
}

class Scanner {
  position = 0;
  private nextBackslash: number;
  constructor(readonly text: string) {
    this.nextBackslash = text.indexOf('\\');
    if (this.nextBackslash < 0) this.nextBackslash = text.length;
  }

  error(message: string): never {
    throw new JsonScanError(message, this.position);
  }

  skipSpace(): void {
    const text = this.text;
    let p = this.position;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.position = p;
  }

  expect(char: string): void {
    this.skipSpace();
    if (this.text[this.position] !== char) this.error(`expected '${char}', found ${JSON.stringify(this.text.slice(this.position, this.position + 10))}`);
    this.position++;
  }

  /** Consumes ',' and returns true, or consumes `close` and returns false. */
  separator(close: string): boolean {
    this.skipSpace();
    const c = this.text[this.position];
    if (c === ',') {
      this.position++;
      return true;
    }
    if (c === close) {
      this.position++;
      return false;
    }
    return this.error(`expected ',' or '${close}'`);
  }

  peek(): string {
    this.skipSpace();
    return this.text[this.position];
  }

  string(): string {
    this.skipSpace();
    const text = this.text;
    const start = this.position;
    if (text.charCodeAt(start) !== QUOTE) this.error('expected a string');
    let end = text.indexOf('"', start + 1);
    if (end < 0) this.error('unterminated string');
    if (this.nextBackslash < start) {
      this.nextBackslash = text.indexOf('\\', start);
      if (this.nextBackslash < 0) this.nextBackslash = text.length;
    }
    if (this.nextBackslash > end) {
      this.position = end + 1;
      return text.slice(start + 1, end);
    }
    // Escapes inside: find the real closing quote, then let JSON.parse unescape.
    let p = start + 1;
    for (;;) {
      const c = text.charCodeAt(p);
      if (Number.isNaN(c)) this.error('unterminated string');
      if (c === BACKSLASH) p += 2;
      else if (c === QUOTE) break;
      else p++;
    }
    end = p;
    this.position = end + 1;
    try {
      return JSON.parse(text.slice(start, end + 1)) as string;
    } catch {
      return this.error('invalid string escape');
    }
  }

  /**
   * Bounds [start, end) of the next string's content when it has no escapes;
   * otherwise [-(start of the quote) - 1, 0] and the position is left unchanged.
   */
  stringRange(): [number, number] {
    this.skipSpace();
    const text = this.text;
    const quote = this.position;
    if (text.charCodeAt(quote) !== QUOTE) this.error('expected a string');
    const end = text.indexOf('"', quote + 1);
    if (end < 0) this.error('unterminated string');
    if (this.nextBackslash < quote) {
      this.nextBackslash = text.indexOf('\\', quote);
      if (this.nextBackslash < 0) this.nextBackslash = text.length;
    }
    if (this.nextBackslash < end) return [-quote - 1, 0];
    this.position = end + 1;
    return [quote + 1, end];
  }

  integer(): number {
    this.skipSpace();
    const text = this.text;
    let p = this.position;
    let value = 0;
    const begin = p;
    while (p < text.length) {
      const c = text.charCodeAt(p);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
      p++;
    }
    if (p === begin) this.error('expected a non-negative integer');
    const c = text[p];
    if (c === '.' || c === 'e' || c === 'E') this.error('expected an integer');
    this.position = p;
    return value;
  }

  /** Skips any JSON value and returns it parsed. */
  value(): unknown {
    this.skipSpace();
    const start = this.position;
    this.skipValue();
    try {
      return JSON.parse(this.text.slice(start, this.position));
    } catch (error) {
      this.position = start;
      return this.error(`invalid JSON value (${(error as Error).message})`);
    }
  }

  private skipValue(): void {
    const text = this.text;
    let depth = 0;
    let p = this.position;
    do {
      while (p < text.length && (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x0a || text.charCodeAt(p) === 0x0d || text.charCodeAt(p) === 0x09)) p++;
      if (p >= text.length) {
        this.position = p;
        this.error('unexpected end of input');
      }
      const c = text.charCodeAt(p);
      if (c === QUOTE) {
        p++;
        for (;;) {
          const d = text.charCodeAt(p);
          if (Number.isNaN(d)) {
            this.position = p;
            this.error('unterminated string');
          }
          if (d === BACKSLASH) p += 2;
          else if (d === QUOTE) break;
          else p++;
        }
        p++;
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
        p++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        p++;
      } else if (c === 0x2c || c === 0x3a) {
        p++;
        if (depth === 0) {
          this.position = p - 1;
          return;
        }
      } else {
        // Literal (number, true, false, null): up to the next delimiter.
        while (p < text.length) {
          const d = text.charCodeAt(p);
          if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09 || d === 0x3a) break;
          p++;
        }
      }
    } while (depth > 0);
    this.position = p;
  }

  end(): void {
    this.skipSpace();
    if (this.position < this.text.length) this.error('unexpected text after the JSON object');
  }
}

function scanVocab(scanner: Scanner): StringIdTable {
  const vocab = new StringIdTable(1 << 17);
  const text = scanner.text;
  scanner.expect('{');
  if (scanner.peek() === '}') {
    scanner.position++;
    return vocab;
  }
  // One pass per entry: hash the key while finding its end, slice it once, read the id.
  let p = scanner.position;
  for (;;) {
    let c = text.charCodeAt(p);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++p);
    if (c !== QUOTE) {
      scanner.position = p;
      scanner.error('expected a string');
    }
    const keyStart = p + 1;
    let h1 = FNV_OFFSET;
    let h2 = SECOND_SEED;
    c = text.charCodeAt(++p);
    while (c !== QUOTE && c !== BACKSLASH && c === c) {
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = Math.imul(h2 ^ c, SECOND_PRIME);
      h2 ^= h2 >>> 15;
      c = text.charCodeAt(++p);
    }
    let token: string;
    if (c === QUOTE) {
      token = text.slice(keyStart, p);
      p++;
      scanner.position = p;
    } else {
      // An escape (or the end of the text): the general string reader handles it.
      scanner.position = keyStart - 1;
      token = scanner.string();
      h1 = -1;
    }
    scanner.expect(':');
    const id = scanner.integer();
    if (h1 === -1) vocab.set(token, id);
    else vocab.setHashed(token, h1, h2, id);
    if (!scanner.separator('}')) return vocab;
    p = scanner.position;
  }
}

function scanMergeStrings(scanner: Scanner): string[] {
  const merges: string[] = [];
  scanner.expect('[');
  if (scanner.peek() === ']') {
    scanner.position++;
    return merges;
  }
  do {
    if (scanner.peek() === '[') {
      scanner.position++;
      merges.push(scanner.string());
      scanner.expect(',');
      merges.push(scanner.string());
      scanner.expect(']');
    } else {
      const merge = scanner.string();
      const space = merge.indexOf(' ', 1);
      if (space < 0) scanner.error(`merge ${JSON.stringify(merge)} is not "left right"`);
      merges.push(merge.slice(0, space), merge.slice(space + 1));
    }
  } while (scanner.separator(']'));
  return merges;
}

/**
 * The common layout, `"left right"` strings without escapes, read in one pass that hashes
 * each character once (no substrings, no allocation per merge). Returns null, with the
 * position untouched, at the first thing it does not handle; the caller then re-reads the
 * array with the general code.
 */
function scanPlainMerges(scanner: Scanner, vocab: StringIdTable, model: ScannedModel): Int32Array | null {
  const text = scanner.text;
  const length = text.length;
  let p = scanner.position;
  while (p < length && text.charCodeAt(p) <= 0x20) p++;
  if (text.charCodeAt(p) !== 0x5b) return null;
  p++;
  let out = new Int32Array(3 * 262144);
  let count = 0;
  const trustHashes = vocab.hashesUnique;
  for (;;) {
    let c = text.charCodeAt(p);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++p);
    if (c === 0x5d && count === 0) {
      p++;
      break;
    }
    if (c !== QUOTE) return null;
    const quote = p;
    const leftStart = ++p;
    let hashLeft = FNV_OFFSET;
    let hashLeft2 = SECOND_SEED;
    let escaped = false;
    // The left token: up to the first space (a leading space belongs to it, as HF splits at the first space after it).
    c = text.charCodeAt(p);
    if (c === 0x20) {
      hashLeft = Math.imul(hashLeft ^ c, FNV_PRIME);
      hashLeft2 = Math.imul(hashLeft2 ^ c, SECOND_PRIME);
      hashLeft2 ^= hashLeft2 >>> 15;
      c = text.charCodeAt(++p);
    }
    while (c !== 0x20) {
      if (c === QUOTE || c === BACKSLASH || c !== c) {
        escaped = true;
        break;
      }
      hashLeft = Math.imul(hashLeft ^ c, FNV_PRIME);
      hashLeft2 = Math.imul(hashLeft2 ^ c, SECOND_PRIME);
      hashLeft2 ^= hashLeft2 >>> 15;
      c = text.charCodeAt(++p);
    }
    const leftEnd = p;
    const rightStart = ++p;
    let hashRight = FNV_OFFSET;
    let hashRight2 = SECOND_SEED;
    let hashBoth = hashLeft;
    let hashBoth2 = hashLeft2;
    if (!escaped) {
      c = text.charCodeAt(p);
      while (c !== QUOTE) {
        if (c === BACKSLASH || c !== c) {
          escaped = true;
          break;
        }
        hashRight = Math.imul(hashRight ^ c, FNV_PRIME);
        hashBoth = Math.imul(hashBoth ^ c, FNV_PRIME);
        hashRight2 = Math.imul(hashRight2 ^ c, SECOND_PRIME);
        hashRight2 ^= hashRight2 >>> 15;
        hashBoth2 = Math.imul(hashBoth2 ^ c, SECOND_PRIME);
        hashBoth2 ^= hashBoth2 >>> 15;
        c = text.charCodeAt(++p);
      }
    }
    let a: number;
    let b: number;
    let merged: number;
    if (escaped) {
      // An escape inside (a token with '"' or '\\'): read this one as a JSON string.
      scanner.position = quote;
      const merge = scanner.string();
      p = scanner.position;
      const space = merge.indexOf(' ', 1);
      if (space < 0) return null;
      const left = merge.slice(0, space);
      const right = merge.slice(space + 1);
      a = vocab.get(left);
      b = vocab.get(right);
      merged = vocab.get(left + right);
      if ((a < 0 || b < 0 || merged < 0) && model.badMerge === null) model.badMerge = [count, a < 0 ? left : b < 0 ? right : left + right];
    } else {
      const rightEnd = p++;
      const leftLength = leftEnd - leftStart;
      const rightLength = rightEnd - rightStart;
      if (trustHashes) {
        a = vocab.probeHashed(hashLeft, hashLeft2, leftLength);
        b = vocab.probeHashed(hashRight, hashRight2, rightLength);
        merged = vocab.probeHashed(hashBoth, hashBoth2, leftLength + rightLength);
      } else {
        a = vocab.probe(hashLeft, text, leftStart, leftEnd, leftEnd, leftEnd);
        b = vocab.probe(hashRight, text, rightStart, rightEnd, rightEnd, rightEnd);
        merged = vocab.probe(hashBoth, text, leftStart, leftEnd, rightStart, rightEnd);
      }
      if ((a < 0 || b < 0 || merged < 0) && model.badMerge === null) {
        const left = text.slice(leftStart, leftEnd);
        const right = text.slice(rightStart, rightEnd);
        model.badMerge = [count, a < 0 ? left : b < 0 ? right : left + right];
      }
    }
    if (count * 3 === out.length) {
      const grown = new Int32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[count * 3] = a;
    out[count * 3 + 1] = b;
    out[count * 3 + 2] = merged;
    count++;
    c = text.charCodeAt(p);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++p);
    p++;
    if (c === 0x5d) break;
    if (c !== 0x2c) return null;
  }
  scanner.position = p;
  return out.slice(0, count * 3);
}

/** Reads merges straight into id triples, looking tokens up in place (no substrings). */
function scanMergeIds(scanner: Scanner, vocab: StringIdTable, model: ScannedModel): Int32Array {
  let out = new Int32Array(3 * 65536);
  let count = 0;
  const text = scanner.text;
  const found = new Int32Array(3);
  const push = (a: number, b: number, m: number, missing: () => string): void => {
    if ((a < 0 || b < 0 || m < 0) && model.badMerge === null) model.badMerge = [count, missing()];
    if (count * 3 === out.length) {
      const grown = new Int32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[count * 3] = a;
    out[count * 3 + 1] = b;
    out[count * 3 + 2] = m;
    count++;
  };
  scanner.expect('[');
  if (scanner.peek() === ']') {
    scanner.position++;
    return out.slice(0, 0);
  }
  do {
    if (scanner.peek() === '[') {
      scanner.position++;
      const [s1, e1] = scanner.stringRange();
      scanner.expect(',');
      const [s2, e2] = scanner.stringRange();
      scanner.expect(']');
      if (s1 >= 0 && s2 >= 0) {
        vocab.getMerge(text, s1, e1, s2, e2, found);
        const a = found[0];
        const b = found[1];
        push(a, b, found[2], () => (a < 0 ? text.slice(s1, e1) : b < 0 ? text.slice(s2, e2) : text.slice(s1, e1) + text.slice(s2, e2)));
        continue;
      }
      // Escaped strings: re-read them as strings.
      scanner.position = s1 < 0 ? -s1 - 1 : s1 - 1;
      scanner.error('escaped merge tokens are read by the string path');
    }
    const [start, end] = scanner.stringRange();
    if (start < 0) {
      scanner.position = -start - 1;
      const merge = scanner.string();
      const space = merge.indexOf(' ', 1);
      if (space < 0) scanner.error(`merge ${JSON.stringify(merge)} is not "left right"`);
      const left = merge.slice(0, space);
      const right = merge.slice(space + 1);
      const a = vocab.get(left);
      const b = vocab.get(right);
      push(a, b, vocab.get(left + right), () => (a < 0 ? left : b < 0 ? right : left + right));
      continue;
    }
    const space = text.indexOf(' ', start + 1);
    if (space < 0 || space >= end) {
      scanner.position = start - 1;
      scanner.error(`merge ${JSON.stringify(text.slice(start, end))} is not "left right"`);
    }
    vocab.getMerge(text, start, space, space + 1, end, found);
    const a = found[0];
    const b = found[1];
    push(a, b, found[2], () =>
      a < 0 ? text.slice(start, space) : b < 0 ? text.slice(space + 1, end) : text.slice(start, space) + text.slice(space + 1, end),
    );
  } while (scanner.separator(']'));
  return out.slice(0, count * 3);
}

function scanModel(scanner: Scanner): ScannedModel {
  const model: ScannedModel = { members: {}, vocab: null, mergeIds: null, mergeStrings: null, badMerge: null };
  scanner.expect('{');
  if (scanner.peek() === '}') {
    scanner.position++;
    return model;
  }
  do {
    const key = scanner.string();
    scanner.expect(':');
    if (key === 'vocab' && scanner.peek() === '{') model.vocab = scanVocab(scanner);
    else if (key === 'merges' && scanner.peek() === '[') {
      const start = scanner.position;
      if (model.vocab) {
        try {
          model.mergeIds = scanPlainMerges(scanner, model.vocab, model);
          if (model.mergeIds === null) {
            model.badMerge = null;
            scanner.position = start;
            model.mergeIds = scanMergeIds(scanner, model.vocab, model);
          }
        } catch (error) {
          if (!(error instanceof JsonScanError)) throw error;
          // Something unusual (escapes inside pair merges, say): read them as strings instead.
          scanner.position = start;
          model.badMerge = null;
          model.mergeStrings = scanMergeStrings(scanner);
        }
      } else model.mergeStrings = scanMergeStrings(scanner);
    } else model.members[key] = scanner.value();
  } while (scanner.separator('}'));
  return model;
}

/** Reads a tokenizer.json text; the model's vocab and merges come back pre-digested. */
export function scanTokenizerJson(text: string): ScannedTokenizerJson {
  const scanner = new Scanner(text);
  const result: ScannedTokenizerJson = { members: {}, model: null };
  scanner.expect('{');
  if (scanner.peek() !== '}') {
    do {
      const key = scanner.string();
      scanner.expect(':');
      if (key === 'model' && scanner.peek() === '{') result.model = scanModel(scanner);
      else result.members[key] = scanner.value();
    } while (scanner.separator('}'));
  } else scanner.position++;
  scanner.end();
  return result;
}

/** Reads a vocab.json (one flat object of token → id). */
export function scanVocabJson(text: string): StringIdTable {
  const scanner = new Scanner(text);
  const vocab = scanVocab(scanner);
  scanner.end();
  return vocab;
}
