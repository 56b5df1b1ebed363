import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import type { SequenceBatch } from './batch.js';
import { sequenceLengths } from './lengths.js';
import type { TokenSequence } from './types.js';
import { optionsObject } from './validation.js';

export interface ProcessingCounts {
  /** Inputs given to `processBatch`. */
  totalSequences: number;
  /** Rows produced (inputs plus overflow windows). */
  totalRows: number;
  /** Tokens of the inputs before truncation, special tokens included. */
  totalOriginalTokens: number;
  /** Real tokens in all rows (padding excluded). */
  totalFinalTokens: number;
  /** Tokens of each input that are not in its kept row (row 0), summed. */
  truncatedTokens: number;
  /** Cells of the dense outputs that hold padding: memory and compute spent on nothing. */
  paddingTokens: number;
  /** All cells of the dense outputs (rows × sequence length, or stored tokens for ragged). */
  totalCells: number;
  truncatedSequences: number;
  paddedRows: number;
  batches: number;
}

/** Totals over one batch or many (`merge`), with the rates derived from them. */
export class ProcessingSummary implements ProcessingCounts {
  totalSequences = 0;
  totalRows = 0;
  totalOriginalTokens = 0;
  totalFinalTokens = 0;
  truncatedTokens = 0;
  paddingTokens = 0;
  totalCells = 0;
  truncatedSequences = 0;
  paddedRows = 0;
  batches = 0;

  constructor(counts?: Partial<ProcessingCounts>) {
    if (counts) Object.assign(this, counts);
  }

  avgOriginalLength(): number {
    return this.totalSequences === 0 ? 0 : this.totalOriginalTokens / this.totalSequences;
  }
  /** Mean real tokens per row after truncation. */
  avgFinalLength(): number {
    return this.totalRows === 0 ? 0 : this.totalFinalTokens / this.totalRows;
  }
  /** Fraction of inputs that lost tokens from their kept row. */
  truncationRate(): number {
    return this.totalSequences === 0 ? 0 : this.truncatedSequences / this.totalSequences;
  }
  /** Fraction of the dense cells that are padding. */
  paddingRate(): number {
    return this.totalCells === 0 ? 0 : this.paddingTokens / this.totalCells;
  }
  /** Fraction of rows that got any padding. */
  paddedRowRate(): number {
    return this.totalRows === 0 ? 0 : this.paddedRows / this.totalRows;
  }
  /** Adds another summary's totals into this one. */
  merge(other: ProcessingCounts): this {
    this.totalSequences += other.totalSequences;
    this.totalRows += other.totalRows;
    this.totalOriginalTokens += other.totalOriginalTokens;
    this.totalFinalTokens += other.totalFinalTokens;
    this.truncatedTokens += other.truncatedTokens;
    this.paddingTokens += other.paddingTokens;
    this.totalCells += other.totalCells;
    this.truncatedSequences += other.truncatedSequences;
    this.paddedRows += other.paddedRows;
    this.batches += other.batches;
    return this;
  }
  toJSON(): ProcessingCounts & { avgOriginalLength: number; avgFinalLength: number; truncationRate: number; paddingRate: number } {
    return {
      totalSequences: this.totalSequences,
      totalRows: this.totalRows,
      totalOriginalTokens: this.totalOriginalTokens,
      totalFinalTokens: this.totalFinalTokens,
      truncatedTokens: this.truncatedTokens,
      paddingTokens: this.paddingTokens,
      totalCells: this.totalCells,
      truncatedSequences: this.truncatedSequences,
      paddedRows: this.paddedRows,
      batches: this.batches,
      avgOriginalLength: this.avgOriginalLength(),
      avgFinalLength: this.avgFinalLength(),
      truncationRate: this.truncationRate(),
      paddingRate: this.paddingRate(),
    };
  }
}

/** Totals of one batch from `processBatch`. */
export function createProcessingSummary(batch: SequenceBatch): ProcessingSummary {
  const summary = new ProcessingSummary();
  summary.batches = 1;
  summary.totalSequences = batch.inputCount;
  summary.totalRows = batch.batchSize;
  summary.totalCells = batch.totalCells;
  for (let row = 0; row < batch.batchSize; row++) {
    const real = batch.rowLengths[row];
    const cells = batch.rowOffsets[row + 1] - batch.rowOffsets[row];
    summary.totalFinalTokens += real;
    if (cells > real) summary.paddedRows++;
    if (batch.windowIndices[row] === 0) {
      const original = batch.originalLengths[row];
      summary.totalOriginalTokens += original;
      if (real < original) {
        summary.truncatedSequences++;
        summary.truncatedTokens += original - real;
      }
    }
  }
  summary.paddingTokens = summary.totalCells - summary.totalFinalTokens;
  return summary;
}

export interface LengthHistogram {
  /** `bins + 1` edges; bin k counts lengths in [edges[k], edges[k+1]), the last bin includes its right edge. */
  edges: number[];
  counts: number[];
}

export interface LengthAnalysis {
  count: number;
  totalTokens: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  standardDeviation: number;
  /** Linear-interpolation percentiles (numpy's default), keyed by percent. */
  percentiles: Record<number, number>;
  histogram: LengthHistogram;
  /** Cells wasted if all sequences were padded to the longest in one batch. */
  paddingIfSingleBatch: number;
}

/** Linear-interpolation percentile of sorted values (numpy `percentile`, method "linear"). */
export function percentile(sorted: ArrayLike<number>, percent: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = ((sorted.length - 1) * percent) / 100;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const fraction = position - lower;
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

/**
 * Length statistics of sequences (or of lengths given directly): min, max, mean, median, standard
 * deviation (population), percentiles and a histogram with `bins` equal-width bins.
 */
export function analyzeBatchLengths(
  sequences: readonly TokenSequence[] | ArrayLike<number>,
  options: { percentiles?: number[]; bins?: number } = {},
): LengthAnalysis {
  const op = 'analyzeBatchLengths';
  options = optionsObject(op, options);
  const lengths = sequenceLengths(op, sequences);
  const count = lengths.length;
  if (count === 0) throw invalidArgument(op, 'needs at least one sequence, got 0');
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw outOfRange(op, `bins must be a positive integer, got ${formatValue(bins)}`);
  const percents = options.percentiles ?? [5, 10, 25, 50, 75, 90, 95, 99];
  for (const p of percents) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw outOfRange(op, `percentiles must be in [0, 100], got ${formatValue(p)}`);
  }
  const sorted = Float64Array.from(lengths).sort();
  let total = 0;
  for (let i = 0; i < count; i++) total += sorted[i];
  const mean = total / count;
  let squares = 0;
  for (let i = 0; i < count; i++) squares += (sorted[i] - mean) ** 2;
  const min = sorted[0];
  const max = sorted[count - 1];
  const percentiles: Record<number, number> = {};
  for (const p of percents) percentiles[p] = percentile(sorted, p);
  const edges: number[] = [];
  const width = (max - min) / bins;
  for (let k = 0; k <= bins; k++) edges.push(k === bins ? max : min + width * k);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < count; i++) {
    const bin = width === 0 ? 0 : Math.min(bins - 1, Math.floor((sorted[i] - min) / width));
    counts[bin]++;
  }
  return {
    count,
    totalTokens: total,
    min,
    max,
    mean,
    median: percentile(sorted, 50),
    standardDeviation: Math.sqrt(squares / count),
    percentiles,
    histogram: { edges, counts },
    paddingIfSingleBatch: max * count - total,
  };
}
