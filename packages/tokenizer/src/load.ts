// Loading from disk or from JSON: format detection, the fast path where it
// applies, @huggingface/tokenizers where it does not, and typed errors that
// name the file and the reason.
import fs from 'node:fs';
import path from 'node:path';
import { BitNetError, ErrorCode, fileSystemError, formatValue, invalidArgument } from '@bitnet/errors';
import { ByteLevelBpeTokenizer, type ByteLevelBpeSpec } from './byte-level-bpe.js';
import { HuggingFaceTokenizer } from './hf-tokenizer.js';
import { JsonScanError, scanTokenizerJson, scanVocabJson } from './json-scan.js';
import { NO_POST_PROCESSOR } from './post-processor.js';
import { GPT2_SPLIT_PATTERN, translateOnigurumaPattern } from './regex.js';
import { SimpleTokenizer } from './simple.js';
import { StringIdTable } from './string-table.js';
import { NotFastPathable, byteLevelSpecFromScan, rolesFromConfig } from './tokenizer-json.js';
import { optionsObject } from './common.js';
import type { Tokenizer } from './types.js';
import { byteToChar } from './byte-level.js';

type Json = Record<string, any>;

const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'];

export interface LoadOptions {
  /** tokenizer_config.json contents or path; by default the file beside tokenizer.json, when present. */
  config?: Json | string;
  /** Use @huggingface/tokenizers even where the fast path applies (for comparison). */
  forceHuggingFace?: boolean;
}

function checkPath(op: string, value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(op, `${name} must be a non-empty path string, got ${formatValue(value)}`);
}

/** A failed stat or read of `file` as a typed error: missing, refused, or unreadable for another reason. */
function readError(op: string, file: string, error: unknown): BitNetError {
  const known = fileSystemError(error);
  const options = { cause: error, details: { path: file, ...(known ? { errno: known.errno } : {}) } };
  if (known?.code === ErrorCode.FILE_NOT_FOUND) return new BitNetError(ErrorCode.FILE_NOT_FOUND, op, `${file}: no such file`, options);
  if (known?.code === ErrorCode.PERMISSION_DENIED) return new BitNetError(ErrorCode.PERMISSION_DENIED, op, `${file}: ${known.reason}`, options);
  return new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: cannot be read (${known?.reason ?? (error as Error).message})`, options);
}

/** fs.statSync, or null when nothing is there; a path that cannot be looked at (no permission) throws. */
function statPath(op: string, file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch (error) {
    const failure = readError(op, file, error);
    if (failure.code === ErrorCode.FILE_NOT_FOUND) return null;
    throw failure;
  }
}

function readText(op: string, file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw readError(op, file, error);
  }
  if (!stat.isFile()) throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: is a directory, not a file`, { details: { path: file } });
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw readError(op, file, error);
  }
}

function parseJson(op: string, text: string, file: string): Json {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the top level is not a JSON object');
    return value as Json;
  } catch (error) {
    throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: invalid JSON (${(error as Error).message})`, { cause: error, details: { path: file } });
  }
}

function readConfig(op: string, config: LoadOptions['config'], beside: string | null): Json {
  if (config !== undefined && typeof config === 'object' && config !== null) return config;
  if (typeof config === 'string') return parseJson(op, readText(op, config), config);
  if (config !== undefined) throw invalidArgument(op, `options.config must be an object or a path, got ${formatValue(config)}`);
  if (beside && statPath(op, beside)) return parseJson(op, readText(op, beside), beside);
  return {};
}

/**
 * Builds a tokenizer from tokenizer.json text (or an already parsed object) and
 * an optional tokenizer_config.json object.
 */
export function tokenizerFromJson(source: string | Json, config: Json = {}, options: { forceHuggingFace?: boolean; path?: string } = {}): Tokenizer {
  const op = 'loadHfTokenizer';
  options = optionsObject(op, options);
  const where = options.path ?? '<tokenizer.json>';
  if (typeof source !== 'string' && (source === null || typeof source !== 'object' || Array.isArray(source))) {
    throw invalidArgument(op, `tokenizer JSON must be a string or an object, got ${formatValue(source)}`);
  }
  if (config === null || typeof config !== 'object') throw invalidArgument(op, `config must be an object, got ${formatValue(config)}`);
  let rejection = 'forced';
  if (!options.forceHuggingFace) {
    const text = typeof source === 'string' ? source : JSON.stringify(source);
    let scanned;
    try {
      scanned = scanTokenizerJson(text);
    } catch (error) {
      if (error instanceof JsonScanError) {
        throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${where}: invalid JSON (${error.message})`, { cause: error, details: { path: where } });
      }
      throw error;
    }
    if (!scanned.model) throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${where}: not a tokenizer.json (no "model" object)`, { details: { path: where } });
    try {
      const { spec, vocabTable } = byteLevelSpecFromScan(scanned, config, where);
      return new ByteLevelBpeTokenizer(spec, vocabTable);
    } catch (error) {
      if (!(error instanceof NotFastPathable)) throw error;
      rejection = error.message;
    }
  }
  const json = typeof source === 'string' ? parseJson(op, source, where) : source;
  if (!json.model || typeof json.model !== 'object') throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${where}: not a tokenizer.json (no "model" object)`);
  const modelType = json.model.type;
  if (modelType !== undefined && !SUPPORTED_MODELS.includes(modelType)) {
    // @huggingface/tokenizers would guess a model from the fields; HF's Rust crate refuses, and so do we.
    throw new BitNetError(ErrorCode.UNSUPPORTED, op, `${where}: cannot build this tokenizer: model type ${formatValue(modelType)} is not one of ${SUPPORTED_MODELS.join(', ')}`, { details: { path: where } });
  }
  return new HuggingFaceTokenizer(json, config, rolesFromConfig(config), rejection, where);
}

