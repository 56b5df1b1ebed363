import type { Side } from './types.js';

/** One row of a batch, as HF's `Encoding`: views into the batch's dense arrays, made on first access. */
export class ProcessedSequence {
  readonly #batch: SequenceBatch;
  /** Row in the batch. */
  readonly row: number;

  constructor(batch: SequenceBatch, row: number) {
    this.#batch = batch;
    this.row = row;
  }

  /** Index of the input this row came from (several rows share one input when overflow windows are on). */
  get sampleIndex(): number {
    return this.#batch.sampleMapping[this.row];
  }
  /** 0 for the kept part, 1.. for the overflowing windows of the same input, in HF's order. */
  get windowIndex(): number {
    return this.#batch.windowIndices[this.row];
  }
  /** Tokens of the input before truncation, special tokens included. */
  get originalLength(): number {
    return this.#batch.originalLengths[this.row];
  }
  /** Real tokens in the row (special tokens included, padding excluded). */
  get currentLength(): number {
    return this.#batch.rowLengths[this.row];
  }
  get paddedLength(): number {
    return this.#batch.rowOffsets[this.row + 1] - this.#batch.rowOffsets[this.row];
  }
  get paddingLength(): number {
    return this.paddedLength - this.currentLength;
  }
  get wasTruncated(): boolean {
    return this.currentLength < this.originalLength;
  }
  get wasPadded(): boolean {
    return this.paddedLength > this.currentLength;
  }
  /** Token ids of the row, padding included. */
  get tokens(): Int32Array {
    return this.#batch.inputIds.subarray(this.#batch.rowOffsets[this.row], this.#batch.rowOffsets[this.row + 1]);
  }
  get attentionMask(): Uint8Array {
    return this.#batch.attentionMask.subarray(this.#batch.rowOffsets[this.row], this.#batch.rowOffsets[this.row + 1]);
  }
  get tokenTypeIds(): Int32Array | null {
    const types = this.#batch.tokenTypeIds;
    return types && types.subarray(this.#batch.rowOffsets[this.row], this.#batch.rowOffsets[this.row + 1]);
  }
  get specialTokensMask(): Uint8Array | null {
    const mask = this.#batch.specialTokensMask;
    return mask && mask.subarray(this.#batch.rowOffsets[this.row], this.#batch.rowOffsets[this.row + 1]);
  }
}

export interface SequenceBatchInit {
  layout: 'dense' | 'ragged';
  sequenceLength: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  tokenTypeIds: Int32Array | null;
  specialTokensMask: Uint8Array | null;
  rowOffsets: Int32Array;
  rowLengths: Int32Array;
  originalLengths: Int32Array;
  sampleMapping: Int32Array;
  windowIndices: Int32Array;
  inputCount: number;
  padTokenId: number;
  paddingSide: Side;
}

/**
 * A model-ready batch. Dense layout: `inputIds`, `attentionMask` (and `tokenTypeIds` for pairs) have shape
 * `[batchSize, sequenceLength]`, row-major. Ragged layout (`PaddingStrategy.None` with unequal lengths):
 * rows are stored back to back and `rowOffsets` (length `batchSize + 1`) says where each starts.
 */
export class SequenceBatch {
  readonly layout: 'dense' | 'ragged';
  /** Rows (inputs plus their overflow windows). */
  readonly batchSize: number;
  /** Columns of the dense arrays; for a ragged batch, the longest row. */
  readonly sequenceLength: number;
  readonly inputIds: Int32Array;
  /** 1 for real tokens (special tokens included), 0 for padding. */
  readonly attentionMask: Uint8Array;
  /** Present when the batch holds pairs or the template gives non-zero type ids; padding gets the pad type id. */
  readonly tokenTypeIds: Int32Array | null;
  /** 1 for special tokens and padding (as HF), present when a special-token template added tokens. */
  readonly specialTokensMask: Uint8Array | null;
  readonly rowOffsets: Int32Array;
  /** Real tokens per row. */
  readonly rowLengths: Int32Array;
  /** Tokens of each row's input before truncation (special tokens included). */
  readonly originalLengths: Int32Array;
  /** Row → input index (HF/transformers `overflow_to_sample_mapping`). */
  readonly sampleMapping: Int32Array;
  /** Row → window number within its input (0 = kept part). */
  readonly windowIndices: Int32Array;
  /** Number of inputs given to `processBatch`. */
  readonly inputCount: number;
  readonly padTokenId: number;
  readonly paddingSide: Side;
  #sequences: ProcessedSequence[] | undefined;

  constructor(init: SequenceBatchInit) {
    this.layout = init.layout;
    this.batchSize = init.rowLengths.length;
    this.sequenceLength = init.sequenceLength;
    this.inputIds = init.inputIds;
    this.attentionMask = init.attentionMask;
    this.tokenTypeIds = init.tokenTypeIds;
    this.specialTokensMask = init.specialTokensMask;
    this.rowOffsets = init.rowOffsets;
    this.rowLengths = init.rowLengths;
    this.originalLengths = init.originalLengths;
    this.sampleMapping = init.sampleMapping;
    this.windowIndices = init.windowIndices;
    this.inputCount = init.inputCount;
    this.padTokenId = init.padTokenId;
    this.paddingSide = init.paddingSide;
  }

  /** `[batchSize, sequenceLength]` of the dense arrays (a ragged batch has no dense shape: null). */
  get shape(): [number, number] | null {
    return this.layout === 'dense' ? [this.batchSize, this.sequenceLength] : null;
  }

  /** Per-row views (`tokens`, `attentionMask`, lengths, truncation and padding flags). */
  get sequences(): ProcessedSequence[] {
    if (this.#sequences === undefined) {
      const rows: ProcessedSequence[] = new Array(this.batchSize);
      for (let row = 0; row < this.batchSize; row++) rows[row] = new ProcessedSequence(this, row);
      this.#sequences = rows;
    }
    return this.#sequences;
  }

  /** Cells of the dense arrays (or tokens stored, for a ragged batch). */
  get totalCells(): number {
    return this.rowOffsets[this.batchSize];
  }

  /** Padding cells: cells that hold no real token. */
  get paddingTokens(): number {
    let real = 0;
    for (let row = 0; row < this.batchSize; row++) real += this.rowLengths[row];
    return this.totalCells - real;
  }
}
