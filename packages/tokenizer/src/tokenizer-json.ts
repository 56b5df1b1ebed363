// Reads HF tokenizer.json (+ tokenizer_config.json) and decides whether the fast
// byte-level BPE path reproduces it exactly; everything else goes to
// @huggingface/tokenizers. The reason a file is not fast-pathed is kept, for
// `fastPathRejection`.
import { BitNetError, ErrorCode } from '@bitnet/errors';
import type { AddedTokenSpec } from './added-tokens.js';
import { byteToChar } from './byte-level.js';
import type { ByteLevelBpeSpec } from './byte-level-bpe.js';
import { NO_POST_PROCESSOR, type PostProcessorSpec, type TemplatePiece } from './post-processor.js';
import { GPT2_SPLIT_PATTERN, RegexTranslationError, translateOnigurumaPattern } from './regex.js';
import { SPECIAL_TOKEN_ROLES, type SpecialTokenRole } from './types.js';
import type { ScannedModel, ScannedTokenizerJson } from './json-scan.js';
import type { StringIdTable } from './string-table.js';

type Json = Record<string, any>;

export class NotFastPathable extends Error {}

function fail(reason: string): never {
  throw new NotFastPathable(reason);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Token content of a tokenizer_config.json role entry (a string or an AddedToken object). */
function roleContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content;
  return undefined;
}

export function rolesFromConfig(config: Json | undefined): Partial<Record<SpecialTokenRole, string>> {
  const roles: Partial<Record<SpecialTokenRole, string>> = {};
  if (!config) return roles;
  for (const role of SPECIAL_TOKEN_ROLES) {
    const content = roleContent(config[`${role}_token`]);
    if (content !== undefined) roles[role] = content;
  }
  return roles;
}

export function addedTokensFromJson(json: Json, path: string): AddedTokenSpec[] {
  const list = json.added_tokens ?? [];
  if (!Array.isArray(list)) throw new BitNetError(ErrorCode.FILE_FORMAT, 'loadHfTokenizer', `${path}: added_tokens is not an array`);
  return list.map((entry: Json, index: number) => {
    if (typeof entry?.content !== 'string' || !Number.isInteger(entry?.id)) {
      throw new BitNetError(ErrorCode.FILE_FORMAT, 'loadHfTokenizer', `${path}: added_tokens[${index}] needs a string content and an integer id`);
    }
    return {
      id: entry.id,
      content: entry.content,
      special: entry.special === true,
      lstrip: entry.lstrip === true,
      rstrip: entry.rstrip === true,
      singleWord: entry.single_word === true,
      // HF's AddedToken default: special tokens skip normalization, others do not.
      normalized: typeof entry.normalized === 'boolean' ? entry.normalized : entry.special !== true,
    };
  });
}

/**
 * The ids HF's AddedVocabulary gives added_tokens when it loads them (`add_tokens`, in order): a
 * token the model or an earlier entry already has keeps that id; a new one takes the model's vocab
 * size (`modelSize`, its number of tokens) or, once an added id reaches it, the highest added id + 1.
 * The id written in the file is never used; empty tokens are ignored.
 */
export function assignAddedTokenIds<T extends { id: number; content: string }>(tokens: readonly T[], modelId: (content: string) => number | undefined, modelSize: number): T[] {
  const ids = new Map<string, number>();
  let highest = -1;
  const out: T[] = [];
  for (const token of tokens) {
    if (token.content.length === 0) continue;
    let id = ids.get(token.content) ?? modelId(token.content);
    if (id === undefined) id = ids.size === 0 ? modelSize : highest >= modelSize || modelSize === 0 ? highest + 1 : modelSize;
    ids.set(token.content, id);
    if (id > highest) highest = id;
    out.push(id === token.id ? token : { ...token, id });
  }
  return out;
}

