// Tokenizers the fast path does not cover (WordPiece, Unigram, SentencePiece-
// style BPE, normalizers, …) run through @huggingface/tokenizers, behind the
// same interface. Offsets come from aligning each token's surface text with
// the input (that library does not report offsets); a token that cannot be
// aligned gets an empty span at the current position.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BitNetError, ErrorCode } from '@bitnet/errors';
import { TokenEncoding } from './encoding.js';
import { cleanUpTokenizationSpaces } from './cleanup.js';
import { checkBatchArguments, encodeSequentially } from './batch.js';
import { optionsObject, checkDecodeIds, checkText, decodeEach, prefixDecodeStream, registerSpecialTokens, resolveRoles } from './common.js';
import { byteLevelTokenToBytes } from './byte-level.js';
import { assignAddedTokenIds } from './tokenizer-json.js';
import type { DecodeOptions, DecodeStream, EncodeBatchOptions, EncodeOptions, Encoding, SpecialToken, SpecialTokenRole, Tokenizer } from './types.js';

type Json = Record<string, any>;

const utf8Decoder = new TextDecoder();

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

  private static build(json: Json, config: Json, path: string): HfTokenizer {
    try {
      // HF's Rust crate treats absent members as null; @huggingface/tokenizers insists on every key.
      return new HfTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json }, config);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = /Unknown/.test(message) ? ErrorCode.UNSUPPORTED : ErrorCode.FILE_FORMAT;
      throw new BitNetError(code, 'loadHfTokenizer', `${path}: @huggingface/tokenizers cannot build this tokenizer: ${message}`, { cause: error });
    }
  }

  private refreshTables(): void {
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
    if (this.added.has(token)) return token;
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

  /** Where `piece` starts at or after `cursor` with only whitespace skipped, or -1. */
  private static find(text: string, lower: string | null, piece: string, cursor: number): number {
    if (piece.length === 0) return -1;
    if (piece.trim().length === 0) return text.startsWith(piece, cursor) ? cursor : -1;
    let index = text.indexOf(piece, cursor);
    if (index >= 0 && text.slice(cursor, index).trim() === '') return index;
    if (lower !== null && lower.length === text.length) {
      index = lower.indexOf(piece.toLowerCase(), cursor);
      if (index >= 0 && lower.slice(cursor, index).trim() === '') return index;
    }
    return -1;
  }

  private align(text: string, tokens: string[], offsets: Int32Array, from: number): void {
    let cursor = 0;
    let lower: string | null = null;
    const unk = this.hf.model?.unk_token;
    for (let i = 0; i < tokens.length; i++) {
      const piece = this.surface(tokens[i]);
      let start = cursor;
      let end = cursor;
      if (unk !== undefined && tokens[i] === unk && !this.added.has(text.slice(cursor).trimStart().slice(0, unk.length))) {
        // The unknown token stands for the next word.
        while (start < text.length && /\s/.test(text[start])) start++;
        end = start;
        while (end < text.length && !/\s/.test(text[end])) end++;
        cursor = end;
      } else {
        // The token's text as it is, then without the spaces around it (a normalizer may have added them).
        lower ??= text.toLowerCase();
        let index = HuggingFaceTokenizer.find(text, lower, piece, cursor);
        let length = piece.length;
        if (index < 0) {
          const trimmed = piece.trim();
          index = HuggingFaceTokenizer.find(text, lower, trimmed, cursor);
          length = trimmed.length;
        }
        if (index >= 0) {
          start = index;
          end = index + length;
          cursor = end;
        }
      }
      offsets[2 * (from + i)] = start;
      offsets[2 * (from + i) + 1] = end;
    }
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    options = optionsObject('encode', options);
    checkText('encode', text, 'text');
    const pair = options.pair;
    if (pair !== undefined) checkText('encode', pair, 'options.pair');
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const full = this.hf.encode(text, { text_pair: pair ?? null, add_special_tokens: addSpecialTokens, return_token_type_ids: true });
    const first = this.hf.encode(text, { add_special_tokens: false });
    const second = pair !== undefined ? this.hf.encode(pair, { add_special_tokens: false }) : null;
    if (second && full.ids.length < first.ids.length + second.ids.length) {
      // @huggingface/tokenizers 0.2.0 drops the pair when the post-processor does not merge
      // sequences (ByteLevel): append it with type id 1, as HF's Rust default merge does.
      full.ids = [...full.ids, ...second.ids];
      full.tokens = [...full.tokens, ...second.tokens];
      full.token_type_ids = [...(full.token_type_ids ?? full.ids.slice(0, full.ids.length - second.ids.length).map(() => 0)), ...second.ids.map(() => 1)];
    }
    const n = full.ids.length;
    const ids = Int32Array.from(full.ids);
    const offsets = new Int32Array(2 * n);
    const typeIds = new Uint8Array(n);
    const special = new Uint8Array(n);
    const sequenceIds = new Int8Array(n).fill(-1);
    const firstOffsets = new Int32Array(2 * first.ids.length);
    this.align(text, first.tokens, firstOffsets, 0);
    const secondOffsets = second ? new Int32Array(2 * second.ids.length) : null;
    if (second && pair !== undefined && secondOffsets) this.align(pair, second.tokens, secondOffsets, 0);
    // Walk the post-processed ids: the sequences' own tokens appear in order, the rest were inserted.
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (a < first.ids.length && ids[i] === first.ids[a]) {
        sequenceIds[i] = 0;
        offsets[2 * i] = firstOffsets[2 * a];
        offsets[2 * i + 1] = firstOffsets[2 * a + 1];
        a++;
      } else if (second && secondOffsets && a >= first.ids.length && b < second.ids.length && ids[i] === second.ids[b]) {
        sequenceIds[i] = 1;
        offsets[2 * i] = secondOffsets[2 * b];
        offsets[2 * i + 1] = secondOffsets[2 * b + 1];
        b++;
      } else {
        special[i] = 1;
      }
      typeIds[i] = full.token_type_ids ? full.token_type_ids[i] : sequenceIds[i] === 1 ? 1 : 0;
    }
    return new TokenEncoding(ids, offsets, typeIds, special, sequenceIds, this.idTable, full.tokens);
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
