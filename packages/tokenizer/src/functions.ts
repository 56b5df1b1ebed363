// The seed's free functions, camelCase, over the Tokenizer interface.
import { formatValue, invalidArgument } from '@bitnet/errors';
import type { DecodeOptions, EncodeBatchOptions, EncodeOptions, Encoding, SpecialTokenRole, Tokenizer } from './types.js';
import { checkText } from './common.js';

function checkTokenizer(op: string, tokenizer: unknown): asserts tokenizer is Tokenizer {
  if (tokenizer === null || typeof tokenizer !== 'object' || typeof (tokenizer as Tokenizer).encode !== 'function') {
    throw invalidArgument(op, `expected a Tokenizer, got ${formatValue(tokenizer)}`);
  }
}

/** Token ids of `text`. */
export function encodeText(tokenizer: Tokenizer, text: string, options?: EncodeOptions): Int32Array {
  checkTokenizer('encodeText', tokenizer);
  return tokenizer.encode(text, options).ids;
}

/** Text of `ids` (exact by default; see DecodeOptions). */
export function decodeTokens(tokenizer: Tokenizer, ids: ArrayLike<number>, options?: DecodeOptions): string {
  checkTokenizer('decodeTokens', tokenizer);
  return tokenizer.decode(ids, options);
}

export function encodeBatch(tokenizer: Tokenizer, texts: readonly string[], options?: EncodeBatchOptions): Promise<Encoding[]> {
  checkTokenizer('encodeBatch', tokenizer);
  return tokenizer.encodeBatch(texts, options);
}

export function decodeBatch(tokenizer: Tokenizer, batch: ReadonlyArray<ArrayLike<number>>, options?: DecodeOptions): string[] {
  checkTokenizer('decodeBatch', tokenizer);
  return tokenizer.decodeBatch(batch, options);
}

/** Registers `[token, id]` pairs as special tokens (and optionally their roles). */
export function addSpecialTokens(
  tokenizer: Tokenizer,
  tokens: ReadonlyArray<readonly [string, number]>,
  roles?: Partial<Record<SpecialTokenRole, string>>,
): void {
  checkTokenizer('addSpecialTokens', tokenizer);
  tokenizer.addSpecialTokens(tokens, roles);
}

/** Id of a special token given by its text (`'[CLS]'`, `'<|eot_id|>'`), or undefined when it is not special here. */
export function getSpecialTokenId(tokenizer: Tokenizer, token: string): number | undefined {
  checkTokenizer('getSpecialTokenId', tokenizer);
  checkText('getSpecialTokenId', token, 'token');
  const id = tokenizer.allSpecialTokens.get(token);
  if (id !== undefined) return id;
  for (const entry of Object.values(tokenizer.specialTokens)) if (entry?.token === token) return entry.id;
  return undefined;
}

export interface RoundTripReport {
  ok: boolean;
  ids: Int32Array;
  decoded: string;
  /** UTF-16 index of the first difference, or -1. */
  firstMismatch: number;
}

/** Encodes without special tokens, decodes, and reports where the text changed (if it did). */
export function validateRoundTrip(tokenizer: Tokenizer, text: string): RoundTripReport {
  checkTokenizer('validateRoundTrip', tokenizer);
  checkText('validateRoundTrip', text, 'text');
  const ids = tokenizer.encode(text, { addSpecialTokens: false }).ids;
  const decoded = tokenizer.decode(ids);
  let firstMismatch = -1;
  if (decoded !== text) {
    firstMismatch = 0;
    while (firstMismatch < text.length && text.charCodeAt(firstMismatch) === decoded.charCodeAt(firstMismatch)) firstMismatch++;
  }
  return { ok: firstMismatch < 0, ids, decoded, firstMismatch };
}
