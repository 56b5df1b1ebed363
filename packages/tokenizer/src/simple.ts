// The simple tokenizer: words and punctuation runs (HF's `Whitespace`
// pre-tokenizer, `\w+|[^\w\s]+` with Unicode classes) looked up in a word
// vocabulary, `<unk>` for the rest (HF's WordLevel model). Decoding joins
// tokens with single spaces, as WordLevel without a decoder does.
import { BitNetError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';
import { AddedTokenMatcher } from './added-tokens.js';
import { EncodingBuilder } from './encoding.js';
import { NO_POST_PROCESSOR, postProcess } from './post-processor.js';
import { checkBatchArguments, encodeSequentially } from './batch.js';
import { optionsObject, checkDecodeIds, checkText, decodeEach, prefixDecodeStream, registerSpecialTokens, resolveRoles } from './common.js';
import { cleanUpTokenizationSpaces } from './cleanup.js';
import type { DecodeOptions, DecodeStream, EncodeBatchOptions, EncodeOptions, Encoding, SpecialToken, SpecialTokenRole, Tokenizer } from './types.js';

const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const WORDS = new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, 'gu');

export type SimpleVocab = Readonly<Record<string, number>> | ReadonlyMap<string, number> | readonly string[];

export interface SimpleTokenizerOptions {
  /** Token for words not in the vocabulary; added with the next free id when missing. Default `<unk>`. */
  unkToken?: string;
}

export class SimpleTokenizer implements Tokenizer {
  readonly kind = 'simple' as const;
  private readonly vocab = new Map<string, number>();
  private readonly idTable: Array<string | undefined> = [];
  private readonly unkId: number;
  private readonly matcher = new AddedTokenMatcher();
  private readonly specialSet = new Map<string, number>();
  private roles: Partial<Record<SpecialTokenRole, string>>;
  private rolesByName: Partial<Record<SpecialTokenRole, SpecialToken>> = {};
  private readonly builder = new EncodingBuilder(256);
  private readonly pairBuilder = new EncodingBuilder(64);

  constructor(vocab: SimpleVocab, options: SimpleTokenizerOptions = {}) {
    const op = 'createSimpleTokenizer';
    options = optionsObject(op, options);
    const unkToken = options.unkToken ?? '<unk>';
    if (typeof unkToken !== 'string' || unkToken.length === 0) throw invalidArgument(op, `options.unkToken must be a non-empty string, got ${formatValue(unkToken)}`);
    const entries: Array<[unknown, unknown]> = Array.isArray(vocab)
      ? vocab.map((token, id) => [token, id])
      : vocab instanceof Map
        ? [...vocab.entries()]
        : vocab !== null && typeof vocab === 'object'
          ? Object.entries(vocab)
          : (() => {
              throw invalidArgument(op, `vocab must be an array of words, a Map or an object of word → id, got ${formatValue(vocab)}`);
            })();
    for (const [token, id] of entries) {
      if (typeof token !== 'string' || token.length === 0) throw invalidArgument(op, `vocab words must be non-empty strings, got ${formatValue(token)}`);
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
        throw invalidArgument(op, `vocab id of ${formatValue(token)} must be a non-negative integer, got ${formatValue(id)}`);
      }
      const other = this.idTable[id];
      if (other !== undefined && other !== token) throw new BitNetError(ErrorCode.INVALID_ARGUMENT, op, `id ${id} is given to both ${formatValue(other)} and ${formatValue(token)}`);
      this.vocab.set(token, id);
      this.idTable[id] = token;
    }
    if (this.idTable.length > entries.length * 2 + 1024) {
      throw invalidArgument(op, `vocab ids are too sparse: ${entries.length} words use ids up to ${this.idTable.length - 1}`);
    }
    let unkId = this.vocab.get(unkToken);
    if (unkId === undefined) {
      unkId = this.idTable.length;
      this.vocab.set(unkToken, unkId);
      this.idTable[unkId] = unkToken;
    }
    this.unkId = unkId;
    this.roles = { unk: unkToken };
    this.rolesByName = resolveRoles(this.roles, (t) => this.tokenToId(t));
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
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.idTable.length) return undefined;
    return this.idTable[id];
  }

  private encodeWords(text: string, start: number, end: number, out: EncodingBuilder): void {
    if (start >= end) return;
    const segment = text.slice(start, end);
    WORDS.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = WORDS.exec(segment)) !== null) {
      out.push(this.vocab.get(match[0]) ?? this.unkId, start + match.index, start + match.index + match[0].length);
    }
  }

  private encodeSequence(text: string, out: EncodingBuilder): void {
    out.reset();
    let position = 0;
    for (const match of this.matcher.find(text, 0, text.length)) {
      this.encodeWords(text, position, match.start, out);
      out.push(match.token.id, match.start, match.end);
      position = match.end;
    }
    this.encodeWords(text, position, text.length, out);
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    options = optionsObject('encode', options);
    checkText('encode', text, 'text');
    if (options.pair !== undefined) checkText('encode', options.pair, 'options.pair');
    this.encodeSequence(text, this.builder);
    if (options.pair !== undefined) this.encodeSequence(options.pair, this.pairBuilder);
    return postProcess(NO_POST_PROCESSOR, this.builder, options.pair !== undefined ? this.pairBuilder : null, options.addSpecialTokens ?? true, this.idTable);
  }

  async encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): Promise<Encoding[]> {
    options = optionsObject('encodeBatch', options);
    const pairs = checkBatchArguments('encodeBatch', texts, options);
    return encodeSequentially(this, texts, pairs, options.addSpecialTokens ?? true);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    options = optionsObject('decode', options);
    checkDecodeIds('decode', ids, this.idTable.length);
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const token = this.idTable[ids[i]];
      if (token === undefined) continue;
      if (options.skipSpecialTokens && this.specialSet.has(token)) continue;
      words.push(token);
    }
    const text = words.join(' ');
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
    for (const [content, id] of added) {
      this.vocab.set(content, id);
      this.idTable[id] = content;
      this.specialSet.set(content, id);
      this.matcher.add({ id, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false });
    }
    this.roles = { ...this.roles, ...roles };
    this.rolesByName = resolveRoles(this.roles, (t) => this.tokenToId(t));
  }
}
