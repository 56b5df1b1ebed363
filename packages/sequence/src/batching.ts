import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { sequenceLengths } from './lengths.js';
import { createRandom, shuffleInPlace } from './random.js';
import type { TokenSequence } from './types.js';
import { checkBoolean, checkPositiveInteger, optionsObject } from './validation.js';

export interface BatchingOptions {
  /** Token budget per batch: rows × padded length must not exceed it. */
  maxTokens?: number;
  /** Rows per batch at most. */
  maxBatchSize?: number;
  /**
   * `sorted` (default): sort by length, then fill batches greedily; `bucketed`: group by `boundaries`
   * first, then sort and fill inside each bucket; `sequential`: keep input order (the naive baseline).
   */
  strategy?: 'sorted' | 'bucketed' | 'sequential';
  /** Upper bounds (inclusive) of the length buckets for `bucketed`; longer sequences form a last bucket. */
  boundaries?: readonly number[];
  /** Shuffle the order of batches and of equal-length sequences (seeded). */
  shuffle?: boolean;
  seed?: number;
  /** The padded length of each batch is rounded up to this multiple (match the manager's setting). */
  padToMultipleOf?: number;
}

export interface TokenBatch {
  /** Indices into the input sequences. */
  indices: Int32Array;
  /** Longest sequence of the batch. */
  maxLength: number;
  /** Length rows are padded to (maxLength rounded to the multiple). */
  paddedLength: number;
  /** Real tokens in the batch. */
  tokens: number;
  /** Padding cells: rows × paddedLength − tokens. */
  paddingTokens: number;
}

function roundUp(value: number, multiple: number): number {
  return value % multiple === 0 ? value : value + multiple - (value % multiple);
}

/** Indices of the sequences in each length bucket: bucket k holds lengths in (boundaries[k−1], boundaries[k]]. */
export function bucketByLength(sequences: readonly TokenSequence[] | ArrayLike<number>, boundaries: readonly number[]): Int32Array[] {
  const op = 'bucketByLength';
  const lengths = sequenceLengths(op, sequences);
  const bounds = checkBoundaries(op, boundaries);
  const counts = new Int32Array(bounds.length + 1);
  const bucketOf = new Int32Array(lengths.length);
  for (let i = 0; i < lengths.length; i++) {
    const bucket = findBucket(bounds, lengths[i]);
    bucketOf[i] = bucket;
    counts[bucket]++;
  }
  const buckets = Array.from(counts, (count) => new Int32Array(count));
  const filled = new Int32Array(bounds.length + 1);
  for (let i = 0; i < lengths.length; i++) buckets[bucketOf[i]][filled[bucketOf[i]]++] = i;
  return buckets;
}

function checkBoundaries(op: string, boundaries: readonly number[]): readonly number[] {
  if (!Array.isArray(boundaries) || boundaries.length === 0) throw invalidArgument(op, `boundaries must be a non-empty array, got ${formatValue(boundaries)}`);
  for (let k = 0; k < boundaries.length; k++) {
    const bound = boundaries[k];
    if (!Number.isInteger(bound) || bound < 1) throw invalidArgument(op, `boundaries[${k}] must be a positive integer, got ${formatValue(bound)}`);
    if (k > 0 && bound <= boundaries[k - 1]) throw invalidArgument(op, `boundaries must increase, got ${boundaries[k - 1]} then ${bound}`);
  }
  return boundaries;
}

