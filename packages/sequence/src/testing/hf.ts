// Test helper: HF `tokenizers` (native, napi-rs) as the oracle. A WordLevel model over the words t0…t{n-1}
// with a whitespace split turns any id sequence into text that encodes back to exactly those ids, so
// HF's own truncation, post-processing and padding run on the same inputs as ours.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const hf = require('tokenizers') as typeof import('tokenizers');

export const VOCAB_SIZE = 64;
/** Ids used as special tokens in the oracle's templates. */
export const SPECIAL = { bos: 60, sep: 61, cls: 62, eos: 63 } as const;

export function idsToText(ids: ArrayLike<number>): string {
  return Array.from(ids, (id) => `t${id}`).join(' ');
}

export function createWordLevelTokenizer(): import('tokenizers').Tokenizer {
  const vocab: Record<string, number> = {};
  for (let i = 0; i < VOCAB_SIZE; i++) vocab[`t${i}`] = i;
  const tokenizer = new hf.Tokenizer(hf.WordLevel.init(vocab, { unkToken: 't0' }));
  tokenizer.setPreTokenizer(hf.whitespaceSplitPreTokenizer());
  return tokenizer;
}

export interface HfRow {
  ids: number[];
  typeIds: number[];
  attentionMask: number[];
  specialTokensMask: number[];
  sequenceIds: Array<number | null | undefined>;
}

export function toRow(encoding: import('tokenizers').Encoding): HfRow {
  return {
    ids: encoding.getIds(),
    typeIds: encoding.getTypeIds(),
    attentionMask: encoding.getAttentionMask(),
    specialTokensMask: encoding.getSpecialTokensMask(),
    sequenceIds: encoding.getSequenceIds(),
  };
}
