// Every bad input gets a typed error (code, class, a message naming the op, the
// path or value and the reason), and a failed call changes nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@bitnet/errors';
import {
  addSpecialTokens,
  createBpeTokenizer,
  createSimpleTokenizer,
  decodeTokens,
  encodeText,
  getSpecialTokenId,
  loadHfTokenizer,
  loadTokenizer,
  tokenizerFromJson,
  type Tokenizer,
} from './index.js';
import { gpt2MergesTxt, gpt2VocabJson, llama3TokenizerJson, tempDir } from './testing/oracle.js';

function expectError(fn: () => unknown, code: string, kind: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, ...fragments: Array<string | RegExp>): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(kind);
  expect((caught as { code?: string }).code).toBe(code);
  for (const fragment of fragments) expect((caught as Error).message).toMatch(fragment);
}

async function expectRejection(promise: Promise<unknown>, code: string, ...fragments: Array<string | RegExp>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe(code);
  for (const fragment of fragments) expect((error as Error).message).toMatch(fragment);
}

let dir: string;
let llama: Tokenizer;
let gpt2: Tokenizer;
let wordPiece: Tokenizer;
let simple: Tokenizer;

const wordPieceJson = {
  version: '1.0',
  added_tokens: [
    { id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 1, content: '[CLS]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 2, content: '[SEP]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3, world: 4, '##s': 5 } },
};

