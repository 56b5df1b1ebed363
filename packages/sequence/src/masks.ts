import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import type { SequenceBatch } from './batch.js';
import { allocate, checkBoolean, checkPositiveInteger, optionsObject } from './validation.js';

/** Most negative float32: HF's `torch.finfo(dtype).min`, used instead of -Infinity so a fully masked row gives no NaN. */
export const FLOAT32_MASKED_VALUE = -3.4028234663852886e38;

export interface MaskOptions {
  /** Also forbid attending to later positions (decoder models). Default true. */
  causal?: boolean;
}

export interface AdditiveMaskOptions extends MaskOptions {
  /** Value added to masked scores; default the most negative float32. */
  maskedValue?: number;
  dtype?: 'float32' | 'float64';
}

export interface Mask<T extends ArrayLike<number>> {
  data: T;
  shape: number[];
}

/** Lower-triangular `[length, length]` mask: 1 where key position <= query position. */
export function causalMask(length: number): Mask<Uint8Array> {
  const size = checkPositiveInteger('causalMask', 'length', length);
  const data = allocate('causalMask', Uint8Array, size * size, `a ${size} × ${size} mask`);
  for (let q = 0; q < size; q++) data.fill(1, q * size, q * size + q + 1);
  return { data, shape: [size, size] };
}

function denseBatch(op: string, batch: SequenceBatch): void {
  if (batch === null || typeof batch !== 'object' || !(batch.inputIds instanceof Int32Array)) {
    throw invalidArgument(op, `expected a SequenceBatch, got ${formatValue(batch)}`);
  }
  if (batch.layout !== 'dense') throw invalidArgument(op, 'the batch is ragged (PaddingStrategy.None with unequal lengths); masks need a dense batch');
}

/** `[batch, length]` padding mask: 1 for real tokens, 0 for padding (the batch's attention mask). */
export function paddingMask(batch: SequenceBatch): Mask<Uint8Array> {
  denseBatch('paddingMask', batch);
  return { data: batch.attentionMask, shape: [batch.batchSize, batch.sequenceLength] };
}

/**
 * `[batch, 1, length, length]` boolean mask: query q may attend key k when k is a real token (and k <= q
 * when causal), as HF builds it. Query rows at padding positions keep the key mask; such a row is all zero
 * when no real key is allowed (left padding with causal: the padding before the first real token), and the
 * additive form then holds the most negative float32, never -Infinity, so softmax gives no NaN.
 */
export function attentionMask4d(batch: SequenceBatch, options: MaskOptions = {}): Mask<Uint8Array> {
  const op = 'attentionMask4d';
  denseBatch(op, batch);
  const causal = checkBoolean(op, 'options.causal', optionsObject(op, options).causal, true);
  const rows = batch.batchSize;
  const length = batch.sequenceLength;
  const data = allocate(op, Uint8Array, rows * length * length, `a ${rows} × 1 × ${length} × ${length} mask`);
  const keys = batch.attentionMask;
  for (let b = 0; b < rows; b++) {
    const keyRow = keys.subarray(b * length, (b + 1) * length);
    for (let q = 0; q < length; q++) {
      const base = (b * length + q) * length;
      data.set(causal ? keyRow.subarray(0, q + 1) : keyRow, base);
    }
  }
  return { data, shape: [rows, 1, length, length] };
}

/** Turns a boolean mask into an additive one: 0 where allowed, `maskedValue` where not. */
export function toAdditiveMask(mask: Mask<Uint8Array>, options: Omit<AdditiveMaskOptions, 'causal'> = {}): Mask<Float32Array | Float64Array> {
  const op = 'toAdditiveMask';
  if (mask === null || typeof mask !== 'object' || !ArrayBuffer.isView(mask.data) || !Array.isArray(mask.shape)) {
    throw invalidArgument(op, `mask must be a { data, shape } mask, got ${formatValue(mask)}`);
  }
  let cells = 1;
  for (const size of mask.shape) {
    if (!Number.isInteger(size) || size < 0) throw invalidArgument(op, `mask.shape must hold non-negative integers, got ${formatValue(mask.shape)}`);
    cells *= size;
  }
  if (cells !== (mask.data as Uint8Array).length) {
    throw invalidArgument(op, `mask.data has ${(mask.data as Uint8Array).length} entries but mask.shape ${formatValue(mask.shape)} holds ${cells}`);
  }
  options = optionsObject(op, options);
  const maskedValue = options.maskedValue ?? FLOAT32_MASKED_VALUE;
  if (typeof maskedValue !== 'number' || Number.isNaN(maskedValue) || maskedValue > 0) {
    throw invalidArgument(op, `maskedValue must be a non-positive number, got ${formatValue(maskedValue)}`);
  }
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw invalidArgument(op, `dtype must be "float32" or "float64", got ${formatValue(dtype)}`);
  // -Infinity (or a value that becomes it in float32) would make a fully masked row's softmax NaN.
  if (!Number.isFinite(dtype === 'float32' ? Math.fround(maskedValue) : maskedValue)) {
    throw outOfRange(op, `maskedValue ${maskedValue} is not a finite ${dtype}; the most negative one is ${dtype === 'float32' ? FLOAT32_MASKED_VALUE : -Number.MAX_VALUE}`);
  }
  const source = mask.data;
  const what = `a ${mask.shape.join(' × ')} additive mask`;
  const data = dtype === 'float32' ? allocate(op, Float32Array, source.length, what) : allocate(op, Float64Array, source.length, what);
  for (let i = 0; i < source.length; i++) if (source[i] === 0) data[i] = maskedValue;
  return { data, shape: mask.shape.slice() };
}

