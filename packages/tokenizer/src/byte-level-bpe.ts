// The fast path: byte-level BPE tokenizers (GPT-2, LLaMA-3, Qwen, … — every
// tokenizer.json whose model is BPE over GPT-2's byte alphabet, with no
// normalizer) encoded and decoded entirely here, exactly as HF's Rust crate does.
import { ErrorCode, BitNetError } from '@bitnet/errors';
import { AddedTokenMatcher, type AddedTokenSpec } from './added-tokens.js';
import { BpeMerger, buildMergeTables, type BpeTables } from './bpe.js';
import { byteToChar, charCodeToByte } from './byte-level.js';
import { StringIdTable } from './string-table.js';
import { WordCache } from './word-cache.js';
import { gpt2Scanner, llama3Scanner, type PieceScanner } from './scanners.js';
import { GPT2_SPLIT_PATTERN, LLAMA3_SPLIT_PATTERN, translateOnigurumaPattern } from './regex.js';
import { EncodingBuilder, type TokenEncoding } from './encoding.js';
import { postProcess, type PostProcessorSpec } from './post-processor.js';
import { cleanUpTokenizationSpaces } from './cleanup.js';
import { ByteDecodeStream } from './decode-stream.js';
import type {
  DecodeOptions,
  DecodeStream,
  EncodeBatchOptions,
  EncodeOptions,
  Encoding,
  SpecialToken,
  SpecialTokenRole,
  Tokenizer,
} from './types.js';
import { optionsObject, checkDecodeIds, checkText, decodeEach, registerSpecialTokens, resolveRoles } from './common.js';
import { clearWorkerCaches, encodeBatchWithWorkers, invalidateWorkers } from './batch.js';

/** Everything needed to rebuild the tokenizer (in a worker thread, say): plain data only. */
export interface ByteLevelBpeSpec {
  kind: 'byte-level-bpe';
  /** Model vocabulary: id → byte-level token string (null where the model has no token). */
  vocab: Array<string | null>;
  /** Merges as (left id, right id, merged id) triples, in rank order. */
  merges: Int32Array;
  ignoreMerges: boolean;
  /** JS RegExp source of the pre-tokenizer split (u flag), or null to treat each segment as one word. */
  splitPattern: string | null;
  addPrefixSpace: boolean;
  addedTokens: AddedTokenSpec[];
  postProcessor: PostProcessorSpec;
  /** Role → token content. */
  roles: Partial<Record<SpecialTokenRole, string>>;
  /** Merge tables already built from `merges` (shared with worker threads); built when absent. */
  tables?: BpeTables;
}

/** Words cached before the cache is cleared; bounds memory on huge, diverse inputs. */
const CACHE_LIMIT = 200_000;
/** Longest word (UTF-16 units) kept in the cache. */
const MAX_CACHED_WORD = 256;
const utf8 = new TextEncoder();

export class ByteLevelBpeTokenizer implements Tokenizer {
  readonly kind = 'byte-level-bpe' as const;
  private readonly spec: ByteLevelBpeSpec;
  private readonly vocab: StringIdTable;
  private readonly addedByContent = new Map<string, AddedTokenSpec>();
  private readonly idTable: Array<string | undefined>;
  private merger: BpeMerger;
  private tables: BpeTables;
  private readonly byteIds: Int32Array;
  private readonly splitter: RegExp | null;
  private readonly specialMatcher = new AddedTokenMatcher();
  private readonly normalizedMatcher = new AddedTokenMatcher();
  private readonly cache = new WordCache(CACHE_LIMIT);
  private readonly scanner: PieceScanner | null;
  private decodeBytes: Uint8Array;
  private decodeStart: Int32Array;
  private specialIds: Uint8Array;
  /** Decode tables are built on first use (≈ 17 ms of LLaMA-3's load that encode-only callers never need). */
  private decodeTablesStale = true;
  private rolesByName: Partial<Record<SpecialTokenRole, SpecialToken>> = {};
  private specialSet = new Map<string, number>();
  // Scratch for words missing from the cache.
  private bytes = new Uint8Array(256);
  private charStart = new Int32Array(256);
  private charEnd = new Int32Array(256);
  private symbols = new Int32Array(256);
  private lengths = new Int32Array(256);
  private readonly first = new EncodingBuilder(1024);
  private readonly second = new EncodingBuilder(64);

