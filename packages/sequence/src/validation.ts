import { BitNetRangeError, ErrorCode, formatValue, invalidArgument, optionsObject, outOfRange } from '@bitnet/errors';
import type { TokenSequence } from './types.js';

const INT32_MAX = 0x7fffffff;

// Shared with @bitnet/tokenizer through @bitnet/errors.
export { optionsObject };

/**
 * `new type(length)`, with a typed OUT_OF_MEMORY error instead of V8's bare RangeError ("Invalid typed
 * array length", "Array buffer allocation failed") when it is too large for this process.
 */
export function allocate<T>(op: string, type: { new (length: number): T; BYTES_PER_ELEMENT: number; name: string }, length: number, what: string): T {
  try {
    return new type(length);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new BitNetRangeError(ErrorCode.OUT_OF_MEMORY, op, `${what} needs a ${type.name} of ${length} elements (${length * type.BYTES_PER_ELEMENT} bytes), more than this process can allocate`, {
      cause: error,
      details: { elements: length, bytes: length * type.BYTES_PER_ELEMENT },
    });
  }
}

/** An optional boolean option: `fallback` when undefined (or null), else it must be a boolean (a string 'false' is truthy). */
export function checkBoolean(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(op, `${name} must be true or false, got ${formatValue(value)}`);
  return value;
}

export function checkPositiveInteger(op: string, name: string, value: unknown, minimum = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgument(op, `${name} must be an integer, got ${formatValue(value)}`);
  }
  if (value < minimum || value > INT32_MAX) {
    throw outOfRange(op, `${name} must be in [${minimum}, ${INT32_MAX}], got ${value}`);
  }
  return value;
}

export function checkTokenId(op: string, name: string, value: unknown, vocabSize?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgument(op, `${name} must be an integer token id, got ${formatValue(value)}`);
  }
  if (value < 0 || value > INT32_MAX) throw outOfRange(op, `${name} must be in [0, ${INT32_MAX}], got ${value}`);
  if (vocabSize !== undefined && value >= vocabSize) {
    throw outOfRange(op, `${name} ${value} is outside the vocabulary of size ${vocabSize}`);
  }
  return value;
}

function isTokenArray(value: unknown): value is TokenSequence {
  if (Array.isArray(value)) return true;
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array);
}

/**
 * Checks one sequence: an array of integer ids in [0, vocabSize), not empty unless `allowEmpty`. `where`
 * names it in messages (e.g. "sequence 3" or "sequence 3 (second of pair)").
 */
export function validateSequence(op: string, where: string, sequence: unknown, vocabSize: number | undefined, allowEmpty = false): TokenSequence {
  if (!isTokenArray(sequence)) {
    throw invalidArgument(op, `${where} must be an array or typed array of token ids, got ${formatValue(sequence)}`);
  }
  const length = sequence.length;
  if (length === 0 && !allowEmpty) throw invalidArgument(op, `${where} is empty; every sequence needs at least one token`);
  const limit = vocabSize === undefined ? INT32_MAX + 1 : vocabSize;
  if (sequence instanceof Int32Array || sequence instanceof Uint16Array || sequence instanceof Uint8Array || sequence instanceof Int16Array || sequence instanceof Int8Array) {
    // Integer typed arrays: only the range can be wrong. One pass for min and max keeps this at memory speed.
    let minimum = 0;
    let maximum = 0;
    for (let i = 0; i < length; i++) {
      const v = sequence[i];
      if (v < minimum) minimum = v;
      if (v > maximum) maximum = v;
    }
    if (minimum < 0 || maximum >= limit) reportBadId(op, where, sequence, vocabSize);
    return sequence;
  }
  for (let i = 0; i < length; i++) {
    const v = sequence[i];
    // (v >>> 0) === v accepts exactly the integers in [0, 2^32); the limit check narrows it to int32/vocab.
    if (typeof v !== 'number' || v >>> 0 !== v || v >= limit) reportBadId(op, where, sequence, vocabSize);
  }
  return sequence;
}

function reportBadId(op: string, where: string, sequence: TokenSequence, vocabSize: number | undefined): never {
  for (let i = 0; i < sequence.length; i++) {
    const v = sequence[i] as unknown;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw invalidArgument(op, `${where} has a non-integer token id ${formatValue(v)} at position ${i}`, {
        details: { position: i, value: v },
      });
    }
    if (v < 0 || v > INT32_MAX) {
      throw outOfRange(op, `${where} has token id ${v} at position ${i}, outside [0, ${INT32_MAX}]`, { details: { position: i, value: v } });
    }
    if (vocabSize !== undefined && v >= vocabSize) {
      throw outOfRange(op, `${where} has token id ${v} at position ${i}, outside the vocabulary of size ${vocabSize}`, {
        details: { position: i, value: v, vocabSize },
      });
    }
  }
  throw outOfRange(op, `${where} has an invalid token id`);
}
