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

  it('applies the pair template around an empty pair, as the oracle does', async () => {
    for (const [text, pair] of [
      ['the fox', ''],
      ['', ''],
      ['', 'a lazy dog'],
      ['Hello, world!', '   '],
    ] as const) {
      const encoding = bert.encode(text, { pair });
      const reference = await bertOracle.encode(text, pair, { addSpecialTokens: true });
      expect(Array.from(encoding.ids)).toEqual(reference.getIds());
      expect(Array.from(encoding.typeIds)).toEqual(reference.getTypeIds());
      expect(Array.from(encoding.specialTokensMask)).toEqual(reference.getSpecialTokensMask());
      expect(encoding.offsets).toEqual(reference.getOffsets()); // ASCII: UTF-16 and code point offsets agree
    }
    const batch = await bert.encodeBatch(['the fox', 'a dog'], { pairs: ['', ''] });
    expect(Array.from(batch[1].ids)).toEqual((await bertOracle.encode('a dog', '', { addSpecialTokens: true })).getIds());
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

describe('Unigram with a Metaspace pre-tokenizer through @huggingface/tokenizers', () => {
  it("gives the oracle's ids and offsets, the prepended '▁' spanning the first character", async () => {
    const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    const pieces = ['▁the', '▁fox', 'fox', 'ju', 'mp', '▁a', 'he', 'llo', 'wor', 'ld'];
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(0, '<unk>'), special(1, '</s>')],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
      },
      decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
      model: {
        type: 'Unigram',
        unk_id: 0,
        byte_fallback: false,
        vocab: [['<unk>', 0], ['</s>', 0], ['\u2581', -2], ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => [c, -5]), ...pieces.map((p, i) => [p, -3 - i / 10])],
      },
    };
    const file = path.join(dir, 'unigram.tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(json));
    const ours = loadHfTokenizer(file, { config: {} });
    expect(ours.kind).toBe('huggingface');
    const oracle = native.Tokenizer.fromFile(file);
    for (const [text, pair] of [
      ['Hello, world!', undefined],
      ['the fox jumps', undefined],
      [' the fox', undefined],
      ['a', 'hello world'],
      ['xyz, fox', ' the'],
    ] as Array<[string, string | undefined]>) {
      const encoding = ours.encode(text, pair === undefined ? {} : { pair });
      const reference = await oracle.encode(text, pair ?? null, { addSpecialTokens: true });
      expect(Array.from(encoding.ids)).toEqual(reference.getIds());
      expect(encoding.offsets).toEqual(reference.getOffsets()); // ASCII: UTF-16 and code point offsets agree
    }
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

describe('@huggingface/tokenizers path: offsets, masks and files the oracle reads differently (audit cases)', () => {
  /** A tokenizer.json written to disk (the oracle reads files). */
  const write = (name: string, json: object): string => {
    const file = path.join(dir, name, 'tokenizer.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  };
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const compare = async (file: string, texts: string[], pair?: string) => {
    const ours = loadHfTokenizer(file);
    const oracle = native.Tokenizer.fromFile(file);
    for (const text of texts) {
      const mine = ours.encode(text, pair === undefined ? {} : { pair });
      const reference = await oracle.encode(text, pair ?? null, { addSpecialTokens: true });
      const what = JSON.stringify(text);
      expect(Array.from(mine.ids), what).toEqual(reference.getIds());
      expect(Array.from(mine.specialTokensMask), what).toEqual(reference.getSpecialTokensMask());
      expect(Array.from(mine.typeIds), what).toEqual(reference.getTypeIds());
      expect(Array.from(mine.sequenceIds), what).toEqual(reference.getSequenceIds().map((s) => s ?? -1));
      const sequences = reference.getSequenceIds();
      const offsets = mine.offsets.map(([s, e], i) => toCodePointOffsets(sequences[i] === 1 ? pair! : text, [[s, e]])[0]);
      expect(offsets, what).toEqual(reference.getOffsets());
    }
  };

  it('WordPiece with accents stripped and unknown words: one unaligned token no longer empties the spans after it', async () => {
    const vocab: Record<string, number> = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2 };
    for (const token of ['cafe', 'au', 'lait', 'is', 'nice', '.', ',', 'x', 'hello', '##s']) vocab[token] = Object.keys(vocab).length;
    const file = write('wordpiece-accents', {
      version: '1.0', truncation: null, padding: null, added_tokens: [special(0, '[UNK]'), special(1, '[CLS]'), special(2, '[SEP]')],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    });
    // "Café" lowercased and stripped is "cafe", not in the text; ☃ and 标点 are unknown; "[CLS]" typed in the text.
    await compare(file, ['Café au lait is nice.', '☃, x', 'CAFÉ au LAIT', 'x 标点 x', '[CLS] hello', 'hellos is nice'], 'Au lait, x.');
  });

  it('byte fallback (LLaMA-2 style): newline and emoji pieces get their characters, later tokens keep theirs; lone surrogates read as U+FFFD', async () => {
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = Object.keys(vocab).length;
    for (const token of ['▁', 'o', 'n', 'e', 't', 'w', 'h', 'r', '▁o', '▁t', '▁one', '▁two', '▁three', '▁fun', 'f', 'u', '▁f']) vocab[token] = Object.keys(vocab).length;
    const merges = [['▁', 'o'], ['▁', 't'], ['▁o', 'n'], ['▁on', 'e'], ['▁t', 'w'], ['▁tw', 'o'], ['▁t', 'h'], ['▁th', 'r'], ['▁thr', 'e'], ['▁thre', 'e'], ['▁', 'f'], ['▁f', 'u'], ['▁fu', 'n']];
    for (const [a, b] of merges) vocab[a! + b!] ??= Object.keys(vocab).length;
    const file = write('byte-fallback', {
      version: '1.0', truncation: null, padding: null, added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
    });
    // The special mask and sequence ids go to the inserted <s>, not to the one typed in the text.
    await compare(file, ['one\ntwo three', 'one 👨‍👩‍👧 fun', '<s>one', '<s><s></s>', ' one', '  two', '\n', ' ', 'one  two']);
    const ours = loadHfTokenizer(file);
    expect(Array.from(ours.encode('one \ud800 two').ids)).toEqual(Array.from(ours.encode('one \ufffd two').ids));
  });

  it('RoBERTa post-processing: trimmed offsets and type id 0 for both sequences', async () => {
    const vocab: Record<string, number> = { '<s>': 0, '</s>': 1 };
    for (const token of ['H', 'e', 'l', 'o', 'w', 'r', 'd', '!', 'Ġ', 'He', 'll', 'Hell', 'Hello', 'Ġw', 'or', 'Ġwor', 'ld', 'Ġworld', 'Ġ!']) vocab[token] = Object.keys(vocab).length;
    const merges = ['H e', 'l l', 'He ll', 'Hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'Ġ !'];
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const file = write('roberta', {
      version: '1.0', truncation: null, padding: null, added_tokens: [special(0, '<s>'), special(1, '</s>')],
      normalizer: { type: 'NFC' }, pre_tokenizer: byteLevel, decoder: byteLevel,
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 1], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
    });
    expect(loadHfTokenizer(file).kind).toBe('huggingface');
    await compare(file, ['Hello world  !', 'Hello'], 'world !');
  });

  it('WordLevel: an unknown word is the unknown token (it was id 0, the first word of the vocabulary)', async () => {
    const file = write('wordlevel', {
      version: '1.0', truncation: null, padding: null, added_tokens: [special(2, '[UNK]')],
      normalizer: null, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null,
      model: { type: 'WordLevel', vocab: { a: 0, b: 1, '[UNK]': 2 }, unk_token: '[UNK]' },
    });
    await compare(file, ['a hello b', 'b a', 'zz']);
  });

  it('refuses files HF refuses (a merge outside the vocabulary, a BPE list vocabulary) and Unigram byte fallback, which the library cannot run', () => {
    const bpe = (vocab: unknown, merges: unknown) => write(`bad-bpe-${Math.random().toString(36).slice(2)}`, {
      version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: { type: 'NFC' }, pre_tokenizer: null, post_processor: null, decoder: null,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges },
    });
    expect(() => loadHfTokenizer(bpe({ a: 0, b: 1, ab: 2 }, ['a c']))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining('uses "c", which is not in the vocabulary') }));
    expect(() => loadHfTokenizer(bpe({ a: 0, b: 1 }, ['a b']))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining('uses "ab"') }));
    expect(() => loadHfTokenizer(bpe([['a', 0]], []))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT' }));
    const unigram = write('unigram-byte-fallback', {
      version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, post_processor: null, decoder: null,
      model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁a', -1], ['<0x41>', -5]], byte_fallback: true },
    });
    expect(() => loadHfTokenizer(unigram)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED', message: expect.stringContaining('byte_fallback') }));
  });
});
