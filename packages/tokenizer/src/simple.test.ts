// The simple tokenizer against HF's WordLevel model + Whitespace pre-tokenizer.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from '../bench/corpus.mjs';
import { createSimpleTokenizer, getSpecialTokenId, type Tokenizer } from './index.js';
import { native, toCodePointOffsets, type NativeTokenizer } from './testing/oracle.js';

const corpus = buildCorpus(300_000, { maxDocumentChars: 15_000 });
let simple: Tokenizer;
let oracle: NativeTokenizer;
let vocab: Record<string, number>;

beforeAll(() => {
  // The 3,000 most frequent words of part of the corpus (the rest stays unknown).
  const counts = new Map<string, number>();
  for (const document of corpus.documents.slice(0, 30)) {
    for (const word of document.text.match(/[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3000);
  vocab = { '<unk>': 0 };
  top.forEach(([word], i) => (vocab[word] = i + 1));
  simple = createSimpleTokenizer(vocab);
  oracle = new native.Tokenizer(native.WordLevel.init(vocab, { unkToken: '<unk>' }));
  oracle.setPreTokenizer(native.whitespacePreTokenizer());
});

describe('simple tokenizer', () => {
  it("gives the oracle's ids, tokens and offsets on real text", async () => {
    const texts = corpus.documents.map((d) => d.text);
    const reference = await oracle.encodeBatch(texts, { addSpecialTokens: true });
    let unknown = 0;
    for (let i = 0; i < texts.length; i++) {
      const encoding = simple.encode(texts[i]);
      expect(Array.from(encoding.ids).join(',')).toBe(reference[i].getIds().join(','));
      expect(JSON.stringify(toCodePointOffsets(texts[i], encoding.offsets))).toBe(JSON.stringify(reference[i].getOffsets()));
      unknown += Array.from(encoding.ids).filter((id) => id === 0).length;
    }
    expect(unknown).toBeGreaterThan(0);
  });

  it('decodes by joining words with spaces, like WordLevel without a decoder', async () => {
    const ids = simple.encode('The license, and the software.').ids;
    expect(simple.decode(ids)).toBe(await oracle.decode(Array.from(ids), false));
  });

  it('accepts a word list or a Map, and adds <unk> when missing', () => {
    const fromList = createSimpleTokenizer(['hello', 'world']);
    expect(fromList.tokenToId('<unk>')).toBe(2);
    expect(Array.from(fromList.encode('hello there world').ids)).toEqual([0, 2, 1]);
    expect(fromList.specialTokens.unk).toEqual({ token: '<unk>', id: 2 });
    const fromMap = createSimpleTokenizer(new Map([['<unk>', 5], ['a', 0]]));
    expect(Array.from(fromMap.encode('a b').ids)).toEqual([0, 5]);
    const custom = createSimpleTokenizer(['[UNK]', 'x'], { unkToken: '[UNK]' });
    expect(Array.from(custom.encode('x y').ids)).toEqual([1, 0]);
  });

  it('matches added special tokens whole, before splitting words', () => {
    const tokenizer = createSimpleTokenizer(['<unk>', 'hi']);
    tokenizer.addSpecialTokens([['[SEP]', 2]], { sep: '[SEP]' });
    const encoding = tokenizer.encode('hi[SEP]hi');
    expect(Array.from(encoding.ids)).toEqual([1, 2, 1]);
    expect(encoding.offsets).toEqual([
      [0, 2],
      [2, 7],
      [7, 9],
    ]);
    expect(getSpecialTokenId(tokenizer, '[SEP]')).toBe(2);
    expect(getSpecialTokenId(tokenizer, 'hi')).toBeUndefined();
    expect(tokenizer.decode(encoding.ids, { skipSpecialTokens: true })).toBe('hi hi');
  });

  it('encodes pairs with type ids 0 and 1', () => {
    const encoding = simple.encode('the license', { pair: 'the software' });
    expect(Array.from(encoding.typeIds)).toEqual([0, 0, 1, 1]);
    expect(encoding.offsets[2]).toEqual([0, 3]);
  });
});