function splitPatternOf(pre: Json): string {
  if (pre.type !== 'Split') fail(`pre-tokenizer ${pre.type} inside the Sequence`);
  if (pre.behavior !== 'Isolated' || pre.invert === true) fail(`Split behavior ${pre.behavior}${pre.invert ? ' inverted' : ''}`);
  if (typeof pre.pattern?.Regex === 'string') {
    try {
      return translateOnigurumaPattern(pre.pattern.Regex);
    } catch (error) {
      if (error instanceof RegexTranslationError) fail(`split regex: ${error.message}`);
      throw error;
    }
  }
  if (typeof pre.pattern?.String === 'string') return escapeRegex(pre.pattern.String);
  fail('Split pattern is neither Regex nor String');
}

function preTokenizerOf(pre: Json | null | undefined): { splitPattern: string | null; addPrefixSpace: boolean } {
  if (!pre) fail('no pre-tokenizer (not byte-level)');
  if (pre.type === 'ByteLevel') {
    return {
      splitPattern: pre.use_regex === false ? null : translateOnigurumaPattern(GPT2_SPLIT_PATTERN),
      addPrefixSpace: pre.add_prefix_space === true,
    };
  }
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) && pre.pretokenizers.length === 2) {
    const [split, byteLevel] = pre.pretokenizers;
    if (byteLevel?.type !== 'ByteLevel' || byteLevel.use_regex !== false || byteLevel.add_prefix_space === true) {
      fail('Sequence pre-tokenizer is not Split + ByteLevel(use_regex=false, add_prefix_space=false)');
    }
    return { splitPattern: splitPatternOf(split), addPrefixSpace: false };
  }
  fail(`pre-tokenizer ${pre.type}`);
}

function postProcessorOf(post: Json | null | undefined, tokenToId: (token: string) => number | undefined): PostProcessorSpec {
  if (!post) return NO_POST_PROCESSOR;
  const list: Json[] = post.type === 'Sequence' ? (post.processors ?? []) : [post];
  const spec: PostProcessorSpec = { trimOffsets: false, trimAddPrefixSpace: false, template: null };
  for (const processor of list) {
    if (processor.type === 'ByteLevel') {
      if (spec.template) fail('ByteLevel post-processor after TemplateProcessing');
      if (processor.trim_offsets === true) {
        spec.trimOffsets = true;
        spec.trimAddPrefixSpace = processor.add_prefix_space === true;
      }
    } else if (processor.type === 'TemplateProcessing') {
      if (spec.template) fail('two TemplateProcessing post-processors');
      const specials: Json = processor.special_tokens ?? {};
      const convert = (pieces: Json[]): TemplatePiece[] =>
        pieces.map((piece) => {
          if (piece.Sequence) return { kind: 'sequence', index: piece.Sequence.id === 'B' ? 1 : 0, typeId: piece.Sequence.type_id ?? 0 };
          if (piece.SpecialToken) {
            const name = piece.SpecialToken.id;
            const entry = specials[name];
            const ids: number[] = entry?.ids ?? (tokenToId(name) !== undefined ? [tokenToId(name) as number] : fail(`template special token ${name} unknown`));
            return { kind: 'special', ids, typeId: piece.SpecialToken.type_id ?? 0 };
          }
          return fail('unknown template piece');
        });
      spec.template = { single: convert(processor.single ?? []), pair: convert(processor.pair ?? []) };
    } else {
      fail(`post-processor ${processor.type}`);
    }
  }
  return spec;
}

