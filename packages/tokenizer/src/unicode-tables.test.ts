// The letter/number tables are HF's (read back from the oracle here), and with them the split agrees with
// HF on every code point V8 classes otherwise: the hand-written scanners (LLaMA-3, GPT-2) and a pattern
// that runs as a translated RegExp.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBpeTokenizer, loadHfTokenizer, type Tokenizer } from './index.js';
import { ENCODED_TABLES, HF_LETTER_RANGES, HF_NUMBER_RANGES, NEWER_IN_V8_RANGES, inRanges } from './unicode-tables.js';
import { gpt2MergesTxt, gpt2Oracle, gpt2VocabJson, llama3Oracle, llama3TokenizerJson, native, tempDir, type NativeTokenizer } from './testing/oracle.js';
import { encodeRanges, oracleRanges } from './testing/unicode.js';

/** Code points where V8's \p{L} / \p{N} and HF's tables disagree (either way). */
function disagreements(): number[] {
  const letter = /\p{L}/u;
  const number = /\p{N}/u;
  const out: number[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const char = String.fromCodePoint(cp);
    if (letter.test(char) !== inRanges(HF_LETTER_RANGES, cp) || number.test(char) !== inRanges(HF_NUMBER_RANGES, cp)) out.push(cp);
  }
  return out;
}

async function expectSameIds(ours: Tokenizer, oracle: NativeTokenizer, texts: string[]): Promise<void> {
  const reference = await oracle.encodeBatch(texts, { addSpecialTokens: false });
  texts.forEach((text, i) => {
    const ids = Array.from(ours.encode(text, { addSpecialTokens: false }).ids);
    if (ids.join() !== reference[i].getIds().join()) expect({ text, ids }).toEqual({ text, ids: reference[i].getIds() });
  });
}

describe("HF's Unicode letter and number tables", () => {
  let differing: number[];
  beforeAll(() => {
    differing = disagreements();
  });

  it('are the ones the oracle uses, code point for code point', async () => {
    const letters = encodeRanges(await oracleRanges('L'));
    const numbers = encodeRanges(await oracleRanges('N'));
    // On a mismatch the message holds the strings to paste into unicode-tables.ts.
    expect(letters, 'LETTERS').toBe(ENCODED_TABLES.L);
    expect(numbers, 'NUMBERS').toBe(ENCODED_TABLES.N);
  });

  it('list in NEWER_IN_V8 every character this V8 classes otherwise, all of them letters or numbers that HF leaves out', () => {
    const missing = differing.filter((cp) => !inRanges(NEWER_IN_V8_RANGES, cp));
    expect(missing.map((cp) => cp.toString(16))).toEqual([]);
    for (let i = 0; i < NEWER_IN_V8_RANGES.length; i += 2) {
      for (let cp = NEWER_IN_V8_RANGES[i]; cp <= NEWER_IN_V8_RANGES[i + 1]; cp++) {
        if (inRanges(HF_LETTER_RANGES, cp) || inRanges(HF_NUMBER_RANGES, cp)) expect.fail(`U+${cp.toString(16)} is a letter or number for HF`);
      }
    }
  });

  it('give the oracle’s ids where V8 classes a character otherwise (scanners and translated RegExp)', async () => {
    // Node 20's V8 knows Unicode 17; on a V8 with HF's Unicode version the list is empty and this checks nothing new.
    if (/\p{L}/u.test('\u{31350}')) expect(differing.length).toBeGreaterThan(4000); // CJK Extension J (Unicode 17)
    const texts = differing.flatMap((cp) => {
      const c = String.fromCodePoint(cp);
      return [`:${c},s 1${c}23`, ` x${c}y`, `${c}${c}'s 12${c}3`];
    });
    texts.push('plain text, 123 and 4567: ok');
    await expectSameIds(loadHfTokenizer(llama3TokenizerJson), llama3Oracle(), texts); // LLaMA-3 scanner
    await expectSameIds(createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt), await gpt2Oracle(), texts); // GPT-2 scanner
    // Qwen2's pattern (\p{N} alone, not \p{N}{1,3}) has no scanner: it runs as the translated RegExp.
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    const split = json.pre_tokenizer.pretokenizers[0];
    split.pattern.Regex = split.pattern.Regex.replace('\\p{N}{1,3}', '\\p{N}');
    const folder = tempDir();
    const file = path.join(folder, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(json));
    const regexPath = loadHfTokenizer(file, { config: {} });
    const oracle = native.Tokenizer.fromFile(file);
    fs.rmSync(folder, { recursive: true, force: true });
    expect(regexPath.kind).toBe('byte-level-bpe');
    await expectSameIds(regexPath, oracle, texts);
  });
});
