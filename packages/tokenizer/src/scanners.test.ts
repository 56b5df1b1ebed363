// The hand-written split scanners must cut text exactly where the translated
// RegExp does (the RegExp itself is checked against HF's Rust crate through the
// encoders in byte-level-bpe.test.ts).
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../bench/corpus.mjs';
import { GPT2_SPLIT_PATTERN, LLAMA3_SPLIT_PATTERN, translateOnigurumaPattern } from './regex.js';
import { gpt2Scanner, llama3Scanner, type PieceScanner } from './scanners.js';
import { edgeTexts } from './testing/oracle.js';

function regexPieces(pattern: string, text: string): string[] {
  return text.match(new RegExp(translateOnigurumaPattern(pattern), 'gu')) ?? [];
}

function scannerPieces(scanner: PieceScanner, text: string): string[] {
  const pieces: string[] = [];
  for (let position = 0; position < text.length; ) {
    const next = scanner(text, position, text.length);
    pieces.push(text.slice(position, next));
    position = next;
  }
  return pieces;
}

// Characters from every class the patterns distinguish, to build adversarial strings.
const pool = [
  ' ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\u00a0', '\u0085', '\u3000', '\u2028', '\ufeff', '\u180e',
  "'", "'s", "'S", "'ſ", "'re", "'RE", "'ll", "'Ll", "'ve", "'d", "'m", "'t", "'x",
  'a', 'Z', 'é', 'ß', 'ſ', 'Ж', '中', 'ا', 'ᄀ', '𝔘', '😀', '👍🏽',
  '0', '7', '½', '٣', '𝟙', 'Ⅻ',
  '.', ',', '!', '?', '(', ')', '-', '_', '$', '%', '€', '→', '\u0301', '\ud800', '\udc00',
];

function randomTexts(count: number, seed: number): string[] {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const texts: string[] = [];
  for (let t = 0; t < count; t++) {
    let text = '';
    const length = 1 + Math.floor(random() * 40);
    for (let i = 0; i < length; i++) text += pool[Math.floor(random() * pool.length)];
    texts.push(text);
  }
  return texts;
}

const corpus = buildCorpus(1_500_000, { maxDocumentChars: 40_000 }).documents.map((d) => d.text);

describe.each([
  ['LLaMA-3', LLAMA3_SPLIT_PATTERN, llama3Scanner],
  ['GPT-2', GPT2_SPLIT_PATTERN, gpt2Scanner],
] as const)('%s scanner', (_name, pattern, scanner) => {
  it('splits real text exactly like the RegExp', () => {
    for (const text of [...corpus, ...edgeTexts]) {
      const expected = regexPieces(pattern, text);
      const actual = scannerPieces(scanner, text);
      if (actual.join('\u0000') !== expected.join('\u0000')) expect(actual).toEqual(expected);
    }
  });

  it('splits 20,000 adversarial strings exactly like the RegExp', () => {
    let compared = 0;
    for (const text of randomTexts(20_000, pattern.length)) {
      const expected = regexPieces(pattern, text);
      if (expected.join('') !== text) continue; // only compare where the RegExp covers every character
      compared++;
      const actual = scannerPieces(scanner, text);
      if (actual.join('\u0000') !== expected.join('\u0000')) expect({ text, actual }).toEqual({ text, actual: expected });
    }
    expect(compared).toBe(20_000);
  });
});