/** Builds the fast-path spec (and the vocab map it was read with), or throws NotFastPathable with the reason. */
export function byteLevelSpecFromScan(
  scanned: ScannedTokenizerJson,
  config: Json | undefined,
  path: string,
): { spec: ByteLevelBpeSpec; vocabTable: StringIdTable } {
  const json = scanned.members as Json;
  const scannedModel = scanned.model;
  if (!scannedModel) throw new BitNetError(ErrorCode.FILE_FORMAT, 'loadHfTokenizer', `${path}: no "model" object`);
  const model = scannedModel.members as Json;
  if ((model.type ?? (scannedModel.mergeIds || scannedModel.mergeStrings ? 'BPE' : undefined)) !== 'BPE') fail(`model type ${model.type}`);
  if (json.normalizer) fail(`normalizer ${json.normalizer.type}`);
  if (model.dropout) fail('BPE dropout');
  if (model.continuing_subword_prefix) fail('continuing_subword_prefix');
  if (model.end_of_word_suffix) fail('end_of_word_suffix');
  if (model.byte_fallback) fail('byte_fallback');
  const decoder = json.decoder;
  if (decoder?.type !== 'ByteLevel') fail(`decoder ${decoder?.type ?? 'none'}`);
  const { splitPattern, addPrefixSpace } = preTokenizerOf(json.pre_tokenizer);

  const vocabTable = scannedModel.vocab;
  if (!vocabTable) throw new BitNetError(ErrorCode.FILE_FORMAT, 'loadHfTokenizer', `${path}: model.vocab is missing or not an object`);
  for (let b = 0; b < 256; b++) if (vocabTable.get(byteToChar[b]) < 0) fail(`vocab lacks the byte token for 0x${b.toString(16)}`);
  const vocab = Array.from(vocabTable.tokens, (token) => token ?? null);
  const merges = mergesOf(scannedModel, vocabTable, path);
  const addedTokens = assignAddedTokenIds(
    addedTokensFromJson(json, path),
    (content) => {
      const id = vocabTable.get(content);
      return id < 0 ? undefined : id;
    },
    vocabTable.size,
  );
  const lookup = (token: string): number | undefined => {
    const id = addedTokens.find((t) => t.content === token)?.id ?? vocabTable.get(token);
    return id < 0 ? undefined : id;
  };
  const spec: ByteLevelBpeSpec = {
    kind: 'byte-level-bpe',
    vocab,
    merges,
    ignoreMerges: model.ignore_merges === true,
    splitPattern,
    addPrefixSpace,
    addedTokens,
    postProcessor: postProcessorOf(json.post_processor, lookup),
    roles: rolesFromConfig(config),
  };
  return { spec, vocabTable };
}

/** The model's merges as (left, right, merged) id triples, with HF's error for a token missing from the vocab. */
export function mergesOf(model: ScannedModel, vocab: StringIdTable, path: string, op = 'loadHfTokenizer'): Int32Array {
  if (!model.mergeIds && !model.mergeStrings) throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${path}: model.merges is missing or not an array`);
  if (model.mergeIds) {
    if (model.badMerge) {
      const [rank, missing] = model.badMerge;
      throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${path}: merge ${rank} uses ${JSON.stringify(missing)}, which is not in the vocab`);
    }
    return model.mergeIds;
  }
  return resolveMerges(model.mergeStrings as string[], vocab, path, op);
}

/** Flat [left, right, …] merge strings → (left, right, merged) id triples in rank order. */
export function resolveMerges(flat: string[], vocab: StringIdTable, path: string, op = 'loadHfTokenizer'): Int32Array {
  const count = flat.length >> 1;
  const out = new Int32Array(count * 3);
  for (let rank = 0; rank < count; rank++) {
    const left = flat[2 * rank];
    const right = flat[2 * rank + 1];
    const a = vocab.get(left);
    const b = vocab.get(right);
    const merged = vocab.get(left + right);
    if (a < 0 || b < 0 || merged < 0) {
      const missing = a < 0 ? left : b < 0 ? right : left + right;
      throw new BitNetError(ErrorCode.FILE_FORMAT, op, `${path}: merge ${rank} (${JSON.stringify(left)} ${JSON.stringify(right)}) uses ${JSON.stringify(missing)}, which is not in the vocab`);
    }
    out[rank * 3] = a;
    out[rank * 3 + 1] = b;
    out[rank * 3 + 2] = merged;
  }
  return out;
}
