// Tokenizers the fast path does not cover (WordPiece, Unigram, SentencePiece-
// style BPE, normalizers, …) run through @huggingface/tokenizers, behind the
// same interface. Offsets come from aligning each token's surface text with
// the input (that library does not report offsets); a token that cannot be
// aligned gets an empty span at the current position.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BitNetError, ErrorCode } from '@bitnet/errors';
import { TokenEncoding, allocateEncodingArrays } from './encoding.js';
import { cleanUpTokenizationSpaces } from './cleanup.js';
import { checkBatchArguments, encodeSequentially } from './batch.js';
import { optionsObject, checkDecodeIds, checkText, decodeEach, prefixDecodeStream, registerSpecialTokens, resolveRoles } from './common.js';
import { byteLevelTokenToBytes } from './byte-level.js';
import { trimTokenOffsets } from './post-processor.js';
import { assignAddedTokenIds } from './tokenizer-json.js';
import type { DecodeOptions, DecodeStream, EncodeBatchOptions, EncodeOptions, Encoding, SpecialToken, SpecialTokenRole, Tokenizer } from './types.js';

type Json = Record<string, any>;

const utf8Decoder = new TextDecoder();

/** Lone UTF-16 surrogates as U+FFFD, one code unit for one (offsets into the original stay valid). */
function wellFormed(text: string): string {
  return /\p{Cs}/u.test(text) ? text.replace(/\p{Cs}/gu, '\ufffd') : text;
}

/** The second text of the probe that reads the pair template's layout (and stands in for an empty pair). */
const PAIR_PROBE = 'b';

export class HuggingFaceTokenizer implements Tokenizer {
  readonly kind = 'huggingface' as const;
  /** Why the fast path did not take this file. */
  readonly fastPathRejection: string;
  private json: Json;
  private readonly config: Json;
  private hf: HfTokenizer;
  private idTable: Array<string | undefined> = [];
  private added = new Map<string, { id: number; special: boolean }>();
  private specialSet = new Map<string, number>();
  private rolesByName: Partial<Record<SpecialTokenRole, SpecialToken>> = {};
  private roles: Partial<Record<SpecialTokenRole, string>>;
  private readonly wordPiecePrefix: string | null;
  private readonly byteLevelDecoder: boolean;
  private readonly byteFallback: boolean;
  private readonly prependsSpace: boolean;
  private readonly metaspacePrepends: boolean;
  private readonly trim: { addPrefixSpace: boolean } | null;
  private readonly singleTypeId: boolean;