function findBucket(bounds: readonly number[], length: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (bounds[middle] < length) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Groups sequences into batches that waste little padding: sequences of similar length go together, each
 * batch holds at most `maxBatchSize` rows and `maxTokens` padded cells. Every index appears exactly once.
 * Accepts sequences or their lengths.
 */
export function createBatches(sequences: readonly TokenSequence[] | ArrayLike<number>, options: BatchingOptions = {}): TokenBatch[] {
  const op = 'createBatches';
  options = optionsObject(op, options);
  const lengths = sequenceLengths(op, sequences);
  const strategy = options.strategy ?? (options.boundaries ? 'bucketed' : 'sorted');
  if (strategy !== 'sorted' && strategy !== 'bucketed' && strategy !== 'sequential') {
    throw invalidArgument(op, `strategy must be "sorted", "bucketed" or "sequential", got ${formatValue(strategy)}`);
  }
  if (options.maxTokens === undefined && options.maxBatchSize === undefined) {
    throw invalidArgument(op, 'needs maxTokens, maxBatchSize or both');
  }
  const maxTokens = options.maxTokens === undefined ? Infinity : checkPositiveInteger(op, 'maxTokens', options.maxTokens);
  const maxBatchSize = options.maxBatchSize === undefined ? Infinity : checkPositiveInteger(op, 'maxBatchSize', options.maxBatchSize);
  const multiple = options.padToMultipleOf === undefined ? 1 : checkPositiveInteger(op, 'padToMultipleOf', options.padToMultipleOf);
  const seed = options.seed ?? 0;
  // Any safe integer (Date.now() included); beyond that, neighbouring seeds are the same number.
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw invalidArgument(op, `seed must be an integer, got ${formatValue(seed)}`);
  if (!Number.isSafeInteger(seed)) throw outOfRange(op, `seed must be a safe integer (|seed| <= 2^53 - 1), got ${seed}`);
  const random = createRandom(seed);
  const shuffle = checkBoolean(op, 'options.shuffle', options.shuffle, false);
  if (options.boundaries !== undefined) checkBoundaries(op, options.boundaries);
  for (let i = 0; i < lengths.length; i++) {
    if (roundUp(Math.max(lengths[i], 1), multiple) > maxTokens) {
      throw outOfRange(op, `sequence ${i} has ${lengths[i]} tokens (padded ${roundUp(Math.max(lengths[i], 1), multiple)}), more than maxTokens ${maxTokens}; truncate it first`, {
        details: { sequence: i, length: lengths[i], maxTokens },
      });
    }
  }

  // Order of the sequences: groups, each filled greedily in order.
  const groups: Int32Array[] = [];
  const all = Int32Array.from({ length: lengths.length }, (_, i) => i);
  if (shuffle) shuffleInPlace(all, random);
  if (strategy === 'sequential') {
    groups.push(shuffle ? all : Int32Array.from({ length: lengths.length }, (_, i) => i));
  } else if (strategy === 'sorted') {
    groups.push(sortByLength(all, lengths));
  } else {
    if (!options.boundaries) throw invalidArgument(op, 'strategy "bucketed" needs boundaries');
    const bounds = checkBoundaries(op, options.boundaries);
    const buckets: number[][] = Array.from({ length: bounds.length + 1 }, () => []);
    for (const index of all) buckets[findBucket(bounds, lengths[index])].push(index);
    for (const bucket of buckets) if (bucket.length > 0) groups.push(sortByLength(Int32Array.from(bucket), lengths));
  }

  const batches: TokenBatch[] = [];
  for (const group of groups) {
    let begin = 0;
    while (begin < group.length) {
      let longest = 0;
      let tokens = 0;
      let end = begin;
      while (end < group.length && end - begin < maxBatchSize) {
        const length = lengths[group[end]];
        const candidate = roundUp(Math.max(longest, length, 1), multiple);
        if (candidate * (end - begin + 1) > maxTokens) break;
        longest = Math.max(longest, length);
        tokens += length;
        end++;
      }
      const paddedLength = roundUp(Math.max(longest, 1), multiple);
      const count = end - begin;
      batches.push({
        indices: group.slice(begin, end),
        maxLength: longest,
        paddedLength,
        tokens,
        paddingTokens: paddedLength * count - tokens,
      });
      begin = end;
    }
  }
  if (shuffle) {
    const order = shuffleInPlace(Int32Array.from({ length: batches.length }, (_, i) => i), random);
    return Array.from(order, (i) => batches[i]);
  }
  return batches;
}

/** Stable sort of `indices` by length (ties keep their current order, which a shuffle has randomised). */
function sortByLength(indices: Int32Array, lengths: Int32Array): Int32Array {
  // Counting sort: lengths are small integers, and it is stable and linear.
  let maxLength = 0;
  for (const index of indices) if (lengths[index] > maxLength) maxLength = lengths[index];
  if (maxLength > 4 * indices.length + 65536) {
    return Int32Array.from(Array.from(indices).sort((x, y) => lengths[x] - lengths[y]));
  }
  const counts = new Int32Array(maxLength + 2);
  for (const index of indices) counts[lengths[index] + 1]++;
  for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
  const sorted = new Int32Array(indices.length);
  for (const index of indices) sorted[counts[lengths[index]]++] = index;
  return sorted;
}

/** Padding cells wasted by a set of batches, and the fraction of all cells they are. */
export function paddingWaste(batches: readonly TokenBatch[]): { tokens: number; paddingTokens: number; cells: number; paddingRate: number } {
  const op = 'paddingWaste';
  if (!Array.isArray(batches)) throw invalidArgument(op, `batches must be an array of batches from createBatches, got ${formatValue(batches)}`);
  let tokens = 0;
  let paddingTokens = 0;
  batches.forEach((batch: TokenBatch | null | undefined, i) => {
    const counts = batch === null || typeof batch !== 'object' ? null : [batch.tokens, batch.paddingTokens];
    if (counts === null || counts.some((count) => !Number.isInteger(count) || count < 0)) {
      throw invalidArgument(op, `batches[${i}] must be a batch from createBatches (non-negative integer tokens and paddingTokens), got ${formatValue(batch)}`);
    }
    tokens += batch!.tokens;
    paddingTokens += batch!.paddingTokens;
  });
  const cells = tokens + paddingTokens;
  return { tokens, paddingTokens, cells, paddingRate: cells === 0 ? 0 : paddingTokens / cells };
}
