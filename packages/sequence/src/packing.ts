import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { blockDiagonalMask, type Mask, type MaskOptions, toAdditiveMask, type AdditiveMaskOptions } from './masks.js';
import type { TokenSequence } from './types.js';
import { checkBoolean, checkPositiveInteger, checkTokenId, optionsObject, validateSequence } from './validation.js';

export interface PackingOptions {
  /** Row length: the most tokens one row holds. */
  maxLength: number;
  padTokenId?: number;
  /**
   * `best-fit-decreasing` (default): longest first, each into the fullest row it fits (fewest rows);
   * `sequential`: input order, a new row when the next one does not fit (keeps order, for streaming).
   */
  strategy?: 'best-fit-decreasing' | 'sequential';
  /** Cut sequences longer than `maxLength` into `maxLength` chunks (each its own segment) instead of failing. */
  split?: boolean;
  vocabSize?: number;
}

/** One placed segment: which input (and which chunk of it, when split) sits where. */
export interface PackedSegment {
  sequence: number;
  /** Token offset of this chunk inside its input sequence (0 unless split). */
  sourceOffset: number;
  row: number;
  /** Column where the segment starts in its row. */
  offset: number;
  length: number;
}

/**
 * Several sequences per row, no padding between them. Attention must stay inside each segment: use
 * `attentionMask4d()` (block-diagonal) or `cumulativeLengths` with a varlen attention kernel; `positionIds`
 * restart at 0 for each segment.
 */
export class PackedBatch {
  readonly rows: number;
  readonly sequenceLength: number;
  /** `[rows, sequenceLength]`. */
  readonly inputIds: Int32Array;
  /** 1 for real tokens, 0 for the padding at the end of rows. */
  readonly attentionMask: Uint8Array;
  /** 1, 2, … per segment within a row; 0 for padding. */
  readonly segmentIds: Int32Array;
  readonly positionIds: Int32Array;
  /** Segments in row-major order. */
  readonly segments: PackedSegment[];
  /** Prefix sums of the segment lengths in that order (flash-attention `cu_seqlens`), length `segments + 1`. */
  readonly cumulativeLengths: Int32Array;
  readonly tokens: number;

  constructor(init: Omit<PackedBatch, 'paddingTokens' | 'paddingRate' | 'attentionMask4d' | 'additiveAttentionMask'>) {
    this.rows = init.rows;
    this.sequenceLength = init.sequenceLength;
    this.inputIds = init.inputIds;
    this.attentionMask = init.attentionMask;
    this.segmentIds = init.segmentIds;
    this.positionIds = init.positionIds;
    this.segments = init.segments;
    this.cumulativeLengths = init.cumulativeLengths;
    this.tokens = init.tokens;
  }

  get paddingTokens(): number {
    return this.rows * this.sequenceLength - this.tokens;
  }
  get paddingRate(): number {
    const cells = this.rows * this.sequenceLength;
    return cells === 0 ? 0 : this.paddingTokens / cells;
  }
  /** Block-diagonal `[rows, 1, length, length]` boolean mask (causal inside each segment by default). */
  attentionMask4d(options: MaskOptions = {}): Mask<Uint8Array> {
    return blockDiagonalMask(this.segmentIds, this.rows, this.sequenceLength, options);
  }
  additiveAttentionMask(options: AdditiveMaskOptions = {}): Mask<Float32Array | Float64Array> {
    options = optionsObject('additiveAttentionMask', options);
    return toAdditiveMask(this.attentionMask4d(options), options);
  }
}

/**
 * Open rows indexed by how full they are, with a bitmap of non-empty fills for a fast "fullest row that still
 * has `need` free". Indexed by fill (at most the input's token count), not by free room (up to maxLength):
 * a 3-token input with maxLength 2^31 - 1 must not cost gigabytes.
 */
class FillIndex {
  readonly stacks: number[][];
  readonly words: Uint32Array;

  constructor(readonly maxFill: number) {
    this.stacks = Array.from({ length: maxFill + 1 }, () => []);
    this.words = new Uint32Array((maxFill >> 5) + 1);
  }
  add(row: number, fill: number): void {
    this.stacks[fill].push(row);
    this.words[fill >> 5] |= 1 << (fill & 31);
  }
  /** Removes and returns a row with the largest fill <= limit (the least room that still fits), or null. */
  takeLargestAtMost(limit: number): [row: number, fill: number] | null {
    if (limit < 0) return null;
    if (limit > this.maxFill) limit = this.maxFill;
    let word = limit >> 5;
    // Bits 0..limit%32 of the first word: the shift by 31 - r keeps them (r = 31 keeps all 32).
    let bits = (this.words[word]! << (31 - (limit & 31))) >>> (31 - (limit & 31));
    while (bits === 0) {
      word--;
      if (word < 0) return null;
      bits = this.words[word]!;
    }
    const fill = (word << 5) + (31 - Math.clz32(bits));
    const stack = this.stacks[fill]!;
    const row = stack.pop()!;
    if (stack.length === 0) this.words[word] &= ~(1 << (fill & 31));
    return [row, fill];
  }
}