  constructor(json: Json, config: Json, roles: Partial<Record<SpecialTokenRole, string>>, fastPathRejection: string, path = '<json>') {
    this.json = HuggingFaceTokenizer.withModelIds(json);
    // The default decode must reproduce the text: clean-up is only ever an explicit decode option.
    this.config = { ...config, clean_up_tokenization_spaces: false };
    this.roles = roles;
    this.fastPathRejection = fastPathRejection;
    this.hf = HuggingFaceTokenizer.build(this.json, this.config, path);
    this.wordPiecePrefix = json.model?.type === 'WordPiece' ? (json.model.continuing_subword_prefix ?? '##') : null;
    const decoderTypes = [json.decoder?.type, ...((json.decoder?.decoders ?? []) as Json[]).map((d) => d.type)];
    this.byteLevelDecoder = decoderTypes.includes('ByteLevel');
    this.byteFallback = json.model?.byte_fallback === true;
    // SentencePiece's legacy normalizer, Prepend("▁") (LLaMA-2, Mistral): HF aligns the inserted '▁' with the first character.
    const normalizers: Json[] = json.normalizer?.type === 'Sequence' ? (json.normalizer.normalizers ?? []) : json.normalizer ? [json.normalizer] : [];
    this.prependsSpace = normalizers.some((n) => n?.type === 'Prepend' && n.prepend === '\u2581');
    // The Metaspace pre-tokenizer's own prepend (T5, newer SentencePiece conversions): the same '▁', added
    // when the text does not start with a space (which becomes the '▁' itself).
    const preTokenizers: Json[] = json.pre_tokenizer?.type === 'Sequence' ? (json.pre_tokenizer.pretokenizers ?? []) : json.pre_tokenizer ? [json.pre_tokenizer] : [];
    const metaspace = preTokenizers.find((p) => p?.type === 'Metaspace');
    this.metaspacePrepends =
      metaspace !== undefined &&
      (metaspace.prepend_scheme === 'always' || metaspace.prepend_scheme === 'first' || (metaspace.prepend_scheme === undefined && metaspace.add_prefix_space !== false));
    // A ByteLevel or RoBERTa post-processor with trim_offsets (also inside a Sequence), which @huggingface/tokenizers does not apply.
    const processors: Json[] = json.post_processor?.type === 'Sequence' ? (json.post_processor.processors ?? []) : json.post_processor ? [json.post_processor] : [];
    const trimming = processors.find((p) => (p?.type === 'ByteLevel' || p?.type === 'RobertaProcessing') && p.trim_offsets === true);
    this.trim = trimming ? { addPrefixSpace: trimming.add_prefix_space === true } : null;
    // RoBERTa has one type-id slot: HF's RobertaProcessing gives every token type id 0, pairs included.
    this.singleTypeId = processors.some((p) => p?.type === 'RobertaProcessing');
    this.refreshTables();
  }

  /**
   * Added-token ids as HF's Rust AddedVocabulary gives them (see assignAddedTokenIds): the model's id
   * for text it already has, else the next id in sequence, whatever the file lists;
   * @huggingface/tokenizers would keep the listed ids.
   */
  private static withModelIds(json: Json): Json {
    const vocab = json.model?.vocab;
    const added: Json[] | undefined = json.added_tokens;
    if (!Array.isArray(added) || !vocab || typeof vocab !== 'object') return json;
    if (added.some((token) => typeof token?.content !== 'string')) return json; // the build reports it
    let modelId: (content: string) => number | undefined;
    let modelSize: number;
    if (Array.isArray(vocab)) {
      // Unigram: [[piece, score], …], ids by position.
      const index = new Map<string, number>();
      vocab.forEach((entry: unknown, id: number) => {
        if (Array.isArray(entry) && typeof entry[0] === 'string' && !index.has(entry[0])) index.set(entry[0], id);
      });
      modelId = (content) => index.get(content);
      modelSize = vocab.length;
    } else {
      modelId = (content) => (Object.prototype.hasOwnProperty.call(vocab, content) && Number.isInteger(vocab[content]) ? vocab[content] : undefined);
      modelSize = Object.keys(vocab).length;
    }
    const remapped = assignAddedTokenIds(added as Array<{ id: number; content: string }>, modelId, modelSize);
    const changed = remapped.length !== added.length || remapped.some((token, i) => token !== added[i]);
    return changed ? { ...json, added_tokens: remapped } : json;
  }

