import { formatValue, invalidArgument } from '@bitnet/errors';
import type { TokenSequence } from './types.js';

/**
 * Lengths of `sequences`, or the numbers themselves when given an array of lengths (so batching can be
 * planned from lengths alone). Every length must be a non-negative integer.
 */
export function sequenceLengths(op: string, sequences: readonly TokenSequence[] | ArrayLike<number>): Int32Array {
  if (sequences === null || typeof sequences !== 'object' || typeof (sequences as ArrayLike<unknown>).length !== 'number') {
    throw invalidArgument(op, `expected an array of sequences or of lengths, got ${formatValue(sequences)}`);
  }
  const count = sequences.length;
  const lengths = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const item = (sequences as ArrayLike<unknown>)[i];
    let length: unknown;
    if (typeof item === 'number') length = item;
    else if (item !== null && typeof item === 'object' && typeof (item as ArrayLike<unknown>).length === 'number') length = (item as ArrayLike<unknown>).length;
    else throw invalidArgument(op, `item ${i} must be a sequence or a length, got ${formatValue(item)}`);
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > 0x7fffffff) {
      throw invalidArgument(op, `item ${i} has an invalid length ${formatValue(length)}`);
    }
    lengths[i] = length;
  }
  return lengths;
}