  /** `vocabTable` (token → id of `spec.vocab`) saves rebuilding it when the loader already has it. */
  constructor(spec: ByteLevelBpeSpec, vocabTable?: StringIdTable) {
    this.spec = spec;
    const vocab = spec.vocab;
    let size = vocab.length;
    for (const token of spec.addedTokens) size = Math.max(size, token.id + 1);
    this.idTable = new Array<string | undefined>(size);
    if (vocabTable) this.vocab = vocabTable;
    else {
      this.vocab = new StringIdTable(vocab.length);
      for (let id = 0; id < vocab.length; id++) {
        const token = vocab[id];
        if (token !== null && token !== undefined) this.vocab.set(token, id);
      }
    }
    for (let id = 0; id < vocab.length; id++) {
      const token = vocab[id];
      if (token !== null && token !== undefined) this.idTable[id] = token;
    }
    this.byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = this.vocab.get(byteToChar[b]);
      if (id < 0) {
        throw new BitNetError(ErrorCode.FILE_FORMAT, 'ByteLevelBpeTokenizer', `byte-level vocabulary has no token for byte 0x${b.toString(16)} ("${byteToChar[b]}")`);
      }
      this.byteIds[b] = id;
    }
    // Tables handed over by another thread (SharedArrayBuffer) are used as they are: no rebuild.
    this.tables = spec.tables ?? buildMergeTables(spec.merges, spec.merges.length / 3, this.byteIds);
    this.merger = new BpeMerger(this.tables);
    this.splitter = spec.splitPattern === null ? null : new RegExp(spec.splitPattern, 'gu');
    // The two common patterns have allocation-free scanners with the same results.
    this.scanner =
      spec.splitPattern === translateOnigurumaPattern(LLAMA3_SPLIT_PATTERN)
        ? llama3Scanner
        : spec.splitPattern === translateOnigurumaPattern(GPT2_SPLIT_PATTERN)
          ? gpt2Scanner
          : null;
    for (const token of spec.addedTokens) this.installAddedToken(token);
    this.decodeBytes = new Uint8Array(0);
    this.decodeStart = new Int32Array(1);
    this.specialIds = new Uint8Array(0);
    this.rolesByName = resolveRoles(spec.roles, (token) => this.tokenToId(token));
  }

  private installAddedToken(token: AddedTokenSpec): void {
    this.addedByContent.set(token.content, token);
    this.idTable[token.id] = token.content;
    // As in HF, a text listed twice stays special if either entry is.
    if (token.special) this.specialSet.set(token.content, token.id);
    // HF matches tokens that skip normalization first, then the normalized ones in what is left.
    (token.normalized ? this.normalizedMatcher : this.specialMatcher).add(token);
  }

  private rebuildDecodeTables(): void {
    this.decodeTablesStale = false;
    const size = this.idTable.length;
    const table = this.idTable;
    // Byte-level tokens are one byte per character; the rare others are stored as UTF-8.
    let total = 0;
    for (let id = 0; id < size; id++) {
      const token = table[id];
      if (token !== undefined) total += token.length * 3;
    }
    let bytes = new Uint8Array(total);
    const starts = new Int32Array(size + 1);
    let offset = 0;
    for (let id = 0; id < size; id++) {
      starts[id] = offset;
      const token = table[id];
      if (token === undefined) continue;
      let k = 0;
      for (; k < token.length; k++) {
        const code = token.charCodeAt(k);
        const b = code < charCodeToByte.length ? charCodeToByte[code] : -1;
        if (b < 0) break;
        bytes[offset + k] = b;
      }
      if (k === token.length) offset += k;
      else offset += utf8.encodeInto(token, bytes.subarray(offset)).written;
    }
    starts[size] = offset;
    if (offset < bytes.length / 2) bytes = bytes.slice(0, offset);
    this.decodeBytes = bytes;
    this.decodeStart = starts;
    this.specialIds = new Uint8Array(size);
    for (const id of this.specialSet.values()) this.specialIds[id] = 1;
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

  /** The plain-data description this tokenizer was built from (added tokens included). */
  toSpec(): ByteLevelBpeSpec {
    // The merge tables move to shared memory once, so every worker thread reads the same copy.
    if (!(this.tables.mergeSlots.buffer instanceof SharedArrayBuffer)) {
      const share = (array: Int32Array): Int32Array => {
        const shared = new Int32Array(new SharedArrayBuffer(array.byteLength));
        shared.set(array);
        return shared;
      };
      this.tables = { mergeSlots: share(this.tables.mergeSlots), mergeResult: share(this.tables.mergeResult), byteIds: this.tables.byteIds };
      this.merger = new BpeMerger(this.tables);
    }
    return { ...this.spec, addedTokens: [...this.addedByContent.values()], tables: this.tables };
  }

  idTableView(): ArrayLike<string | undefined> {
    return this.idTable;
  }

  tokenToId(token: string): number | undefined {
    if (typeof token !== 'string') return undefined;
    const added = this.addedByContent.get(token);
    if (added !== undefined) return added.id;
    const id = this.vocab.get(token);
    return id < 0 ? undefined : id;
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.idTable.length) return undefined;
    return this.idTable[id];
  }

  // ---- encoding -------------------------------------------------------------

  encode(text: string, options: EncodeOptions = {}): Encoding {
    options = optionsObject('encode', options);
    checkText('encode', text, 'text');
    const pair = options.pair;
    if (pair !== undefined) checkText('encode', pair, 'options.pair');
    const addSpecialTokens = options.addSpecialTokens ?? true;
    this.first.reset();
    this.encodeSequence(text, this.first);
    let second: EncodingBuilder | null = null;
    if (pair !== undefined) {
      second = this.second;
      second.reset();
      this.encodeSequence(pair, second);
    }
    return postProcess(this.spec.postProcessor, this.first, second, addSpecialTokens, this.idTable);
  }

  /** Only the ids (no post-processing, no offsets kept): the cheapest way to count or feed a model. */
  encodeIds(text: string): Int32Array {
    checkText('encodeIds', text, 'text');
    this.first.reset();
    this.encodeSequence(text, this.first);
    return this.first.ids.slice(0, this.first.length);
  }

  private encodeSequence(text: string, out: EncodingBuilder): void {
    const specials = this.specialMatcher.size > 0 ? this.specialMatcher.find(text, 0, text.length) : [];
    let position = 0;
    for (const match of specials) {
      this.encodeNormalizedPart(text, position, match.start, out);
      out.push(match.token.id, match.start, match.end);
      // lstrip/rstrip took whitespace: HF's token is the matched text.
      if (match.end - match.start !== match.token.content.length) out.setLastTokenText(text.slice(match.start, match.end));
      position = match.end;
    }
    this.encodeNormalizedPart(text, position, text.length, out);
  }

  private encodeNormalizedPart(text: string, start: number, end: number, out: EncodingBuilder): void {
    if (start >= end) return;
    if (this.normalizedMatcher.size === 0) {
      this.encodePlain(text, start, end, out);
      return;
    }
    let position = start;
    for (const match of this.normalizedMatcher.find(text, start, end)) {
      this.encodePlain(text, position, match.start, out);
      out.push(match.token.id, match.start, match.end);
      if (match.end - match.start !== match.token.content.length) out.setLastTokenText(text.slice(match.start, match.end));
      position = match.end;
    }
    this.encodePlain(text, position, end, out);
  }

  /** Pre-tokenizes and BPE-encodes `text[start, end)`, which holds no added token. */
  private encodePlain(text: string, start: number, end: number, out: EncodingBuilder): void {
    if (start >= end) return;
    const scanner = this.scanner;
    if (scanner !== null && !this.spec.addPrefixSpace) {
      for (let position = start; position < end; ) {
        const next = scanner(text, position, end);
        this.encodeWord(text, position, next, position, out);
        position = next;
      }
      return;
    }
    // The split runs on the segment alone, so lookaheads stop at added tokens, as in HF.
    let segment = start === 0 && end === text.length ? text : text.slice(start, end);
    let base = start;
    const firstToken = out.length;
    const prefixed = this.spec.addPrefixSpace && segment.charCodeAt(0) !== 0x20;
    if (prefixed) {
      segment = ' ' + segment;
      base--;
    }
    const length = segment.length;
    if (scanner !== null) {
      for (let position = 0; position < length; ) {
        const next = scanner(segment, position, length);
        this.encodeWord(segment, position, next, base + position, out);
        position = next;
      }
    } else if (this.splitter === null) {
      this.encodeWord(segment, 0, length, base, out);
    } else {
      const splitter = this.splitter;
      splitter.lastIndex = 0;
      let last = 0;
      let match: RegExpExecArray | null;
      while ((match = splitter.exec(segment)) !== null) {
        const index = match.index;
        const matchEnd = index + match[0].length;
        if (matchEnd === index) {
          splitter.lastIndex++;
          continue;
        }
        if (index > last) this.encodeWord(segment, last, index, base + last, out);
        this.encodeWord(segment, index, matchEnd, base + index, out);
        last = matchEnd;
      }
      if (last < length) this.encodeWord(segment, last, length, base + last, out);
    }
    if (prefixed) {
      // HF aligns the inserted space with the segment's first character: a token starting on it
      // starts there, and one made of the space alone spans that character.
      const c = text.charCodeAt(start);
      const firstEnd = start + (c >= 0xd800 && c <= 0xdbff && start + 1 < end && (text.charCodeAt(start + 1) & 0xfc00) === 0xdc00 ? 2 : 1);
      for (let i = firstToken; i < out.length && out.offsets[2 * i] < start; i++) {
        out.offsets[2 * i] = start;
        if (out.offsets[2 * i + 1] <= start) out.offsets[2 * i + 1] = firstEnd;
      }
    }
  }

  /** Encodes the word `text[start, end)`; its offsets are shifted to begin at `base`. */
  private encodeWord(text: string, start: number, end: number, base: number, out: EncodingBuilder): void {
    // Long words (base64 runs, say) are rare and would pin big strings: they skip the cache, as in HF.
    if (end - start > MAX_CACHED_WORD) {
      out.pushWord(this.bpeWord(text, start, end), base);
      if (this.bytes.length > 1 << 16) this.growScratch(256, true);
      return;
    }
    const cache = this.cache;
    let at = cache.get(text, start, end);
    if (at < 0) at = cache.setLast(text, start, end, this.bpeWord(text, start, end));
    // arena[at] is 3·tokens, the triples follow (read after setLast: it may replace the arena).
    const arena = cache.arena;
    out.pushTriples(arena, at + 1, at + 1 + arena[at], base);
  }

  private growScratch(size: number, shrink = false): void {
    let capacity = shrink ? size : this.bytes.length;
    while (capacity < size) capacity *= 2;
    this.bytes = new Uint8Array(capacity);
    this.charStart = new Int32Array(capacity);
    this.charEnd = new Int32Array(capacity);
    this.symbols = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
  }

  /** BPE of one pre-tokenized word → [id, start, end, …] with UTF-16 offsets relative to the word. */
  private bpeWord(text: string, start: number, end: number): Int32Array {
    const wordLength = end - start;
    if (wordLength * 3 > this.bytes.length) this.growScratch(wordLength * 3);
    const bytes = this.bytes;
    const charStart = this.charStart;
    const charEnd = this.charEnd;
    let n = 0;
    for (let i = 0; i < wordLength; i++) {
      let code = text.charCodeAt(start + i);
      if (code < 0x80) {
        bytes[n] = code;
        charStart[n] = i;
        charEnd[n++] = i + 1;
        continue;
      }
      let units = 1;
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < wordLength) {
        const low = text.charCodeAt(start + i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          units = 2;
        }
      }
      if (units === 1 && code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // lone surrogate, as the UTF-8 conversion does
      const startIndex = i;
      const endIndex = i + units;
      if (code < 0x800) {
        bytes[n++] = 0xc0 | (code >> 6);
        bytes[n++] = 0x80 | (code & 0x3f);
      } else if (code < 0x10000) {
        bytes[n++] = 0xe0 | (code >> 12);
        bytes[n++] = 0x80 | ((code >> 6) & 0x3f);
        bytes[n++] = 0x80 | (code & 0x3f);
      } else {
        bytes[n++] = 0xf0 | (code >> 18);
        bytes[n++] = 0x80 | ((code >> 12) & 0x3f);
        bytes[n++] = 0x80 | ((code >> 6) & 0x3f);
        bytes[n++] = 0x80 | (code & 0x3f);
      }
      for (let k = n - (code < 0x800 ? 2 : code < 0x10000 ? 3 : 4); k < n; k++) {
        charStart[k] = startIndex;
        charEnd[k] = endIndex;
      }
      i += units - 1;
    }
    if (this.spec.ignoreMerges) {
      const whole = this.vocab.getBytes(bytes, n);
      if (whole >= 0) return Int32Array.of(whole, 0, wordLength);
    }
    const symbols = this.symbols;
    const lengths = this.lengths;
    for (let k = 0; k < n; k++) {
      symbols[k] = this.byteIds[bytes[k]];
      lengths[k] = 1;
    }
    const count = this.merger.merge(symbols, lengths, n);
    const entry = new Int32Array(count * 3);
    let position = 0;
    for (let k = 0; k < count; k++) {
      entry[3 * k] = symbols[k];
      entry[3 * k + 1] = charStart[position];
      position += lengths[k];
      entry[3 * k + 2] = charEnd[position - 1];
    }
    return entry;
  }

  /** Empties the word cache (here and in encodeBatch's workers), keeping its tables' memory: for measuring first-pass speed. */
  clearCache(): void {
    this.cache.clear();
    clearWorkerCaches(this);
  }

  /** Words currently cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  async encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): Promise<Encoding[]> {
    return encodeBatchWithWorkers(this, texts, options);
  }

  // ---- decoding -------------------------------------------------------------

  /** The bytes `ids` decode to (before UTF-8 decoding). */
  decodeToBytes(ids: ArrayLike<number>, skipSpecialTokens = false, op = 'decode'): Uint8Array {
    checkDecodeIds(op, ids, this.idTable.length);
    if (this.decodeTablesStale) this.rebuildDecodeTables();
    const start = this.decodeStart;
    const special = this.specialIds;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skipSpecialTokens && special[id]) continue;
      total += start[id + 1] - start[id];
    }
    const out = new Uint8Array(total);
    const source = this.decodeBytes;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skipSpecialTokens && special[id]) continue;
      const from = start[id];
      const to = start[id + 1];
      if (to - from <= 8) {
        for (let k = from; k < to; k++) out[n++] = source[k];
      } else {
        out.set(source.subarray(from, to), n);
        n += to - from;
      }
    }
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    options = optionsObject('decode', options);
    const text = Buffer.from(this.decodeToBytes(ids, options.skipSpecialTokens ?? false).buffer).toString('utf8');
    return options.cleanUpTokenizationSpaces ? cleanUpTokenizationSpaces(text) : text;
  }

  decodeBatch(batch: ReadonlyArray<ArrayLike<number>>, options: DecodeOptions = {}): string[] {
    return decodeEach((ids, o) => this.decode(ids, o), batch, options);
  }

  createDecodeStream(options: DecodeOptions = {}): DecodeStream {
    options = optionsObject('createDecodeStream', options);
    const skip = options.skipSpecialTokens ?? false;
    return new ByteDecodeStream((id) => {
      checkDecodeIds('decodeStream.push', [id], this.idTable.length);
      if (this.decodeTablesStale) this.rebuildDecodeTables();
      if (skip && this.specialIds[id]) return null;
      return this.decodeBytes.subarray(this.decodeStart[id], this.decodeStart[id + 1]);
    });
  }

  addSpecialTokens(tokens: ReadonlyArray<readonly [string, number]>, roles: Partial<Record<SpecialTokenRole, string>> = {}): void {
    const added = registerSpecialTokens(
      'addSpecialTokens',
      tokens,
      roles,
      (token) => this.tokenToId(token),
      (id) => this.idToToken(id),
      this.idTable.length,
    );
    for (const [content, id] of added) {
      this.installAddedToken({ id, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false });
    }
    if (added.length > 0) {
      // The decode tables grow to the new ids when next used.
      this.decodeTablesStale = true;
      this.cache.clear();
      invalidateWorkers(this);
    }
    this.spec.roles = { ...this.spec.roles, ...roles };
    this.rolesByName = resolveRoles(this.spec.roles, (token) => this.tokenToId(token));
  }
}

export type { TokenEncoding };