beforeAll(() => {
  dir = tempDir();
  llama = loadHfTokenizer(llama3TokenizerJson);
  gpt2 = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt);
  wordPiece = tokenizerFromJson(wordPieceJson);
  simple = createSimpleTokenizer(['<unk>', 'hello', 'world']);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

describe('loading', () => {
  it('rejects a path that is not a string', () => {
    expectError(() => loadHfTokenizer(42 as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /\[loadHfTokenizer\] path must be a non-empty path string, got 42/);
    expectError(() => loadTokenizer(undefined as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /\[loadTokenizer\]/);
    expectError(() => createBpeTokenizer(gpt2VocabJson, null as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /mergesTxtPath/);
  });

  it('names a missing file or folder', () => {
    const missing = path.join(dir, 'nope', 'tokenizer.json');
    expectError(() => loadHfTokenizer(missing), ErrorCode.FILE_NOT_FOUND, Error, missing, /no such file/);
    expectError(() => loadTokenizer(path.join(dir, 'nothing-here')), ErrorCode.FILE_NOT_FOUND, Error, /nothing-here: no such file or folder/);
    expectError(() => createBpeTokenizer(path.join(dir, 'vocab.json'), gpt2MergesTxt), ErrorCode.FILE_NOT_FOUND, Error, /vocab\.json: no such file/);
    fs.mkdirSync(path.join(dir, 'empty-folder'), { recursive: true });
    expectError(() => loadTokenizer(path.join(dir, 'empty-folder')), ErrorCode.FILE_NOT_FOUND, Error, /holds neither tokenizer\.json nor vocab\.json/);
  });

  it('reports invalid and truncated JSON with the path and position', () => {
    const broken = write('broken/tokenizer.json', '{"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0,');
    expectError(() => loadHfTokenizer(broken), ErrorCode.FILE_FORMAT, Error, broken, /invalid JSON/, /at character \d+/);
    const notObject = write('array/tokenizer.json', '[1, 2, 3]');
    expectError(() => loadHfTokenizer(notObject), ErrorCode.FILE_FORMAT, Error, notObject, /invalid JSON/);
    const truncated = fs.readFileSync(llama3TokenizerJson, 'utf8').slice(0, 5_000_000);
    const cut = write('cut/tokenizer.json', truncated);
    expectError(() => loadHfTokenizer(cut), ErrorCode.FILE_FORMAT, Error, cut, /invalid JSON/);
  });

  it('rejects JSON that is not a tokenizer', () => {
    const file = write('nomodel/tokenizer.json', '{"version": "1.0", "added_tokens": []}');
    expectError(() => loadHfTokenizer(file), ErrorCode.FILE_FORMAT, Error, file, /no "model" object/);
    const other = write('other.json', '{"name": "a package", "version": "1.0.0"}');
    expectError(() => loadTokenizer(other), ErrorCode.UNSUPPORTED, Error, other, /not a tokenizer\.json/);
  });

  it('rejects unsupported model types', () => {
    const file = write('foo/tokenizer.json', JSON.stringify({ ...wordPieceJson, model: { type: 'FancyModel', vocab: {} } }));
    expectError(() => loadHfTokenizer(file), ErrorCode.UNSUPPORTED, Error, file, /cannot build this tokenizer/, /FancyModel/);
  });

  it('rejects merges that use tokens missing from the vocab', () => {
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    json.model.merges.splice(10, 0, 'Ġ zzzzzzzzzznot-a-token');
    const file = write('badmerge/tokenizer.json', JSON.stringify(json));
    expectError(() => loadHfTokenizer(file), ErrorCode.FILE_FORMAT, Error, file, /merge 10 uses "zzzzzzzzzznot-a-token", which is not in the vocab/);
  });

  it('rejects a corrupt tokenizer_config.json beside the tokenizer, naming it', () => {
    const folder = path.join(dir, 'badconfig');
    write('badconfig/tokenizer.json', JSON.stringify(wordPieceJson));
    const config = write('badconfig/tokenizer_config.json', '{"bos_token": ');
    expectError(() => loadHfTokenizer(folder), ErrorCode.FILE_FORMAT, Error, config, /invalid JSON/);
  });

  it('rejects bad merges.txt lines and non-byte-level vocabularies', () => {
    const merges = write('bpe/merges.txt', '#version: 0.2\nĠ t\nthis line has three parts\n');
    expectError(() => createBpeTokenizer(gpt2VocabJson, merges), ErrorCode.FILE_FORMAT, Error, merges, /line 3 is not "left right"/);
    const unknown = write('bpe/merges2.txt', '#version: 0.2\nĠ t\nĠ qqqqqqqqqqqq\n');
    expectError(() => createBpeTokenizer(gpt2VocabJson, unknown), ErrorCode.FILE_FORMAT, Error, /line 3 uses "qqqqqqqqqqqq", which is not in the vocab/);
    const vocab = write('bpe/vocab.json', '{"a": 0, "b": 1}');
    expectError(() => createBpeTokenizer(vocab, merges), ErrorCode.FILE_FORMAT, Error, vocab, /not a byte-level vocabulary/);
    const notJson = write('bpe/vocab2.json', '{"a": 0, "b": }');
    expectError(() => createBpeTokenizer(notJson, merges), ErrorCode.FILE_FORMAT, Error, notJson, /not a JSON object of token → id/);
  });

  it('treats null options of the loaders as none and rejects bad special token lists', () => {
    const none = null as never;
    expect(loadHfTokenizer(llama3TokenizerJson, none).kind).toBe('byte-level-bpe');
    expect(loadTokenizer(llama3TokenizerJson, none).kind).toBe('byte-level-bpe');
    expect(tokenizerFromJson(wordPieceJson, {}, none).kind).toBe('huggingface');
    expect(createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt, none).allSpecialTokens.get('<|endoftext|>')).toBe(50256);
    expect(createSimpleTokenizer({ a: 0 }, none).tokenToId('<unk>')).toBe(1);
    expectError(() => createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt, { specialTokens: 'abc' as never }), ErrorCode.INVALID_ARGUMENT, TypeError, /\[createBpeTokenizer\] options\.specialTokens must be an array of token strings, got "abc"/);
    expectError(() => createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt, { specialTokens: [7] as never }), ErrorCode.INVALID_ARGUMENT, TypeError, /options\.specialTokens must be an array of token strings/);
    expectError(() => loadHfTokenizer(llama3TokenizerJson, 'x' as never), ErrorCode.INVALID_ARGUMENT, TypeError, /\[loadHfTokenizer\] options must be an object/);
  });

  it('rejects a bad simple vocabulary', () => {
    expectError(() => createSimpleTokenizer(null as never), ErrorCode.INVALID_ARGUMENT, TypeError, /\[createSimpleTokenizer\] vocab must be/);
    expectError(() => createSimpleTokenizer({ a: -1 }), ErrorCode.INVALID_ARGUMENT, TypeError, /vocab id of "a" must be a non-negative integer, got -1/);
    expectError(() => createSimpleTokenizer({ a: 0, b: 0 }), ErrorCode.INVALID_ARGUMENT, Error, /id 0 is given to both "a" and "b"/);
    expectError(() => createSimpleTokenizer(['', 'x']), ErrorCode.INVALID_ARGUMENT, TypeError, /vocab words must be non-empty strings/);
  });
});

describe('files the process may not read', () => {
  // As root every file is readable, so the loaders run in a child process as nobody there.
  it.skipIf(process.platform === 'win32')('are ERR_BITNET_PERMISSION_DENIED naming the path, not a missing or damaged file', () => {
    const asRoot = process.getuid?.() === 0;
    const folder = tempDir();
    fs.chmodSync(folder, 0o755);
    const unreadable = path.join(folder, 'tokenizer.json');
    fs.copyFileSync(gpt2VocabJson, unreadable);
    const closed = path.join(folder, 'closed');
    fs.mkdirSync(closed);
    fs.copyFileSync(llama3TokenizerJson, path.join(closed, 'tokenizer.json'));
    fs.chmodSync(unreadable, asRoot ? 0o600 : 0o000);
    fs.chmodSync(closed, asRoot ? 0o700 : 0o000);
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = path.join(folder, 'load.mjs');
    fs.writeFileSync(
      script,
      `const T = await import(${JSON.stringify(dist)});
      const calls = [
        () => T.loadHfTokenizer(${JSON.stringify(unreadable)}),
        () => T.loadTokenizer(${JSON.stringify(unreadable)}),
        () => T.loadHfTokenizer(${JSON.stringify(path.join(closed, 'tokenizer.json'))}),
        () => T.loadTokenizer(${JSON.stringify(closed)}),
        () => T.createBpeTokenizer(${JSON.stringify(path.join(closed, 'vocab.json'))}, ${JSON.stringify(gpt2MergesTxt)}),
      ];
      const out = [];
      for (const call of calls) try { call(); out.push('loaded'); } catch (e) { out.push([e.code, e.message]); }
      console.log(JSON.stringify(out));`,
    );
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    fs.chmodSync(closed, 0o700);
    fs.rmSync(folder, { recursive: true, force: true });
    expect(child.stderr).toBe('');
    const denied = ErrorCode.PERMISSION_DENIED;
    expect(JSON.parse(child.stdout)).toEqual([
      [denied, `[loadHfTokenizer] ${unreadable}: permission denied`],
      [denied, `[loadTokenizer] ${unreadable}: permission denied`],
      [denied, `[loadHfTokenizer] ${path.join(closed, 'tokenizer.json')}: permission denied`],
      [denied, `[loadTokenizer] ${path.join(closed, 'tokenizer.json')}: permission denied`],
      [denied, `[createBpeTokenizer] ${path.join(closed, 'vocab.json')}: permission denied`],
    ]);
  });
});

describe.each([
  ['byte-level (LLaMA-3)', () => llama],
  ['byte-level (GPT-2)', () => gpt2],
  ['@huggingface/tokenizers (WordPiece)', () => wordPiece],
  ['simple', () => simple],
])('%s tokenizer', (_name, get) => {
  it('rejects non-string text', () => {
    const tokenizer = get();
    expectError(() => tokenizer.encode(undefined as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /\[encode\] text must be a string, got undefined/);
    expectError(() => tokenizer.encode(Buffer.from('x') as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /\[encode\] text must be a string/);
    expectError(() => tokenizer.encode('x', { pair: 5 as unknown as string }), ErrorCode.INVALID_ARGUMENT, TypeError, /options\.pair must be a string, got number 5/);
    expectError(() => encodeText(tokenizer, null as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /got null/);
  });

  it('rejects ids out of range, non-integers and non-arrays in decode', () => {
    const tokenizer = get();
    const size = tokenizer.vocabSize;
    expectError(() => tokenizer.decode([1, size]), ErrorCode.OUT_OF_RANGE, RangeError, new RegExp(`\\[decode\\] ids\\[1\\] = ${size} is outside the vocabulary \\[0, ${size}\\)`));
    expectError(() => tokenizer.decode([-1]), ErrorCode.OUT_OF_RANGE, RangeError, /ids\[0\] = -1/);
    expectError(() => tokenizer.decode([1.5]), ErrorCode.INVALID_ARGUMENT, TypeError, /ids\[0\] must be an integer token id, got 1\.5/);
    expectError(() => tokenizer.decode(['3'] as unknown as number[]), ErrorCode.INVALID_ARGUMENT, TypeError, /got "3"/);
    expectError(() => tokenizer.decode(7 as unknown as number[]), ErrorCode.INVALID_ARGUMENT, TypeError, /ids must be an array/);
    expectError(() => decodeTokens(tokenizer, Int32Array.of(0, 1 << 30)), ErrorCode.OUT_OF_RANGE, RangeError, /ids\[1\]/);
    expectError(() => tokenizer.decodeBatch([[0], [size + 5]]), ErrorCode.OUT_OF_RANGE, RangeError, /ids\[0\]/);
    const stream = tokenizer.createDecodeStream();
    expectError(() => stream.push(size), ErrorCode.OUT_OF_RANGE, RangeError, /\[decodeStream\.push\]/);
  });

  it('rejects bad batches', async () => {
    const tokenizer = get();
    await expectRejection(tokenizer.encodeBatch('abc' as unknown as string[]), ErrorCode.INVALID_ARGUMENT, /\[encodeBatch\] texts must be an array of strings/);
    await expectRejection(tokenizer.encodeBatch(['a', 3 as unknown as string]), ErrorCode.INVALID_ARGUMENT, /texts\[1\] must be a string, got number 3/);
    await expectRejection(tokenizer.encodeBatch(['a', 'b'], { pairs: ['x'] }), ErrorCode.INVALID_ARGUMENT, /options\.pairs has 1 entries but texts has 2/);
    // Every kind, also those that never start threads.
    await expectRejection(tokenizer.encodeBatch(['a'], { threads: 0 }), ErrorCode.OUT_OF_RANGE, /\[encodeBatch\] options\.threads must be a positive integer, got 0/);
  });

  it('treats null options as none and rejects options that are not objects', async () => {
    const tokenizer = get();
    const ids = tokenizer.encode('hello world').ids;
    const none = null as never;
    expect(Array.from(tokenizer.encode('hello world', none).ids)).toEqual(Array.from(ids));
    expect(tokenizer.decode(ids, none)).toBe(tokenizer.decode(ids));
    expect(tokenizer.decodeBatch([ids], none)).toEqual([tokenizer.decode(ids)]);
    expect(tokenizer.createDecodeStream(none).push(ids[0])).toBe(tokenizer.createDecodeStream().push(ids[0]));
    expect(Array.from((await tokenizer.encodeBatch(['hello world'], none))[0].ids)).toEqual(Array.from(ids));
    expectError(() => tokenizer.encode('x', 5 as never), ErrorCode.INVALID_ARGUMENT, TypeError, /\[encode\] options must be an object, got number 5/);
    expectError(() => tokenizer.decode(ids, 'x' as never), ErrorCode.INVALID_ARGUMENT, TypeError, /\[decode\] options must be an object/);
    await expectRejection(tokenizer.encodeBatch(['a'], true as never), ErrorCode.INVALID_ARGUMENT, /\[encodeBatch\] options must be an object/);
    // Like any other string that is not a token.
    expect(tokenizer.tokenToId(null as never)).toBeUndefined();
    expect(tokenizer.tokenToId(5 as never)).toBeUndefined();
  });

  it('rejects conflicting special tokens and leaves the tokenizer unchanged', () => {
    const tokenizer = get();
    const size = tokenizer.vocabSize;
    const before = Array.from(tokenizer.encode('hello world <|x|>').ids);
    const taken = tokenizer.idToToken(1) as string;
    expectError(() => addSpecialTokens(tokenizer, [['<|x|>', size], ['<|y|>', 1]]), ErrorCode.INVALID_ARGUMENT, Error, new RegExp(`id 1 already belongs to token`));
    expectError(() => tokenizer.addSpecialTokens([[taken, size]]), ErrorCode.INVALID_ARGUMENT, Error, /already has id 1/);
    expectError(() => tokenizer.addSpecialTokens([['<|x|>', size + 10]]), ErrorCode.OUT_OF_RANGE, RangeError, new RegExp(`leaves a gap: the next free id is ${size}`));
    expectError(() => tokenizer.addSpecialTokens([['<|x|>', size]], { boss: '<|x|>' } as never), ErrorCode.INVALID_ARGUMENT, TypeError, /unknown special token role "boss"/);
    expectError(() => tokenizer.addSpecialTokens([['<|x|>', size]], { eos: '<|nope|>' }), ErrorCode.INVALID_ARGUMENT, TypeError, /role eos names "<\|nope\|>", which is not a token/);
    expectError(() => tokenizer.addSpecialTokens([['', size]]), ErrorCode.INVALID_ARGUMENT, TypeError, /non-empty string/);
    expectError(() => tokenizer.addSpecialTokens('x' as never), ErrorCode.INVALID_ARGUMENT, TypeError, /array of \[token, id\] pairs/);
    expect(tokenizer.vocabSize).toBe(size);
    expect(tokenizer.tokenToId('<|x|>')).toBeUndefined();
    expect(Array.from(tokenizer.encode('hello world <|x|>').ids)).toEqual(before);
    expectError(() => getSpecialTokenId(tokenizer, 5 as unknown as string), ErrorCode.INVALID_ARGUMENT, TypeError, /\[getSpecialTokenId\] token must be a string/);
    expectError(() => getSpecialTokenId({} as Tokenizer, 'x'), ErrorCode.INVALID_ARGUMENT, TypeError, /expected a Tokenizer/);
  });
});
