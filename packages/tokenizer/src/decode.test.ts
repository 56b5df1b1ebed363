// Decoding: exact by default (no clean-up, unlike @huggingface/tokenizers with
// LLaMA-3's config), clean-up only on request, round-trip validation, and
// streaming decode that never splits a character.
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import fs from 'node:fs';
import { buildCorpus } from '../bench/corpus.mjs';
import { cleanUpTokenizationSpaces, createSimpleTokenizer, loadHfTokenizer, tokenizerFromJson, validateRoundTrip, type Tokenizer } from './index.js';
import { edgeTexts, llama3Oracle, llama3TokenizerConfig, llama3TokenizerJson, type NativeTokenizer } from './testing/oracle.js';

let llama: Tokenizer;
let llamaViaHfJs: Tokenizer;
let oracle: NativeTokenizer;
const corpus = buildCorpus(400_000, { maxDocumentChars: 20_000 });

beforeAll(() => {
  llama = loadHfTokenizer(llama3TokenizerJson);
  llamaViaHfJs = loadHfTokenizer(llama3TokenizerJson, { forceHuggingFace: true });
  oracle = llama3Oracle();
});

function streamDecode(tokenizer: Tokenizer, ids: ArrayLike<number>, options = {}): string[] {
  const stream = tokenizer.createDecodeStream(options);
  const pieces: string[] = [];
  for (let i = 0; i < ids.length; i++) pieces.push(stream.push(ids[i]));
  pieces.push(stream.flush());
  return pieces;
}