/** Loads a Hugging Face tokenizer.json (path to the file or its folder), with tokenizer_config.json beside it. */
export function loadHfTokenizer(file: string, options: LoadOptions = {}): Tokenizer {
  const op = 'loadHfTokenizer';
  checkPath(op, file, 'path');
  options = optionsObject(op, options);
  let target = file;
  if (statPath(op, file)?.isDirectory()) target = path.join(file, 'tokenizer.json');
  const text = readText(op, target);
  const config = readConfig(op, options.config, path.join(path.dirname(target), 'tokenizer_config.json'));
  return tokenizerFromJson(text, config, { path: target, ...(options.forceHuggingFace ? { forceHuggingFace: true } : {}) });
}

export interface BpeTokenizerOptions {
  /** Tokens of the vocab to treat as special (matched whole, never split). Default: `<|endoftext|>` when present. */
  specialTokens?: string[];
  /** Prefix a space to text that does not start with one (GPT-2's `add_prefix_space`). Default false. */
  addPrefixSpace?: boolean;
}

/** A GPT-2-style byte-level BPE tokenizer from vocab.json + merges.txt. */
export function createBpeTokenizer(vocabJsonPath: string, mergesTxtPath: string, options: BpeTokenizerOptions = {}): ByteLevelBpeTokenizer {
  const op = 'createBpeTokenizer';
  checkPath(op, vocabJsonPath, 'vocabJsonPath');
  checkPath(op, mergesTxtPath, 'mergesTxtPath');
  options = optionsObject(op, options);
  const listed = options.specialTokens;
  if (listed !== undefined && listed !== null && (!Array.isArray(listed) || listed.some((token) => typeof token !== 'string'))) {
    throw invalidArgument(op, `options.specialTokens must be an array of token strings, got ${formatValue(listed)}`);
  }
  const vocabText = readText(op, vocabJsonPath);
  let vocab: StringIdTable;
  try {
    vocab = scanVocabJson(vocabText);
  } catch (error) {
    if (error instanceof JsonScanError) {
      throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${vocabJsonPath}: not a JSON object of token → id (${error.message})`, { cause: error, details: { path: vocabJsonPath } });
    }
    throw error;
  }
  for (let b = 0; b < 256; b++) {
    if (vocab.get(byteToChar[b]) < 0) {
      throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${vocabJsonPath}: not a byte-level vocabulary (no token for byte 0x${b.toString(16)})`, { details: { path: vocabJsonPath } });
    }
  }
  const merges = parseMergesTxt(op, readText(op, mergesTxtPath), mergesTxtPath, vocab);
  const specialTokens = options.specialTokens ?? (vocab.get('<|endoftext|>') >= 0 ? ['<|endoftext|>'] : []);
  const addedTokens = specialTokens.map((content) => {
    const id = vocab.get(content);
    if (id < 0) throw invalidArgument(op, `special token ${formatValue(content)} is not in ${vocabJsonPath}`);
    return { id, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false };
  });
  const endOfText = specialTokens.includes('<|endoftext|>') ? '<|endoftext|>' : undefined;
  const spec: ByteLevelBpeSpec = {
    kind: 'byte-level-bpe',
    vocab: Array.from(vocab.tokens, (token) => token ?? null),
    merges,
    ignoreMerges: false,
    splitPattern: translateOnigurumaPattern(GPT2_SPLIT_PATTERN),
    addPrefixSpace: options.addPrefixSpace === true,
    addedTokens,
    postProcessor: NO_POST_PROCESSOR,
    roles: endOfText ? { bos: endOfText, eos: endOfText, unk: endOfText } : {},
  };
  return new ByteLevelBpeTokenizer(spec, vocab);
}