/** Combined additive `[batch, 1, length, length]` mask (padding + causal), ready to add to attention scores. */
export function additiveAttentionMask(batch: SequenceBatch, options: AdditiveMaskOptions = {}): Mask<Float32Array | Float64Array> {
  options = optionsObject('additiveAttentionMask', options);
  return toAdditiveMask(attentionMask4d(batch, options), options);
}

/**
 * Position ids `[batch, length]`: 0, 1, 2… over the real tokens of each row, whichever side the padding is
 * on; padding cells get 0.
 */
export function positionIds(batch: SequenceBatch): Mask<Int32Array> {
  denseBatch('positionIds', batch);
  const rows = batch.batchSize;
  const length = batch.sequenceLength;
  const data = new Int32Array(rows * length);
  const mask = batch.attentionMask;
  for (let b = 0; b < rows; b++) {
    let position = 0;
    for (let i = b * length, end = i + length; i < end; i++) if (mask[i]) data[i] = position++;
  }
  return { data, shape: [rows, length] };
}

/**
 * Block-diagonal `[rows, 1, length, length]` mask of packed rows: query q attends key k only inside the
 * same segment (segment ids > 0; 0 is padding), and only k <= q when causal. Padding queries attend nothing.
 */
export function blockDiagonalMask(segmentIds: Int32Array, rows: number, length: number, options: MaskOptions = {}): Mask<Uint8Array> {
  const op = 'blockDiagonalMask';
  if (!(segmentIds instanceof Int32Array)) throw invalidArgument(op, `segmentIds must be an Int32Array, got ${formatValue(segmentIds)}`);
  checkPositiveInteger(op, 'rows', rows);
  checkPositiveInteger(op, 'length', length);
  if (segmentIds.length !== rows * length) {
    throw outOfRange(op, `segmentIds has ${segmentIds.length} entries, expected rows × length = ${rows} × ${length} = ${rows * length}`);
  }
  const causal = checkBoolean(op, 'options.causal', optionsObject(op, options).causal, true);
  // Each segment must be one run of positions (as packSequences lays them out); ids are >= 0, 0 is padding.
  for (let r = 0; r < rows; r++) {
    const seen = new Set<number>();
    for (let i = r * length, end = i + length, previous = -1; i < end; i++) {
      const segment = segmentIds[i]!;
      if (segment < 0) throw outOfRange(op, `segmentIds must be >= 0 (0 is padding), got ${segment} in row ${r}`);
      if (segment !== previous) {
        if (segment !== 0 && seen.has(segment)) {
          throw invalidArgument(op, `segment ${segment} of row ${r} is not one contiguous run of positions (it starts again at position ${i - r * length})`);
        }
        seen.add(segment);
        previous = segment;
      }
    }
  }
  const data = allocate(op, Uint8Array, rows * length * length, `a ${rows} × 1 × ${length} × ${length} mask`);
  for (let r = 0; r < rows; r++) {
    const base = r * length;
    // Segments are contiguous: find each one's [start, end) and fill its block.
    let start = 0;
    while (start < length) {
      const segment = segmentIds[base + start];
      let end = start + 1;
      while (end < length && segmentIds[base + end] === segment) end++;
      if (segment !== 0) {
        for (let q = start; q < end; q++) {
          const offset = (base + q) * length;
          data.fill(1, offset + start, offset + (causal ? q + 1 : end));
        }
      }
      start = end;
    }
  }
  return { data, shape: [rows, 1, length, length] };
}