describe('exact decode', () => {
  const tricky = "Hello , world . Is n't it ? Yes ! I 'm sure they 're done , we 've seen it 's fine .";

  it('reproduces spacing that clean_up_tokenization_spaces would remove', async () => {
    const ids = llama.encode(tricky).ids;
    expect(llama.decode(ids)).toBe(tricky);
    expect(llama.decode(ids)).toBe(await oracle.decode(Array.from(ids), false));
    // Plain @huggingface/tokenizers applies LLaMA-3's clean_up_tokenization_spaces: true.
    const plain = new HfJsTokenizer(JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8')), JSON.parse(fs.readFileSync(llama3TokenizerConfig, 'utf8')));
    expect(plain.decode(Array.from(ids))).not.toBe(tricky);
    // Our wrapper around it does not.
    expect(llamaViaHfJs.decode(ids)).toBe(tricky);
  });

  it('applies the clean-up only as an explicit option, identically on every path', () => {
    const ids = llama.encode(tricky).ids;
    const cleaned = "Hello, world. Isn't it? Yes! I'm sure they're done, we've seen it's fine.";
    expect(cleanUpTokenizationSpaces(tricky)).toBe(cleaned);
    expect(llama.decode(ids, { cleanUpTokenizationSpaces: true })).toBe(cleaned);
    expect(llamaViaHfJs.decode(ids, { cleanUpTokenizationSpaces: true })).toBe(cleaned);
  });

  it('validates round trips and points at the first difference', () => {
    for (const document of corpus.documents) expect(validateRoundTrip(llama, document.text).ok).toBe(true);
    const report = validateRoundTrip(llama, 'ok \ud800 lone');
    expect(report.ok).toBe(false);
    expect(report.firstMismatch).toBe(3);
    expect(report.decoded).toBe('ok \ufffd lone');
    const simple = createSimpleTokenizer(['<unk>', 'a', 'b']);
    const lossy = validateRoundTrip(simple, 'a  b c');
    expect(lossy).toMatchObject({ ok: false, decoded: 'a b <unk>', firstMismatch: 2 });
  });

  it('decodes the empty id list to the empty string', () => {
    expect(llama.decode([])).toBe('');
    expect(llamaViaHfJs.decode([])).toBe('');
  });
});

describe('streaming decode', () => {
  it('joins to the full decode and never emits part of a character (byte-level)', () => {
    for (const text of [...edgeTexts, ...corpus.documents.slice(0, 40).map((d) => d.text)]) {
      const ids = llama.encode(text).ids;
      const pieces = streamDecode(llama, ids);
      expect(pieces.join('')).toBe(llama.decode(ids));
      const clean = !text.includes('\ufffd') && !/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
      // A lone surrogate, or a replacement character where the text had none, would mean a split character.
      const split = pieces.filter((piece) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(piece) || (clean && piece.includes('\ufffd')));
      expect(split).toEqual([]);
    }
  });

  it('holds back the bytes of a split character until it completes', () => {
    // '😀' is four bytes; LLaMA-3 splits this run into several tokens, each part of a character.
    const ids = llama.encode('😀😀😀').ids;
    const stream = llama.createDecodeStream();
    const outputs = Array.from(ids, (id) => stream.push(id));
    expect(outputs.join('') + stream.flush()).toBe('😀😀😀');
    expect(outputs.filter((p) => p === '').length).toBeGreaterThan(0);
    for (const piece of outputs) expect(['', '😀', '😀😀', '😀😀😀']).toContain(piece);
  });

  it('flushes an incomplete character as U+FFFD and starts over', () => {
    const bytes = llama.encode('é').ids; // one token, two bytes
    expect(bytes.length).toBe(1);
    const partial = llama.tokenToId('Ã') as number; // byte 0xC3 alone
    const stream = llama.createDecodeStream();
    expect(stream.push(partial)).toBe('');
    expect(stream.flush()).toBe('\ufffd');
    expect(stream.push(bytes[0])).toBe('é');
  });

  it('keeps U+FEFF at the start and after a flush, as the oracle decodes it', async () => {
    const stream = llama.createDecodeStream();
    for (const text of ['\ufeffHello', 'a\ufeff', '\ufeffy']) {
      const ids = llama.encode(text, { addSpecialTokens: false }).ids;
      let streamed = '';
      for (const id of ids) streamed += stream.push(id);
      streamed += stream.flush(); // the same stream goes on: a fresh decoder after every flush
      expect(streamed).toBe(await oracle.decode(Array.from(ids), false));
      expect(streamed).toBe(text);
    }
  });

  it('skips special tokens when asked', () => {
    const ids = llama.encode('<|begin_of_text|>Hi<|eot_id|>').ids;
    expect(streamDecode(llama, ids, { skipSpecialTokens: true }).join('')).toBe('Hi');
    expect(streamDecode(llama, ids).join('')).toBe('<|begin_of_text|>Hi<|eot_id|>');
  });

  it('works through @huggingface/tokenizers and the simple tokenizer too', () => {
    for (const text of edgeTexts.slice(2, 10)) {
      const ids = llamaViaHfJs.encode(text).ids;
      expect(streamDecode(llamaViaHfJs, ids).join('')).toBe(llamaViaHfJs.decode(ids));
    }
    const simple = createSimpleTokenizer(['<unk>', 'one', 'two', ',']);
    const ids = simple.encode('one, two three').ids;
    expect(streamDecode(simple, ids)).toEqual(['one', ' ,', ' two', ' <unk>', '']);
  });

  it('decodes a WordPiece stream through the fallback', () => {
    const bert = tokenizerFromJson({
      version: '1.0',
      added_tokens: [{ id: 0, content: '[UNK]', special: true, normalized: false }],
      normalizer: { type: 'BertNormalizer', lowercase: true, clean_text: true, handle_chinese_chars: true, strip_accents: null },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[UNK]': 0, play: 1, '##ing': 2, '##ed': 3, we: 4 } },
    });
    const ids = bert.encode('we playing played', { addSpecialTokens: false }).ids;
    expect(Array.from(ids)).toEqual([4, 1, 2, 1, 3]);
    expect(streamDecode(bert, ids).join('')).toBe('we playing played');
  });
});
