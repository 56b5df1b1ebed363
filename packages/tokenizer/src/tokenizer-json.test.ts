// Added-token ids follow HF's AddedVocabulary numbering (the model's id for text it has, else the
// next id in sequence), not the ids written in tokenizer.json: checked against the oracle on both paths.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHfTokenizer } from './index.js';
import { llama3TokenizerJson, native, tempDir } from './testing/oracle.js';

type Json = Record<string, any>;

const token = (id: number, content: string, special = true) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special });

/** Extra added_tokens entries after the file's own, with ids counted from the model's `size`. */
const cases = (size: number, inVocab: string): Array<[string, Json[]]> => [
  ['a token the model has, listed first', [token(size, inVocab), token(size + 1, '<new>')]],
  ['a gap in the listed ids', [token(size + 44, '<new>')]],
  ['listed ids out of order', [token(size + 1, '<b>'), token(size, '<a>')]],
  ['a listed id inside the model vocab', [token(5, '<low>')]],
  ['the same text twice', [token(size, '<a>'), token(size + 1, '<b>'), token(size + 2, '<a>', false)]],
  ['the same text twice, special second', [token(size, '<a>', false), token(size + 1, '<a>')]],
  ['an empty token', [token(size, ''), token(size + 1, '<a>')]],
];

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function expectOracleIds(json: Json, name: string, text: string, kind: string, compareDecode = false): Promise<void> {
  const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(json));
  const oracle = native.Tokenizer.fromFile(file);
  const ours = loadHfTokenizer(file, { config: {} });
  expect(ours.kind).toBe(kind);
  const ids = (t: { tokenToId(x: string): number | null | undefined }) => ['<new>', '<a>', '<b>', '<low>', ''].map((x) => t.tokenToId(x) ?? null);
  expect({ name, ids: ids(ours), vocabSize: ours.vocabSize, encoded: Array.from(ours.encode(text).ids) }).toEqual({
    name,
    ids: ids(oracle),
    vocabSize: oracle.getVocabSize(true),
    encoded: (await oracle.encode(text, null, { addSpecialTokens: true })).getIds(),
  });
  if (compareDecode) {
    // Which of them are special (skipped): a text listed twice is special if either entry is.
    const ids = Array.from(ours.encode(text).ids);
    expect({ name, decoded: ours.decode(ids, { skipSpecialTokens: true }) }).toEqual({ name, decoded: await oracle.decode(ids, true) });
  }
}

describe('added-token ids', () => {
  it('follow the oracle on the fast path (LLaMA-3 tokenizer.json + extra added tokens)', async () => {
    const base = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8')) as Json;
    for (const [name, extra] of cases(128256, 'hello')) {
      const json = { ...base, added_tokens: [...base.added_tokens, ...extra] };
      await expectOracleIds(json, `fast ${name}`, 'x<a>y<b><new><low> hello', 'byte-level-bpe', true);
    }
  });

  it('follow the oracle through @huggingface/tokenizers (WordPiece)', async () => {
    const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3, world: 4, x: 5, y: 6 };
    const base = {
      version: '1.0',
      added_tokens: [token(0, '[UNK]'), token(1, '[CLS]'), token(2, '[SEP]')],
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    };
    for (const [name, extra] of cases(7, 'hello')) {
      await expectOracleIds({ ...base, added_tokens: [...base.added_tokens, ...extra] }, `wordpiece ${name}`, 'x <a> y <b> <new> <low> hello', 'huggingface');
    }
  });
});
