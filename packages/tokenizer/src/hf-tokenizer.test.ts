// Formats outside the fast path go through @huggingface/tokenizers; checked
// against HF's Rust tokenizers on tokenizers the oracle itself builds and saves.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from '../bench/corpus.mjs';
import { HuggingFaceTokenizer, loadHfTokenizer, type Tokenizer } from './index.js';
import { llama3Oracle, llama3TokenizerJson, native, tempDir, toCodePointOffsets, type NativeTokenizer } from './testing/oracle.js';

let dir: string;
let bertFile: string;
let bertOracle: NativeTokenizer;
const corpus = buildCorpus(250_000, { maxDocumentChars: 12_000 });

const words = ['the', 'quick', 'brown', 'fox', 'jump', 'over', 'lazy', 'dog', 'license', 'software', 'free', 'use', 'copy', 'modify', 'a', 'of', 'to', 'and', 'in', 'is'];

beforeAll(async () => {
  dir = tempDir();
  // A BERT-style WordPiece tokenizer: vocab from words, sub-words and characters.
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const token of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) vocab[token] = next++;
  for (const word of words) vocab[word] = next++;
  for (const suffix of ['s', 'ed', 'ing', 'er', 'ly']) vocab[`##${suffix}`] = next++;
  for (let c = 33; c < 127; c++) {
    const ch = String.fromCharCode(c).toLowerCase();
    if (vocab[ch] === undefined) vocab[ch] = next++;
    if (vocab[`##${ch}`] === undefined) vocab[`##${ch}`] = next++;
  }
  const tokenizer = new native.Tokenizer(native.WordPiece.init(vocab, { unkToken: '[UNK]' }));
  tokenizer.setNormalizer(native.bertNormalizer({ lowercase: true }));
  tokenizer.setPreTokenizer(native.bertPreTokenizer());
  tokenizer.setPostProcessor(native.bertProcessing(['[SEP]', 3], ['[CLS]', 2]));
  tokenizer.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  bertFile = path.join(dir, 'bert', 'tokenizer.json');
  fs.mkdirSync(path.dirname(bertFile));
  tokenizer.save(bertFile);
  fs.writeFileSync(path.join(dir, 'bert', 'tokenizer_config.json'), JSON.stringify({ cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }));
  bertOracle = native.Tokenizer.fromFile(bertFile);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('WordPiece through @huggingface/tokenizers', () => {
  let bert: Tokenizer;
  beforeAll(() => {
    bert = loadHfTokenizer(bertFile);
  });

  it('is not fast-pathed, and says why', () => {
    expect(bert.kind).toBe('huggingface');
    expect((bert as HuggingFaceTokenizer).fastPathRejection).toBe('model type WordPiece');
    expect(bert.specialTokens.cls).toEqual({ token: '[CLS]', id: 2 });
    expect(bert.specialTokens.mask).toEqual({ token: '[MASK]', id: 4 });
  });

  it("gives the oracle's ids and special-token mask on real text", async () => {
    const texts = corpus.documents.map((d) => d.text.normalize('NFC').replace(/[^\x00-\x7f]/g, ' '));
    const reference = await bertOracle.encodeBatch(texts, { addSpecialTokens: true });
    for (let i = 0; i < texts.length; i++) {
      const encoding = bert.encode(texts[i]);
      expect(Array.from(encoding.ids).join(',')).toBe(reference[i].getIds().join(','));
      expect(Array.from(encoding.specialTokensMask).join('')).toBe(reference[i].getSpecialTokensMask().join(''));
    }
  });

  it("aligns offsets with the oracle's on plain text", async () => {
    for (const text of ['The quick brown fox jumped over the lazy dogs.', 'Free software: use, copy, modify (quickly)!', 'Hello xyz world']) {
      const encoding = bert.encode(text);
      const reference = await bertOracle.encode(text, null, { addSpecialTokens: true });
      expect(toCodePointOffsets(text, encoding.offsets)).toEqual(reference.getOffsets());
    }
  });

  it('encodes pairs with the template and type ids of the oracle', async () => {
    const encoding = bert.encode('the fox', { pair: 'a lazy dog' });
    const reference = await bertOracle.encode('the fox', 'a lazy dog', { addSpecialTokens: true });
    expect(Array.from(encoding.ids)).toEqual(reference.getIds());
    expect(Array.from(encoding.typeIds)).toEqual(reference.getTypeIds());
    expect(Array.from(encoding.sequenceIds)).toEqual([-1, 0, 0, -1, 1, 1, 1, -1]);
    expect(encoding.offsets.slice(4, 7)).toEqual([
      [0, 1],
      [2, 6],
      [7, 10],
    ]);
  });

  it('decodes like the oracle', async () => {
    const ids = bert.encode('The foxes jumped quickly over lazy dogs').ids;
    expect(bert.decode(ids)).toBe(await bertOracle.decode(Array.from(ids), false));
    expect(bert.decode(ids, { skipSpecialTokens: true })).toBe(await bertOracle.decode(Array.from(ids), true));
  });

  it('adds special tokens by rebuilding, keeping the old tokenizer intact on failure', () => {
    const size = bert.vocabSize;
    bert.addSpecialTokens([['[NEW]', size]], { eos: '[NEW]' });
    expect(bert.tokenToId('[NEW]')).toBe(size);
    expect(bert.specialTokens.eos).toEqual({ token: '[NEW]', id: size });
    const encoding = bert.encode('the [NEW] fox', { addSpecialTokens: false });
    expect(Array.from(encoding.ids)).toEqual([bert.tokenToId('the'), size, bert.tokenToId('fox')]);
    expect(() => bert.addSpecialTokens([['[NEWER]', size]])).toThrow(/already belongs/);
    expect(bert.vocabSize).toBe(size + 1);
  });
});

describe('LLaMA-3 forced through @huggingface/tokenizers', () => {
  it('agrees with the oracle and with the fast path', async () => {
    const slow = loadHfTokenizer(llama3TokenizerJson, { forceHuggingFace: true });
    const fast = loadHfTokenizer(llama3TokenizerJson);
    const oracle = llama3Oracle();
    expect(slow.kind).toBe('huggingface');
    const texts = corpus.documents.slice(0, 12).map((d) => d.text);
    const reference = await oracle.encodeBatch(texts, { addSpecialTokens: true });
    for (let i = 0; i < texts.length; i++) {
      const ids = Array.from(slow.encode(texts[i]).ids).join(',');
      expect(ids).toBe(reference[i].getIds().join(','));
      expect(ids).toBe(Array.from(fast.encode(texts[i]).ids).join(','));
    }
    const pair = slow.encode('first part', { pair: 'second part' });
    const pairReference = await oracle.encode('first part', 'second part', { addSpecialTokens: true });
    expect(Array.from(pair.ids)).toEqual(pairReference.getIds());
    expect(Array.from(pair.typeIds)).toEqual(pairReference.getTypeIds());
    const text = "Hi there, it's <|eot_id|> fine";
    expect(toCodePointOffsets(text, slow.encode(text).offsets)).toEqual((await oracle.encode(text)).getOffsets());
  });
});

describe('SentencePiece-style BPE (Metaspace) through @huggingface/tokenizers', () => {
  it("gives the oracle's ids, decodes like it and aligns offsets on plain text", async () => {
    // Vocab: characters, then merges built from frequent pairs of a small text.
    const chars = [...new Set('▁abcdefghijklmnopqrstuvwxyzTHE.,'.split(''))];
    const vocab: Record<string, number> = { '<unk>': 0 };
    for (const c of chars) vocab[c] = Object.keys(vocab).length;
    const merges: Array<[string, string]> = [
      ['▁', 't'],
      ['h', 'e'],
      ['▁t', 'he'],
      ['▁', 'a'],
      ['i', 'n'],
      ['▁', 'f'],
      ['o', 'x'],
      ['▁f', 'ox'],
    ];
    for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
    const tokenizer = new native.Tokenizer(native.BPE.init(vocab, merges, { unkToken: '<unk>' }));
    tokenizer.setPreTokenizer(native.metaspacePreTokenizer());
    tokenizer.setDecoder(native.metaspaceDecoder());
    const file = path.join(dir, 'spm', 'tokenizer.json');
    fs.mkdirSync(path.dirname(file));
    tokenizer.save(file);
    const ours = loadHfTokenizer(file);
    expect(ours.kind).toBe('huggingface');
    for (const text of ['the fox in a tent', 'a fine fox, the end.', 'THE fox']) {
      const encoding = ours.encode(text);
      const reference = await tokenizer.encode(text, null, { addSpecialTokens: true });
      expect(Array.from(encoding.ids)).toEqual(reference.getIds());
      expect(ours.decode(encoding.ids)).toBe(await tokenizer.decode(reference.getIds(), false));
      // Alignment is exact where each token's text appears in the input; a lone '▁' that stands
      // for no input character (before 'THE') is where it and HF differ.
      if (text !== 'THE fox') expect(toCodePointOffsets(text, encoding.offsets)).toEqual(reference.getOffsets());
    }
  });
});
