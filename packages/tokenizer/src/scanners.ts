// Hand-written equivalents of the two split patterns almost every byte-level
// tokenizer uses (GPT-2's and LLaMA-3's), with Oniguruma's semantics: they
// return where the next piece ends without allocating match objects or
// substrings. Any other pattern runs as a RegExp. regex.ts has the pattern
// texts; the tests check these scanners against that RegExp on real text.

/** Returns the end of the piece that starts at `position` (always > position). */
export type PieceScanner = (text: string, position: number, end: number) => number;

const LETTER = 1;
const NUMBER = 2;
const SPACE = 4;
const NEWLINE = 8;
const KNOWN = 0x80;

import { HF_LETTER_RANGES, HF_NUMBER_RANGES, inRanges } from './unicode-tables.js';

function isOnigurumaSpace(code: number): boolean {
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

function computeClass(codePoint: number): number {
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 0; // a lone surrogate: its own "other" code point
  // HF's letter and number tables, not V8's newer ones (unicode-tables.ts); computed once per code point.
  let cls = 0;
  if (inRanges(HF_LETTER_RANGES, codePoint)) cls |= LETTER;
  else if (inRanges(HF_NUMBER_RANGES, codePoint)) cls |= NUMBER;
  if (isOnigurumaSpace(codePoint)) cls |= SPACE;
  if (codePoint === 0x0a || codePoint === 0x0d) cls |= NEWLINE;
  return cls;
}

// Classes of BMP code points, computed on first sight (bit 0x80 marks "computed").
const bmpClass = new Uint8Array(65536);
for (let c = 0; c < 128; c++) bmpClass[c] = computeClass(c) | KNOWN;

function classAt(code: number): number {
  let cls = bmpClass[code];
  if (cls === 0) cls = bmpClass[code] = computeClass(code) | KNOWN;
  return cls;
}

/** Class of the code point at `i` (surrogate pairs read as one); its width is `width(text, i, end)`. */
function classOfCodePoint(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return computeAstral(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
  }
  return classAt(c);
}

const astralCache = new Map<number, number>();
function computeAstral(codePoint: number): number {
  let cls = astralCache.get(codePoint);
  if (cls === undefined) {
    cls = computeClass(codePoint);
    if (astralCache.size < 65536) astralCache.set(codePoint, cls);
  }
  return cls;
}

function width(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return 2;
  }
  return 1;
}

/** End of the run of code points having any of `mask` from i. */
function scanWhile(text: string, i: number, end: number, mask: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((bmpClass[c] & mask) === 0) break;
      i++;
    } else {
      if ((classOfCodePoint(text, i, end) & mask) === 0) break;
      i += width(text, i, end);
    }
  }
  return i;
}

/** End of the run of code points having none of `mask` (and not 0-class-excluded) from i. */
function scanUntil(text: string, i: number, end: number, mask: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((bmpClass[c] & mask) !== 0) break;
      i++;
    } else {
      if ((classOfCodePoint(text, i, end) & mask) !== 0) break;
      i += width(text, i, end);
    }
  }
  return i;
}

/** `\s+(?!\S)|\s+` at a whitespace run: all of it at the end of the text, else all but its last character when that leaves one. */
function whitespaceRun(text: string, position: number, end: number): number {
  const runEnd = scanWhile(text, position, end, SPACE);
  if (runEnd === end) return runEnd;
  return runEnd - position >= 2 ? runEnd - 1 : runEnd;
}

function lower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code === 0x17f ? 0x73 : code;
}

/** LLaMA-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
export const llama3Scanner: PieceScanner = (text, position, end) => {
  const c0 = text.charCodeAt(position);
  if (c0 === 0x27 && position + 1 < end) {
    const c1 = lower(text.charCodeAt(position + 1));
    if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) return position + 2; // 's 't 'm 'd
    if (position + 2 < end) {
      const c2 = lower(text.charCodeAt(position + 2));
      if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) return position + 3; // 're 've 'll
    }
  }
  const cls0 = c0 < 0x80 ? bmpClass[c0] : classOfCodePoint(text, position, end);
  const w0 = c0 < 0x80 ? 1 : width(text, position, end);
  if ((cls0 & (LETTER | NUMBER | NEWLINE)) === 0 && position + w0 < end && classOfCodePoint(text, position + w0, end) & LETTER) {
    return scanWhile(text, position + w0, end, LETTER);
  }
  if (cls0 & LETTER) return scanWhile(text, position, end, LETTER);
  if (cls0 & NUMBER) {
    let i = position;
    for (let k = 0; k < 3 && i < end && classOfCodePoint(text, i, end) & NUMBER; k++) i += width(text, i, end);
    return i;
  }
  let othersFrom = -1;
  if (c0 === 0x20 && position + 1 < end && (classOfCodePoint(text, position + 1, end) & (SPACE | LETTER | NUMBER)) === 0) othersFrom = position + 1;
  else if ((cls0 & (SPACE | LETTER | NUMBER)) === 0) othersFrom = position;
  if (othersFrom >= 0) {
    let i = scanUntil(text, othersFrom, end, SPACE | LETTER | NUMBER);
    while (i < end && (text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d)) i++;
    return i;
  }
  // Whitespace: \s*[\r\n]+ ends after the run's last newline, if it has one.
  const runEnd = scanWhile(text, position, end, SPACE);
  for (let i = runEnd - 1; i >= position; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i + 1;
  }
  return whitespaceRun(text, position, end);
};

/** GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
export const gpt2Scanner: PieceScanner = (text, position, end) => {
  const c0 = text.charCodeAt(position);
  if (c0 === 0x27 && position + 1 < end) {
    const c1 = text.charCodeAt(position + 1);
    if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) return position + 2;
    if (position + 2 < end) {
      const c2 = text.charCodeAt(position + 2);
      if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) return position + 3;
    }
  }
  let from = position;
  let cls = c0 < 0x80 ? bmpClass[c0] : classOfCodePoint(text, position, end);
  if (c0 === 0x20 && position + 1 < end) {
    const next = classOfCodePoint(text, position + 1, end);
    if ((next & SPACE) === 0) {
      from = position + 1;
      cls = next;
    }
  }
  if (cls & LETTER) return scanWhile(text, from, end, LETTER);
  if (cls & NUMBER) return scanWhile(text, from, end, NUMBER);
  if ((cls & SPACE) === 0) return scanUntil(text, from, end, SPACE | LETTER | NUMBER);
  return whitespaceRun(text, position, end);
};