  /** What HF's Rust crate refuses to load, or what @huggingface/tokenizers would run wrongly instead of refusing. */
  private static check(json: Json, path: string): void {
    const model: Json = json.model ?? {};
    const fail = (code: typeof ErrorCode.FILE_FORMAT | typeof ErrorCode.UNSUPPORTED, message: string) => {
      throw new BitNetError(code, 'loadHfTokenizer', `${path}: ${message}`);
    };
    if (model.type === 'Unigram' && model.byte_fallback === true)
      fail(ErrorCode.UNSUPPORTED, 'a Unigram model with byte_fallback is not supported: @huggingface/tokenizers has no byte fallback for Unigram, so characters outside the vocabulary would become the unknown token and be lost');
    if (model.type !== 'BPE') return;
    const vocab = model.vocab;
    if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) fail(ErrorCode.FILE_FORMAT, 'model.vocab of a BPE model must be an object of token → id');
    if (!Array.isArray(model.merges)) return;
    const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '';
    const has = (token: string) => Object.prototype.hasOwnProperty.call(vocab, token);
    model.merges.forEach((merge: unknown, rank: number) => {
      const parts = typeof merge === 'string' ? merge.split(' ') : merge;
      if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string')
        fail(ErrorCode.FILE_FORMAT, `merge ${rank} is not a pair of tokens: ${JSON.stringify(merge)}`);
      const [left, right] = parts as [string, string];
      // As HF's BPE builder: both tokens and their merge must be in the vocabulary.
      const merged = left + (prefix && right.startsWith(prefix) ? right.slice(prefix.length) : right);
      for (const token of [left, right, merged]) if (!has(token)) fail(ErrorCode.FILE_FORMAT, `merge ${rank} (${JSON.stringify(merge)}) uses ${JSON.stringify(token)}, which is not in the vocabulary`);
    });
  }

  private static build(json: Json, config: Json, path: string): HfTokenizer {
    HuggingFaceTokenizer.check(json, path);
    // @huggingface/tokenizers has no WordLevel model (it falls back to one that gives unknown words id 0):
    // a WordPiece model whose continuing-subword prefix never occurs is WordLevel, every unknown word one unknown token.
    const model: Json = json.model?.type === 'WordLevel' ? { ...json.model, type: 'WordPiece', continuing_subword_prefix: '\u0000\u0000', max_input_chars_per_word: Number.MAX_SAFE_INTEGER } : json.model;
    try {
      // HF's Rust crate treats absent members as null; @huggingface/tokenizers insists on every key.
      return new HfTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json, model }, config);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = /Unknown/.test(message) ? ErrorCode.UNSUPPORTED : ErrorCode.FILE_FORMAT;
      throw new BitNetError(code, 'loadHfTokenizer', `${path}: @huggingface/tokenizers cannot build this tokenizer: ${message}`, { cause: error });
    }
  }

  private refreshTables(): void {
    // Read from this.hf: a rebuilt tokenizer (added tokens) reads them again.
    this.layouts.clear();
    this.pairProbeIds = null;
    const vocab = this.hf.get_vocab(true);
    let size = 0;
    for (const id of vocab.values()) if (id >= size) size = id + 1;
    this.idTable = new Array(size);
    for (const [token, id] of vocab) if (this.idTable[id] === undefined) this.idTable[id] = token;
    this.added.clear();
    this.specialSet.clear();
    for (const token of (this.json.added_tokens ?? []) as Json[]) {
      this.added.set(token.content, { id: token.id, special: token.special === true });
      this.idTable[token.id] = token.content;
      if (token.special) this.specialSet.set(token.content, token.id);
    }
    this.rolesByName = resolveRoles(this.roles, (token) => this.tokenToId(token));
  }

  get vocabSize(): number {
    return this.idTable.length;
  }

  get specialTokens(): Readonly<Partial<Record<SpecialTokenRole, SpecialToken>>> {
    return this.rolesByName;
  }

  get allSpecialTokens(): ReadonlyMap<string, number> {
    return this.specialSet;
  }

  tokenToId(token: string): number | undefined {
    if (typeof token !== 'string') return undefined;
    return this.added.get(token)?.id ?? this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.idTable.length) return undefined;
    return this.idTable[id];
  }

  /** What a token covers in the text, for alignment. */
  private surface(token: string): string {
    // An added token may be matched on normalized text (Gemma's "▁▁" for two spaces).
    if (this.added.has(token)) return token.replaceAll('\u2581', ' ');
    // A byte-fallback piece of an ASCII character is that character; pieces of a longer
    // character match nothing and take the character's span once the next token is found.
    const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (fallback && this.byteFallback) {
      const byte = Number.parseInt(fallback[1]!, 16);
      return byte < 0x80 ? String.fromCharCode(byte) : '';
    }
    let text = token;
    if (this.wordPiecePrefix && text.startsWith(this.wordPiecePrefix)) text = text.slice(this.wordPiecePrefix.length);
    if (this.byteLevelDecoder) {
      // Byte-level tokens carry their spaces exactly: match them as they are.
      const bytes = byteLevelTokenToBytes(text);
      if (bytes) return utf8Decoder.decode(bytes).replaceAll('\ufffd', '');
    }
    // SentencePiece's '▁' stands for the space before the word (HF's offsets include it).
    return text.replaceAll('\u2581', ' ');
  }

  /**
   * Where `piece` starts at or after `cursor` with only whitespace skipped, or -1; with `slack`, up to that
   * many other characters may come first (text that tokens waiting to be aligned stand for).
   */
  private static find(text: string, lower: string | null, piece: string, cursor: number, slack = 0): number {
    if (piece.length === 0) return -1;
    const fits = (index: number) => {
      if (index < 0) return false;
      const gap = text.slice(cursor, index);
      return gap.trim() === '' || gap.length <= slack;
    };
    if (piece.trim().length === 0) {
      if (text.startsWith(piece, cursor)) return cursor;
      return slack > 0 && fits(text.indexOf(piece, cursor)) ? text.indexOf(piece, cursor) : -1;
    }
    let index = text.indexOf(piece, cursor);
    if (fits(index)) return index;
    if (lower !== null && lower.length === text.length) {
      index = lower.indexOf(piece.toLowerCase(), cursor);
      if (fits(index)) return index;
    }
    return -1;
  }

  /** For byte-fallback tokens (`<0xNN>`), the index of the UTF-8 character each byte belongs to; null if any is not one. */
  private static byteGroups(tokens: string[]): number[] | null {
    const groups: number[] = [];
    let group = -1;
    let remaining = 0;
    for (const token of tokens) {
      const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
      if (!match) return null;
      const byte = Number.parseInt(match[1]!, 16);
      if (remaining > 0 && (byte & 0xc0) === 0x80) {
        remaining--;
      } else {
        group++;
        remaining = byte >= 0xf0 ? 3 : byte >= 0xe0 ? 2 : byte >= 0xc0 ? 1 : 0;
      }
      groups.push(group);
    }
    return groups;
  }

  /**
   * Offsets by aligning each token's surface text with the input, left to right. A token that cannot be
   * found where the text continues (an unknown word, byte-fallback pieces, part of a character, text a
   * normalizer changed: lowercased, accents stripped, NFKC) waits; the next token found settles it: the
   * waiting tokens get the text between (spaces trimmed), as HF gives every piece of one character the
   * character's span. So one unmatched token never shifts or empties the spans after it.
   */
  private align(text: string, tokens: string[], offsets: Int32Array, from: number): void {
    if ((this.prependsSpace || (this.metaspacePrepends && text[0] !== ' ')) && text.length > 0) {
      // Align against the text with the prepended '▁' (as a space), then map back: the inserted
      // character stands for the first one, as in HF's NormalizedString::prepend.
      this.alignText(` ${text}`, tokens, offsets, from);
      for (let i = from; i < from + tokens.length; i++) {
        const start = offsets[2 * i]!;
        const end = offsets[2 * i + 1]!;
        offsets[2 * i] = Math.max(0, start - 1);
        offsets[2 * i + 1] = end === 1 && start === 0 ? 1 : Math.max(0, end - 1);
      }
      return;
    }
    this.alignText(text, tokens, offsets, from);
  }

  private alignText(text: string, tokens: string[], offsets: Int32Array, from: number): void {
    let cursor = 0;
    let lower: string | null = null;
    let waiting: number[] = [];
    let waitingLength = 0;
    const unk = this.hf.model?.unk_token;
    const settle = (until: number) => {
      let start = cursor;
      let end = until;
      while (start < end && /\s/.test(text[start]!)) start++;
      while (end > start && /\s/.test(text[end - 1]!)) end--;
      // As many words (or else characters) as waiting tokens: one each (two unknown words, two CJK
      // characters); otherwise every waiting token gets the whole gap (the bytes of one character).
      const gap = text.slice(start, end);
      const words = [...gap.matchAll(/\S+/g)];
      const characters = [...gap.matchAll(/[^]/gu)];
      // Byte-fallback pieces: the bytes of one UTF-8 character (its lead byte tells how many) share it.
      const groups = this.byteFallback ? HuggingFaceTokenizer.byteGroups(waiting.map((i) => tokens[i]!)) : null;
      const byGroup = groups !== null && groups[groups.length - 1]! + 1 === characters.length;
      const pieces = byGroup ? null : words.length === waiting.length ? words : characters.length === waiting.length ? characters : null;
      waiting.forEach((i, k) => {
        const piece = byGroup ? characters[groups![k]!] : pieces?.[k];
        offsets[2 * (from + i)] = piece ? start + piece.index! : start;
        offsets[2 * (from + i) + 1] = piece ? start + piece.index! + piece[0].length : end;
      });
      waiting = [];
      waitingLength = 0;
      cursor = Math.max(cursor, end);
    };
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const literalUnknown = unk !== undefined && token === unk && text.slice(cursor).trimStart().startsWith(unk);
      const piece = unk !== undefined && token === unk && !literalUnknown ? '' : this.surface(token);
      lower ??= text.toLowerCase();
      // Past waiting tokens the text may hold anything they stand for; bounded, so a far repeat of the piece is not taken.
      const slack = waiting.length > 0 ? Math.max(16, 8 * waitingLength) : 0;
      let index = HuggingFaceTokenizer.find(text, lower, piece, cursor, slack);
      let length = piece.length;
      if (index < 0 && piece.trim() !== piece) {
        const trimmed = piece.trim();
        index = HuggingFaceTokenizer.find(text, lower, trimmed, cursor, slack);
        length = trimmed.length;
      }
      if (index < 0) {
        waiting.push(i);
        waitingLength += Math.max(1, token.length);
        offsets[2 * (from + i)] = cursor;
        offsets[2 * (from + i) + 1] = cursor;
        continue;
      }
      if (waiting.length > 0) settle(index);
      offsets[2 * (from + i)] = index;
      offsets[2 * (from + i) + 1] = index + length;
      cursor = index + length;
    }
    // Tokens still waiting at the end stand for the rest of the text.
    if (waiting.length > 0) settle(text.length);
  }

  /** The post-processed encoding, with a pair @huggingface/tokenizers dropped appended as HF's Rust default merge does. */
  /** `first` and `second` are the sequences already encoded without special tokens (not encoded again here). */
  private postProcessed(text: string, pair: string | undefined, addSpecialTokens: boolean, first: { ids: number[] }, second: { ids: number[]; tokens: string[] } | null) {
    if (pair === '' && addSpecialTokens) {
      const withEmpty = this.emptyPairProcessed(text, first);
      if (withEmpty !== null) return withEmpty;
    }
    const full = this.hf.encode(text, { text_pair: pair ?? null, add_special_tokens: addSpecialTokens, return_token_type_ids: true });
    if (second && full.ids.length < first.ids.length + second.ids.length) {
      // @huggingface/tokenizers 0.2.0 drops the pair when the post-processor does not merge
      // sequences (ByteLevel): append it with type id 1, as HF's Rust default merge does.
      full.token_type_ids = [...(full.token_type_ids ?? full.ids.map(() => 0)), ...second.ids.map(() => 1)];
      full.ids = [...full.ids, ...second.ids];
      full.tokens = [...full.tokens, ...second.tokens];
    }
    return full;
  }

  /**
   * `text` with an empty pair: @huggingface/tokenizers 0.2.0 takes an empty `text_pair` for none,
   * where HF's Rust crate applies the pair template around an empty second sequence ([CLS] a [SEP]
   * [SEP] for BERT). Encodes with a stand-in pair and takes its tokens out; null when the template
   * has no fixed layout.
   */
  private emptyPairProcessed(text: string, first: { ids: number[] }) {
    const layout = this.layout(true);
    const stand = this.pairProbeIds;
    if (layout === null || stand === null) return null;
    const full = this.hf.encode(text, { text_pair: PAIR_PROBE, add_special_tokens: true, return_token_type_ids: true });
    const at = layout[0] + first.ids.length + layout[1];
    if (full.ids.length !== at + stand.length + layout[2] || !stand.every((id, k) => full.ids[at + k] === id)) return null;
    full.ids.splice(at, stand.length);
    full.tokens.splice(at, stand.length);
    full.token_type_ids?.splice(at, stand.length);
    return full;
  }

  private layouts = new Map<string, [number, number, number] | null>();
  /** The ids of PAIR_PROBE alone, read with the pair layout. */
  private pairProbeIds: number[] | null = null;

  /**
   * How many tokens the post-processor puts before, between and after the sequences (fixed by its
   * template), read once from a probe whose tokens cannot be mistaken for the inserted ones. Used to
   * place the sequences in an encoding whose text itself holds special-token text ("<s>hello").
   */
  private layout(pair: boolean): [number, number, number] | null {
    const key = pair ? 'pair' : 'single';
    if (this.layouts.has(key)) return this.layouts.get(key)!;
    let result: [number, number, number] | null = null;
    const probeFirst = this.hf.encode('a', { add_special_tokens: false });
    const probeSecond = pair ? this.hf.encode(PAIR_PROBE, { add_special_tokens: false }) : null;
    const full = this.postProcessed('a', pair ? PAIR_PROBE : undefined, true, probeFirst, probeSecond).ids;
    const a = probeFirst.ids;
    const b = probeSecond ? probeSecond.ids : [];
    if (pair) this.pairProbeIds = b;
    const at = (list: number[], from: number) => {
      for (let p = from; p + list.length <= full.length; p++) if (list.every((id, k) => full[p + k] === id)) return p;
      return -1;
    };
    const start = at(a, 0);
    const second = start >= 0 && pair ? at(b, start + a.length) : start + a.length;
    if (start >= 0 && second >= 0) result = [start, second - start - a.length, full.length - second - b.length];
    this.layouts.set(key, result);
    return result;
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    options = optionsObject('encode', options);
    checkText('encode', text, 'text');
    const pair = options.pair;
    if (pair !== undefined) checkText('encode', pair, 'options.pair');
    // HF's Rust tokenizers read JS strings as UTF-8, where a lone surrogate becomes U+FFFD (same length in UTF-16).
    text = wellFormed(text);
    const pairText = pair === undefined ? undefined : wellFormed(pair);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const first = this.hf.encode(text, { add_special_tokens: false });
    const second = pairText !== undefined ? this.hf.encode(pairText, { add_special_tokens: false }) : null;
    const full = this.postProcessed(text, pairText, addSpecialTokens, first, second);
    const n = full.ids.length;
    const arrays = allocateEncodingArrays(n);
    const { ids, offsets, typeIds, special, sequenceIds } = arrays;
    ids.set(full.ids);
    special.fill(1);
    sequenceIds.fill(-1);
    const firstOffsets = new Int32Array(2 * first.ids.length);
    this.align(text, first.tokens, firstOffsets, 0);
    const secondOffsets = second ? new Int32Array(2 * second.ids.length) : null;
    if (second && pairText !== undefined && secondOffsets) this.align(pairText, second.tokens, secondOffsets, 0);
    if (this.trim) {
      trimTokenOffsets(firstOffsets, first.ids.length, (i) => first.tokens[i]!, this.trim.addPrefixSpace);
      if (second && secondOffsets) trimTokenOffsets(secondOffsets, second.ids.length, (i) => second.tokens[i]!, this.trim.addPrefixSpace);
    }
    const place = (position: number, sequence: 0 | 1, index: number) => {
      const source = sequence === 0 ? firstOffsets : secondOffsets!;
      sequenceIds[position] = sequence;
      special[position] = 0;
      offsets[2 * position] = source[2 * index]!;
      offsets[2 * position + 1] = source[2 * index + 1]!;
    };
    const secondLength = second ? second.ids.length : 0;
    const layout = addSpecialTokens ? this.layout(second !== null) : ([0, 0, 0] as [number, number, number]);
    const fits =
      layout !== null &&
      layout[0] + first.ids.length + layout[1] + secondLength + layout[2] === n &&
      first.ids.every((id, k) => ids[layout[0] + k] === id) &&
      (!second || second.ids.every((id, k) => ids[layout[0] + first.ids.length + layout[1] + k] === id));
    if (fits) {
      for (let k = 0; k < first.ids.length; k++) place(layout[0] + k, 0, k);
      for (let k = 0; k < secondLength; k++) place(layout[0] + first.ids.length + layout[1] + k, 1, k);
    } else {
      // No fixed template: walk the post-processed ids, the sequences' own tokens appear in order.
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        if (a < first.ids.length && ids[i] === first.ids[a]) place(i, 0, a++);
        else if (second && a >= first.ids.length && b < second.ids.length && ids[i] === second.ids[b]) place(i, 1, b++);
      }
    }
    if (!this.singleTypeId) for (let i = 0; i < n; i++) typeIds[i] = full.token_type_ids ? full.token_type_ids[i]! : sequenceIds[i] === 1 ? 1 : 0;
    return new TokenEncoding(arrays, this.idTable, full.tokens);
  }

  async encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): Promise<Encoding[]> {
    options = optionsObject('encodeBatch', options);
    const pairs = checkBatchArguments('encodeBatch', texts, options);
    return encodeSequentially(this, texts, pairs, options.addSpecialTokens ?? true);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    options = optionsObject('decode', options);
    checkDecodeIds('decode', ids, this.idTable.length);
    if (ids.length === 0) return '';
    const text = this.hf.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
    return options.cleanUpTokenizationSpaces ? cleanUpTokenizationSpaces(text) : text;
  }

  decodeBatch(batch: ReadonlyArray<ArrayLike<number>>, options: DecodeOptions = {}): string[] {
    return decodeEach((ids, o) => this.decode(ids, o), batch, options);
  }

  createDecodeStream(options: DecodeOptions = {}): DecodeStream {
    options = optionsObject('createDecodeStream', options);
    return prefixDecodeStream((ids, o) => this.decode(ids, o), () => this.idTable.length, options);
  }

  addSpecialTokens(tokens: ReadonlyArray<readonly [string, number]>, roles: Partial<Record<SpecialTokenRole, string>> = {}): void {
    const added = registerSpecialTokens('addSpecialTokens', tokens, roles, (t) => this.tokenToId(t), (id) => this.idToToken(id), this.idTable.length);
    const list: Json[] = [...((this.json.added_tokens ?? []) as Json[])];
    for (const [content, id] of added) {
      const index = list.findIndex((t) => t.content === content);
      const entry = { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
      if (index >= 0) list[index] = { ...list[index], special: true };
      else list.push(entry);
    }
    const json = { ...this.json, added_tokens: list };
    // Rebuild first: if it fails, nothing has changed.
    const hf = HuggingFaceTokenizer.build(json, this.config, 'addSpecialTokens');
    this.json = json;
    this.hf = hf;
    this.roles = { ...this.roles, ...roles };
    this.refreshTables();
  }
}