/** merges.txt (`#version` line, then "left right" per line) → id triples, as HF's BPE::from_file reads it. */
function parseMergesTxt(op: string, text: string, file: string, vocab: StringIdTable): Int32Array {
  const out: number[] = [];
  let lineNumber = 0;
  let position = 0;
  while (position < text.length) {
    let end = text.indexOf('\n', position);
    if (end < 0) end = text.length;
    const next = end + 1;
    if (end > position && text.charCodeAt(end - 1) === 0x0d) end--;
    lineNumber++;
    if (!text.startsWith('#version', position)) {
      const space = text.indexOf(' ', position);
      if (space < 0 || space >= end || text.indexOf(' ', space + 1) < end && text.indexOf(' ', space + 1) >= 0) {
        throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: line ${lineNumber} is not "left right": ${formatValue(text.slice(position, end))}`, { details: { path: file, line: lineNumber } });
      }
      const a = vocab.getRange(text, position, space);
      const b = vocab.getRange(text, space + 1, end);
      const merged = vocab.getConcat(text, position, space, space + 1, end);
      if (a < 0 || b < 0 || merged < 0) {
        const missing = a < 0 ? text.slice(position, space) : b < 0 ? text.slice(space + 1, end) : text.slice(position, space) + text.slice(space + 1, end);
        throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: line ${lineNumber} uses ${formatValue(missing)}, which is not in the vocab`, { details: { path: file, line: lineNumber } });
      }
      out.push(a, b, merged);
    }
    position = next;
  }
  return Int32Array.from(out);
}

/**
 * Loads whatever `file` is: a tokenizer.json, a folder holding one (or vocab.json +
 * merges.txt), a vocab.json with merges.txt beside it, or a plain word vocab.json
 * (simple tokenizer).
 */
export function loadTokenizer(file: string, options: LoadOptions = {}): Tokenizer {
  const op = 'loadTokenizer';
  checkPath(op, file, 'path');
  options = optionsObject(op, options);
  const stat = statPath(op, file);
  if (stat === null) throw new BitNetError(ErrorCode.FILE_NOT_FOUND, op, `${file}: no such file or folder`, { details: { path: file } });
  if (stat.isDirectory()) {
    // statPath, not existsSync: a folder we may not look into is a permission error, not an empty folder.
    const tokenizerJson = path.join(file, 'tokenizer.json');
    if (statPath(op, tokenizerJson)) return loadHfTokenizer(tokenizerJson, options);
    const vocab = path.join(file, 'vocab.json');
    const merges = path.join(file, 'merges.txt');
    const hasVocab = statPath(op, vocab) !== null;
    if (hasVocab && statPath(op, merges)) return createBpeTokenizer(vocab, merges);
    if (hasVocab) return loadTokenizer(vocab, options);
    throw new BitNetError(ErrorCode.FILE_NOT_FOUND, op, `${file}: holds neither tokenizer.json nor vocab.json (+ merges.txt)`, { details: { path: file } });
  }
  const text = readText(op, file);
  if (file.endsWith('.txt')) {
    const vocab = path.join(path.dirname(file), 'vocab.json');
    if (!statPath(op, vocab)) throw new BitNetError(ErrorCode.FILE_NOT_FOUND, op, `${file}: a merges file needs vocab.json beside it (${vocab} is missing)`, { details: { path: vocab } });
    return createBpeTokenizer(vocab, file);
  }
  const head = text.slice(0, 4096);
  // `"model": {` is precise: a word vocab may have the words "model" and "version", but maps them to ids.
  if (/"model"\s*:\s*\{/.test(text) && /"(added_tokens|pre_tokenizer|decoder|version)"\s*:/.test(head + text.slice(-4096))) {
    return loadHfTokenizer(file, options);
  }
  const json = parseJson(op, text, file);
  if (json.model && typeof json.model === 'object') return loadHfTokenizer(file, options);
  const values = Object.values(json);
  if (values.length === 0 || !values.every((v) => Number.isInteger(v))) {
    throw new BitNetError(ErrorCode.UNSUPPORTED, op, `${file}: not a tokenizer.json (no "model") and not a vocab of token → id`, { details: { path: file } });
  }
  const merges = path.join(path.dirname(file), 'merges.txt');
  if (statPath(op, merges)) return createBpeTokenizer(file, merges);
  return new SimpleTokenizer(json as Record<string, number>);
}

/** A simple word tokenizer over `vocab` (words → ids, a Map, or an array of words). */
export function createSimpleTokenizer(vocab: ConstructorParameters<typeof SimpleTokenizer>[0], options?: ConstructorParameters<typeof SimpleTokenizer>[1]): SimpleTokenizer {
  return new SimpleTokenizer(vocab, options);
}
