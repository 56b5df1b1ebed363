// The one interface every tokenizer in this package implements.

/** Roles a special token can play. */
export type SpecialTokenRole = 'bos' | 'eos' | 'pad' | 'unk' | 'cls' | 'sep' | 'mask';

export const SPECIAL_TOKEN_ROLES: readonly SpecialTokenRole[] = ['bos', 'eos', 'pad', 'unk', 'cls', 'sep', 'mask'];

export interface SpecialToken {
  token: string;
  id: number;
}

export interface EncodeOptions {
  /** Run the post-processor (BOS/EOS/CLS/SEP templates). Default true, as in HF. */
  addSpecialTokens?: boolean;
  /** Second sequence of a pair. */
  pair?: string;
}

export interface DecodeOptions {
  /** Leave out special tokens (added tokens marked special). Default false. */
  skipSpecialTokens?: boolean;
  /**
   * Apply transformers' `clean_up_tokenization_spaces` (" ." → ".", " n't" → "n't", …).
   * Default false: decode reproduces the original text exactly, as HF's Rust decoder does.
   */
  cleanUpTokenizationSpaces?: boolean;
}

export interface EncodeBatchOptions extends EncodeOptions {
  /** Second sequences, one per input (instead of `pair`). */
  pairs?: readonly string[];
  /** Worker threads to spread a large batch over; default: available cores, 1 = main thread only. */
  threads?: number;
}

/**
 * One encoded sequence (or pair). Offsets are UTF-16 indices into the input (`text.slice(start, end)`).
 * The typed arrays are views of one ArrayBuffer per encoding, and a short encoding's buffer is a
 * block shared with other encodings, as Node's pooled Buffers are: from `encode`, under ~270 tokens,
 * an 8 KB block; from `encodeBatch`'s worker threads, under ~2,180 tokens, a 64 KB block.
 * Shared blocks are marked untransferable. Read the arrays through the views (byteOffset, length),
 * and `slice()` one to keep it alone or to send it.
 */
export interface Encoding {
  readonly ids: Int32Array;
  readonly tokens: string[];
  readonly attentionMask: Uint8Array;
  /** 0 for the first sequence, 1 for the pair. */
  readonly typeIds: Uint8Array;
  /** 1 where the post-processor inserted a special token (HF's `special_tokens_mask`). */
  readonly specialTokensMask: Uint8Array;
  /** `[start, end)` per token in the text it came from (the pair's tokens index into the pair); `[0, 0]` for inserted special tokens. */
  readonly offsets: Array<[number, number]>;
  /** Which sequence each token came from: 0, 1, or -1 for inserted special tokens. */
  readonly sequenceIds: Int8Array;
  readonly length: number;
}

/** Incremental decoder for generation: feed ids one at a time, get text that never splits a character. */
export interface DecodeStream {
  /** Adds one id; returns the text that became complete (may be ''). */
  push(id: number): string;
  /** Returns whatever is still held back (an incomplete character becomes U+FFFD) and resets. */
  flush(): string;
}

export type TokenizerKind = 'byte-level-bpe' | 'huggingface' | 'simple';

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Ids run from 0 to vocabSize - 1 (added tokens included). */
  readonly vocabSize: number;
  encode(text: string, options?: EncodeOptions): Encoding;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): Promise<Encoding[]>;
  decodeBatch(batch: ReadonlyArray<ArrayLike<number>>, options?: DecodeOptions): string[];
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Special tokens by role (those the files declare). */
  readonly specialTokens: Readonly<Partial<Record<SpecialTokenRole, SpecialToken>>>;
  /** Every added token that is special, by content. */
  readonly allSpecialTokens: ReadonlyMap<string, number>;
  /** Registers tokens that must never be split and are matched before pre-tokenization. */
  addSpecialTokens(tokens: ReadonlyArray<readonly [string, number]>, roles?: Partial<Record<SpecialTokenRole, string>>): void;
  createDecodeStream(options?: DecodeOptions): DecodeStream;
}