/** Packs sequences into rows of at most `maxLength` tokens. */
export function packSequences(sequences: readonly TokenSequence[], options: PackingOptions): PackedBatch {
  const op = 'packSequences';
  if (!Array.isArray(sequences)) throw invalidArgument(op, `sequences must be an array, got ${formatValue(sequences)}`);
  if (sequences.length === 0) throw invalidArgument(op, 'sequences is empty');
  if (options === null || typeof options !== 'object') throw invalidArgument(op, `options must be an object with maxLength, got ${formatValue(options)}`);
  const maxLength = checkPositiveInteger(op, 'maxLength', options.maxLength);
  const vocabSize = options.vocabSize === undefined ? undefined : checkPositiveInteger(op, 'vocabSize', options.vocabSize);
  const padTokenId = checkTokenId(op, 'padTokenId', options.padTokenId ?? 0, vocabSize);
  const strategy = options.strategy ?? 'best-fit-decreasing';
  if (strategy !== 'best-fit-decreasing' && strategy !== 'sequential') {
    throw invalidArgument(op, `strategy must be "best-fit-decreasing" or "sequential", got ${formatValue(strategy)}`);
  }
  const split = checkBoolean(op, 'options.split', options.split, false);

  // Pieces: (sequence, sourceOffset, length), chunked when split.
  const pieceSequence: number[] = [];
  const pieceOffset: number[] = [];
  const pieceLength: number[] = [];
  for (let i = 0; i < sequences.length; i++) {
    const sequence = validateSequence(op, `sequence ${i}`, sequences[i], vocabSize);
    const length = sequence.length;
    if (length > maxLength && !split) {
      throw outOfRange(op, `sequence ${i} has ${length} tokens, more than maxLength ${maxLength}; truncate it or pass split: true`, {
        details: { sequence: i, length, maxLength },
      });
    }
    for (let offset = 0; offset < length; offset += maxLength) {
      pieceSequence.push(i);
      pieceOffset.push(offset);
      pieceLength.push(Math.min(maxLength, length - offset));
    }
  }
  const pieceCount = pieceLength.length;
  const pieceRow = new Int32Array(pieceCount);
  const rowFill: number[] = [];
  let order: Int32Array;
  if (strategy === 'sequential') {
    order = Int32Array.from({ length: pieceCount }, (_, i) => i);
    let row = -1;
    for (const piece of order) {
      if (row < 0 || rowFill[row] + pieceLength[piece] > maxLength) {
        row = rowFill.length;
        rowFill.push(0);
      }
      pieceRow[piece] = row;
      rowFill[row] += pieceLength[piece];
    }
  } else {
    // Longest first (counting sort, stable), each into the row with the least room that still fits it.
    // Sized by the pieces (their longest, their total), never by maxLength.
    let longest = 0;
    let total = 0;
    for (let p = 0; p < pieceCount; p++) {
      if (pieceLength[p] > longest) longest = pieceLength[p];
      total += pieceLength[p];
    }
    const counts = new Int32Array(longest + 2);
    for (let p = 0; p < pieceCount; p++) counts[longest - pieceLength[p] + 1]++;
    for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
    order = new Int32Array(pieceCount);
    for (let p = 0; p < pieceCount; p++) order[counts[longest - pieceLength[p]]++] = p;
    const open = new FillIndex(Math.min(total, maxLength));
    for (const piece of order) {
      const length = pieceLength[piece];
      const found = open.takeLargestAtMost(maxLength - length);
      let row: number;
      if (found === null) {
        row = rowFill.length;
        rowFill.push(0);
      } else {
        row = found[0];
      }
      pieceRow[piece] = row;
      rowFill[row] += length;
      if (rowFill[row] < maxLength) open.add(row, rowFill[row]);
    }
  }

  const rows = rowFill.length;
  let width = 0;
  for (const fill of rowFill) if (fill > width) width = fill;
  const inputIds = new Int32Array(rows * width);
  if (padTokenId !== 0) inputIds.fill(padTokenId);
  const attentionMask = new Uint8Array(rows * width);
  const segmentIds = new Int32Array(rows * width);
  const positionIds = new Int32Array(rows * width);
  const cursor = new Int32Array(rows);
  const segmentCounter = new Int32Array(rows);
  const segments: PackedSegment[] = new Array(pieceCount);
  // Lay pieces out in the order they were placed, so a row reads in placement order.
  for (let k = 0; k < pieceCount; k++) {
    const piece = order[k];
    const row = pieceRow[piece];
    const length = pieceLength[piece];
    const sourceOffset = pieceOffset[piece];
    const sequence = sequences[pieceSequence[piece]];
    const start = row * width + cursor[row];
    if (sequence instanceof Int32Array) inputIds.set(sequence.subarray(sourceOffset, sourceOffset + length), start);
    else for (let t = 0; t < length; t++) inputIds[start + t] = sequence[sourceOffset + t];
    attentionMask.fill(1, start, start + length);
    segmentIds.fill(++segmentCounter[row], start, start + length);
    for (let t = 0; t < length; t++) positionIds[start + t] = t;
    segments[k] = { sequence: pieceSequence[piece], sourceOffset, row, offset: cursor[row], length };
    cursor[row] += length;
  }
  segments.sort((x, y) => x.row - y.row || x.offset - y.offset);
  const cumulativeLengths = new Int32Array(pieceCount + 1);
  let tokens = 0;
  for (let k = 0; k < pieceCount; k++) {
    tokens += segments[k].length;
    cumulativeLengths[k + 1] = tokens;
  }
  return new PackedBatch({ rows, sequenceLength: width, inputIds, attentionMask, segmentIds, positionIds, segments, cumulativeLengths, tokens });
}
