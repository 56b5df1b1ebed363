import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { SequenceBatch } from './batch.js';
import { sequenceLengths } from './lengths.js';
import type { TokenSequence } from './types.js';
import { allocate, checkPositiveInteger, optionsObject } from './validation.js';

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

const COUNT_NAMES = [
  'totalSequences',
  'totalRows',
  'totalOriginalTokens',
  'totalFinalTokens',
  'truncatedTokens',
  'paddingTokens',
  'totalCells',
  'truncatedSequences',
  'paddedRows',
  'batches',
] as const satisfies ReadonlyArray<keyof ProcessingCounts>;

/** Counts given to a summary: an object whose count fields (all of them, or those present) are non-negative integers. */
function checkCounts(op: string, counts: unknown, partial: boolean): Partial<ProcessingCounts> {
  if (counts === null || typeof counts !== 'object') throw invalidArgument(op, `expected processing counts (a ProcessingSummary), got ${formatValue(counts)}`);
  for (const name of COUNT_NAMES) {
    const value = (counts as Record<string, unknown>)[name];
    if (value === undefined && partial) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw invalidArgument(op, `${name} must be a non-negative integer, got ${formatValue(value)}`);
    }
  }
  return counts as Partial<ProcessingCounts>;
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

  constructor(counts?: Partial<ProcessingCounts> | null) {
    if (counts === undefined || counts === null) return;
    const given = checkCounts('ProcessingSummary', counts, true);
    for (const name of COUNT_NAMES) if (given[name] !== undefined) this[name] = given[name]!;
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
    checkCounts('ProcessingSummary.merge', other, false);
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
  if (!(batch instanceof SequenceBatch)) throw invalidArgument('createProcessingSummary', `batch must be a SequenceBatch from processBatch, got ${formatValue(batch)}`);
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
  /**
   * `bins + 1` edges, as numpy's `histogram` makes them (over [min, max], or min ± 0.5 when all lengths are
   * equal); bin k counts lengths in [edges[k], edges[k+1]), the last bin includes its right edge.
   */
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

/** Linear-interpolation percentile of sorted values (numpy `percentile`, method "linear"); NaN for no values. */
export function percentile(sorted: ArrayLike<number>, percent: number): number {
  const op = 'percentile';
  if (!Array.isArray(sorted) && !(ArrayBuffer.isView(sorted) && !(sorted instanceof DataView))) {
    throw invalidArgument(op, `sorted must be an array or typed array of numbers, got ${formatValue(sorted)}`);
  }
  if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) throw outOfRange(op, `percent must be in [0, 100], got ${formatValue(percent)}`);
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
  const bins = checkPositiveInteger(op, 'bins', options.bins ?? 10);
  const percents = options.percentiles ?? [5, 10, 25, 50, 75, 90, 95, 99];
  if (!Array.isArray(percents)) throw invalidArgument(op, `percentiles must be an array of percents, got ${formatValue(percents)}`);
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
  // numpy's histogram with equal bins: edges from linspace over [min, max] (min ± 0.5 when all lengths are
  // equal), index from the scaled offset, then moved one bin where rounding put a value on the wrong side of
  // an edge, so bin k holds exactly [edges[k], edges[k+1]) (the last one its right edge too).
  const first = min === max ? min - 0.5 : min;
  const last = min === max ? max + 0.5 : max;
  const edgeValues = allocate(op, Float64Array, bins + 1, `a histogram of ${bins} bins`);
  const width = (last - first) / bins;
  for (let k = 0; k <= bins; k++) edgeValues[k] = k === bins ? last : first + width * k;
  const binCounts = allocate(op, Float64Array, bins, `a histogram of ${bins} bins`);
  for (let i = 0; i < count; i++) {
    const x = sorted[i]!;
    let bin = Math.min(bins - 1, Math.floor(((x - first) / (last - first)) * bins));
    if (x < edgeValues[bin]!) bin--;
    else if (bin !== bins - 1 && x >= edgeValues[bin + 1]!) bin++;
    binCounts[bin]++;
  }
  const edges = Array.from(edgeValues);
  const counts = Array.from(binCounts);
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
