/**
 * 1.58-bit (ternary) quantization on tensors: BitNet b1.58 absmean weights,
 * BitNet v1 sign weights, int8 absmax activations per token, and packed
 * ternary storage (our kernel layout i2_r4 as dtype I2, ggml's TQ2_0 and
 * TQ1_0) with exact conversion between the layouts.
 *
 * Built on the TypedArray functions of @bitnet/native (native/src/ternary.ts),
 * which own the formulas and byte layouts; this module gives them tensor
 * shapes, pool memory and lifetimes.
 *
 * Scale semantics, everywhere: a weight is `value × scale` with
 * value ∈ {-1, 0, 1}; `scale` is the dequantization multiplier (BitNet's
 * γ = mean|W|), never its inverse. Activations likewise: `x ≈ value × scale`
 * with `scale = absmax / 127`.
 */
import { BitNetError, BitNetRangeError, BitNetTypeError, DisposedError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';
import {
  PackedTernary,
  TERNARY_BLOCK,
  convertTernary as convertTernaryNative,
  dequantize158 as dequantize158Native,
  packTernary as packTernaryNative,
  packedTernaryBytes,
  quantize158 as quantize158Native,
  quantize1Bit as quantize1BitNative,
  quantizeActivations as quantizeActivationsNative,
  unpackTernary as unpackTernaryNative,
  type TernaryGranularity,
  type TernaryLayout,
  type TernaryWeights,
} from '@bitnet/native';
import { BitNetDType } from './dtype.js';
import { formatShape, numelOf } from './shape.js';
import type { TensorMemoryPool } from './storage.js';
import { BitNetTensor } from './tensor.js';

export type { TernaryGranularity, TernaryLayout } from '@bitnet/native';

/** The tensor dtype of each packed layout. */
export const LAYOUT_DTYPES: Readonly<Record<TernaryLayout, BitNetDType>> = Object.freeze({
  i2_r4: BitNetDType.I2,
  tq2_0: BitNetDType.TQ2_0,
  tq1_0: BitNetDType.TQ1_0,
});

function layoutOfDType(op: string, dtype: BitNetDType): TernaryLayout {
  if (dtype === BitNetDType.I2) return 'i2_r4';
  if (dtype === BitNetDType.TQ2_0) return 'tq2_0';
  if (dtype === BitNetDType.TQ1_0) return 'tq1_0';
  throw new BitNetTypeError(ErrorCode.DTYPE, op, `${dtype.name} is not a packed ternary dtype (I2, TQ2_0, TQ1_0)`);
}

function checkLayout(op: string, layout: unknown): asserts layout is TernaryLayout {
  if (layout !== 'i2_r4' && layout !== 'tq2_0' && layout !== 'tq1_0')
    throw invalidArgument(op, `layout must be 'i2_r4', 'tq2_0' or 'tq1_0', got ${formatValue(layout)}`);
}

/** A live, non-quantized BitNetTensor, or a typed error. */
export function checkInputTensor(op: string, name: string, value: unknown): asserts value is BitNetTensor {
  if (!(value instanceof BitNetTensor)) throw invalidArgument(op, `${name} must be a BitNetTensor, got ${formatValue(value)}`);
  if (value.isDisposed) throw new DisposedError(op, name);
  if (value.dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, op, `${name} is ${value.dtype.name}, a packed dtype; use PackedTernaryTensor.fromTensor`);
  if (value.device !== 'cpu') throw new BitNetError(ErrorCode.DEVICE_MISMATCH, op, `${name} is on ${value.device}; ternary quantization runs on the CPU`);
}

/**
 * A contiguous float32 copy-or-reference of `t` and a Float32Array view of its
 * elements in pool memory. Dispose the returned tensor when done with `data`.
 */
export function float32View(op: string, t: BitNetTensor): { tensor: BitNetTensor; data: Float32Array } {
  if (!t.dtype.isFloat) throw new BitNetTypeError(ErrorCode.DTYPE, op, `expected a float tensor (F32, F16, BF16), got ${t.dtype.name}`);
  let tensor: BitNetTensor;
  if (t.dtype === BitNetDType.F32) tensor = t.contiguous();
  else {
    const converted = t.to(BitNetDType.F32);
    try {
      tensor = converted.contiguous();
    } finally {
      converted.dispose();
    }
  }
  const at = tensor.location(op);
  return { tensor, data: new Float32Array(at.buffer, at.byteOffset, tensor.numel) };
}

/** A new tensor holding a copy of `data`. */
function tensorOf(data: Float32Array | Int8Array, shape: readonly number[], dtype: BitNetDType, pool?: TensorMemoryPool): BitNetTensor {
  const t = BitNetTensor.empty(shape, { dtype, pool });
  const at = t.location('tensorOf');
  if (dtype === BitNetDType.F32) new Float32Array(at.buffer, at.byteOffset, t.numel).set(data);
  else new Int8Array(at.buffer, at.byteOffset, t.numel).set(data);
  return t;
}

function int8View(t: BitNetTensor, op: string): Int8Array {
  const at = t.location(op);
  return new Int8Array(at.buffer, at.byteOffset, t.numel);
}

/** Rows × columns of a weight tensor: the last axis is the input (columns); the others are rows. */
function matrixShape(op: string, shape: readonly number[]): { rows: number; columns: number } {
  if (shape.length === 0) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, 'weights need at least one axis (got a 0-d tensor)');
  const columns = shape[shape.length - 1]!;
  return { rows: columns === 0 ? numelOf(shape.slice(0, -1)) : numelOf(shape) / columns, columns };
}

function checkTernaryWeights(op: string, weights: TernaryWeights): void {
  if (!weights || typeof weights !== 'object') throw invalidArgument(op, `expected TernaryWeights, got ${formatValue(weights)}`);
  if (!(weights.values instanceof Int8Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'values must be an Int8Array');
  if (!(weights.scales instanceof Float32Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'scales must be a Float32Array');
  const { rows, columns, granularity, groupSize } = weights;
  if (weights.values.length !== rows * columns)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `values has ${weights.values.length} elements, [${rows}, ${columns}] needs ${rows * columns}`);
  if (granularity !== 'tensor' && granularity !== 'row' && granularity !== 'group') throw invalidArgument(op, `unknown granularity ${formatValue(granularity)}`);
  if (granularity === 'group' && !(Number.isSafeInteger(groupSize) && (groupSize as number) > 0)) throw invalidArgument(op, `group granularity needs a positive groupSize, got ${formatValue(groupSize)}`);
  const count = numelOf(scaleShape(granularity, rows, columns, groupSize));
  if (weights.scales.length !== count)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `scales has ${weights.scales.length} entries, granularity '${granularity}' of [${rows}, ${columns}] needs ${count}`);
  for (let i = 0; i < weights.values.length; i++) {
    const v = weights.values[i]!;
    if (v < -1 || v > 1) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, op, `value ${i} is ${v}, not -1, 0 or 1`);
  }
  for (let i = 0; i < count; i++)
    if (!Number.isFinite(weights.scales[i])) throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `scale ${i} is ${weights.scales[i]}`);
}

/** Shape of the scales tensor: [] per tensor, [rows] per row, [rows, groups] per group. */
function scaleShape(granularity: TernaryGranularity, rows: number, columns: number, groupSize: number | null): number[] {
  if (granularity === 'tensor') return [];
  if (granularity === 'row') return [rows];
  return [rows, Math.ceil(columns / (groupSize as number))];
}

// ---- ternary tensors ---------------------------------------------------------

/**
 * Ternary weights: `values` (I8, each -1/0/1, the weight tensor's shape) and
 * `scales` (F32: shape [] per tensor, [rows] per row, [rows, groups] per group;
 * rows = every axis but the last). Owns both tensors.
 */
export class TernaryTensor implements Disposable {
  readonly granularity: TernaryGranularity;
  /** Columns per scale for 'group'; null otherwise. */
  readonly groupSize: number | null;
  #values: BitNetTensor;
  #scales: BitNetTensor;
  #disposed = false;

  /** @internal takes ownership of both tensors; use quantize158 / quantize1Bit / fromTernaryWeights. */
  constructor(values: BitNetTensor, scales: BitNetTensor, granularity: TernaryGranularity, groupSize: number | null) {
    this.#values = values;
    this.#scales = scales;
    this.granularity = granularity;
    this.groupSize = groupSize;
  }

  /** From the native TypedArray form (copied into pool memory), shaped as `shape` (default [rows, columns]). */
  static fromTernaryWeights(weights: TernaryWeights, shape?: readonly number[], pool?: TensorMemoryPool): TernaryTensor {
    const op = 'TernaryTensor.fromTernaryWeights';
    if (!weights || typeof weights !== 'object') throw invalidArgument(op, `expected TernaryWeights, got ${formatValue(weights)}`);
    if (shape !== undefined && !Array.isArray(shape)) throw invalidArgument(op, `shape must be an array, got ${formatValue(shape)}`);
    const dims = shape ? [...shape] : [weights.rows, weights.columns];
    const { rows, columns } = matrixShape(op, dims);
    if (rows !== weights.rows || columns !== weights.columns)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `shape ${formatShape(dims)} is not [${weights.rows}, ${weights.columns}] with leading axes merged`);
    checkTernaryWeights(op, weights);
    const values = tensorOf(weights.values, dims, BitNetDType.I8, pool);
    try {
      const scales = tensorOf(weights.scales, scaleShape(weights.granularity, rows, columns, weights.groupSize), BitNetDType.F32, pool);
      return new TernaryTensor(values, scales, weights.granularity, weights.groupSize);
    } catch (error) {
      values.dispose();
      throw error;
    }
  }

  get disposed(): boolean { return this.#disposed; }
  get shape(): readonly number[] { return this.values.shape; }
  get rows(): number { return matrixShape('TernaryTensor.rows', this.shape).rows; }
  get columns(): number { return this.shape[this.shape.length - 1]!; }

  /** I8 tensor of -1/0/1 (owned by this object; do not dispose it). */
  get values(): BitNetTensor {
    if (this.#disposed) throw new DisposedError('TernaryTensor.values', 'this TernaryTensor');
    return this.#values;
  }

  /** F32 dequantization multipliers (owned by this object). */
  get scales(): BitNetTensor {
    if (this.#disposed) throw new DisposedError('TernaryTensor.scales', 'this TernaryTensor');
    return this.#scales;
  }

  /** The native TypedArray form (copies). */
  toTernaryWeights(): TernaryWeights {
    const { rows, columns } = this;
    const scales = this.scales.toTypedArray() as Float32Array;
    return { rows, columns, values: this.values.toTypedArray() as Int8Array, scales, granularity: this.granularity, groupSize: this.groupSize };
  }

  /** `value × scale` as an F32 tensor of the weights' shape. */
  dequantize(pool?: TensorMemoryPool): BitNetTensor {
    return tensorOf(dequantize158Native(this.toTernaryWeights()), this.shape, BitNetDType.F32, pool ?? this.values.pool);
  }

  /** Packs into a layout (default our kernel layout i2_r4); needs a 2-D view [rows, columns]. */
  pack(layout: TernaryLayout = 'i2_r4'): PackedTernaryTensor {
    return packTernary(this, layout);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#values.dispose();
    this.#scales.dispose();
  }

  [Symbol.dispose](): void { this.dispose(); }
}

export interface Quantize158Options {
  /** 'tensor' (default, BitNet b1.58), 'row' (per output row) or 'group' (per `groupSize` columns of a row). */
  granularity?: TernaryGranularity;
  /** Columns per scale for 'group' (default 256, the ggml block). */
  groupSize?: number;
  /**
   * Use these dequantization multipliers instead of mean|W|: a number (per
   * tensor) or one per row / group (a Float32Array or an F32 tensor of the
   * scales' shape, read in row-major order).
   */
  scale?: number | Float32Array | BitNetTensor;
  /** Lower bound of the absmean scale, as BitNetʼs `clamp_(min=1e-5)` (default 1e-5). */
  epsilon?: number;
  pool?: TensorMemoryPool;
}

/** `expected`: the shape a scale tensor must have (quantize158 knows it; the flat data alone cannot tell [2, 3] from [3, 2]). */
function scaleOption(op: string, scale: Quantize158Options['scale'], expected?: readonly number[]): number | Float32Array | undefined {
  if (scale === undefined || typeof scale === 'number' || scale instanceof Float32Array) return scale;
  if (scale instanceof BitNetTensor) {
    checkInputTensor(op, 'scale', scale);
    // One per-tensor scale may come as [] or [1]; other scales must have exactly the expected shape.
    const scalar = expected !== undefined && expected.length === 0 && scale.ndim <= 1 && scale.numel === 1;
    if (expected && !scalar && (scale.ndim !== expected.length || scale.shape.some((d, i) => d !== expected[i])))
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `scale tensor has shape ${formatShape(scale.shape)}; the scales of these weights have shape ${formatShape(expected)}`);
    const view = float32View(op, scale);
    try {
      return Float32Array.from(view.data);
    } finally {
      view.tensor.dispose();
    }
  }
  throw invalidArgument(op, `scale must be a number, a Float32Array or a BitNetTensor, got ${formatValue(scale)}`);
}

/**
 * BitNet b1.58 absmean quantization of a float tensor (any shape with at least
 * one axis; the last axis is the input dimension): `scale = max(mean|W|, ε)`
 * per tensor / row / group, `value = clamp(roundHalfEven(W / scale), -1, 1)`.
 * NaN/Inf weights → ERR_BITNET_INVALID_ARGUMENT.
 */
export function quantize158(weights: BitNetTensor, options: Quantize158Options = {}): TernaryTensor {
  const op = 'quantize158';
  checkInputTensor(op, 'weights', weights);
  if (options === null || typeof options !== 'object') throw invalidArgument(op, `options must be an object, got ${formatValue(options)}`);
  const { rows, columns } = matrixShape(op, weights.shape);
  let expected: number[] | undefined;
  if (options.scale instanceof BitNetTensor) {
    // Only for the shape check; the native call validates granularity and groupSize itself.
    const granularity = options.granularity ?? 'tensor';
    const groupSize = options.groupSize ?? 256;
    if ((granularity === 'tensor' || granularity === 'row' || granularity === 'group') && Number.isSafeInteger(groupSize) && groupSize > 0)
      expected = scaleShape(granularity, rows, columns, groupSize);
  }
  const scale = scaleOption(op, options.scale, expected);
  const view = float32View(op, weights);
  let result: TernaryWeights;
  try {
    result = quantize158Native(view.data, rows, columns, { granularity: options.granularity, groupSize: options.groupSize, epsilon: options.epsilon, scale });
  } finally {
    view.tensor.dispose();
  }
  return TernaryTensor.fromTernaryWeights(result, weights.shape, options.pool ?? weights.pool);
}

/** `value × scale` as an F32 tensor (same as `ternary.dequantize()`). */
export function dequantize158(ternary: TernaryTensor, pool?: TensorMemoryPool): BitNetTensor {
  if (!(ternary instanceof TernaryTensor)) throw invalidArgument('dequantize158', `expected a TernaryTensor, got ${formatValue(ternary)}`);
  return ternary.dequantize(pool);
}

/**
 * BitNet (v1) 1-bit weights: `value = sign(W − mean W)` (0 → +1) and
 * `scale = mean|W|`, per tensor or row. The result is a TernaryTensor with
 * values ±1, so every packed layout and the kernels take it.
 */
export function quantize1Bit(weights: BitNetTensor, options: { granularity?: 'tensor' | 'row'; pool?: TensorMemoryPool } = {}): TernaryTensor {
  const op = 'quantize1Bit';
  checkInputTensor(op, 'weights', weights);
  const { rows, columns } = matrixShape(op, weights.shape);
  const view = float32View(op, weights);
  let result: TernaryWeights;
  try {
    result = quantize1BitNative(view.data, rows, columns, { granularity: options.granularity });
  } finally {
    view.tensor.dispose();
  }
  return TernaryTensor.fromTernaryWeights(result, weights.shape, options.pool ?? weights.pool);
}

// ---- activations -------------------------------------------------------------

/**
 * Int8 activations: `values` (I8, the input's shape) and `scales` (F32, the
 * input's shape without its last axis: one per token), `x ≈ value × scale`.
 */
export class QuantizedActivations implements Disposable {
  #values: BitNetTensor;
  #scales: BitNetTensor;
  #disposed = false;

  /** @internal takes ownership of both tensors. */
  constructor(values: BitNetTensor, scales: BitNetTensor) {
    this.#values = values;
    this.#scales = scales;
  }

  get disposed(): boolean { return this.#disposed; }
  get shape(): readonly number[] { return this.values.shape; }

  get values(): BitNetTensor {
    if (this.#disposed) throw new DisposedError('QuantizedActivations.values', 'these QuantizedActivations');
    return this.#values;
  }

  get scales(): BitNetTensor {
    if (this.#disposed) throw new DisposedError('QuantizedActivations.scales', 'these QuantizedActivations');
    return this.#scales;
  }

  /** `value × scale` per token, F32, the input's shape. */
  dequantize(pool?: TensorMemoryPool): BitNetTensor {
    const values = this.values, scales = this.scales;
    const columns = values.shape[values.ndim - 1]!;
    const q = int8View(values, 'QuantizedActivations.dequantize');
    const s = scales.toTypedArray() as Float32Array;
    const out = BitNetTensor.empty(values.shape, { pool: pool ?? values.pool });
    const at = out.location('QuantizedActivations.dequantize');
    const data = new Float32Array(at.buffer, at.byteOffset, out.numel);
    for (let t = 0; t < s.length; t++) {
      const scale = s[t]!;
      for (let c = 0, i = t * columns; c < columns; c++, i++) data[i] = q[i]! * scale;
    }
    return out;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#values.dispose();
    this.#scales.dispose();
  }

  [Symbol.dispose](): void { this.dispose(); }
}

/**
 * Int8 absmax quantization per token (every index of the leading axes):
 * `scale = absmax / 127`, `q = clamp(roundHalfEven(x · (127 / absmax)), -127, 127)`
 * in float32 — the exact function BitLinear's kernel applies. NaN/Inf →
 * ERR_BITNET_INVALID_ARGUMENT naming the token and column.
 */
export function quantizeActivations(x: BitNetTensor, options: { pool?: TensorMemoryPool } = {}): QuantizedActivations {
  const op = 'quantizeActivations';
  checkInputTensor(op, 'x', x);
  if (x.ndim === 0) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, 'x needs at least one axis (tokens × features)');
  const columns = x.shape[x.ndim - 1]!;
  const rows = columns === 0 ? numelOf(x.shape.slice(0, -1)) : x.numel / columns;
  const view = float32View(op, x);
  let result: { values: Int8Array; scales: Float32Array };
  try {
    result = quantizeActivationsNative(view.data, rows, columns);
  } finally {
    view.tensor.dispose();
  }
  const pool = options.pool ?? x.pool;
  const values = tensorOf(result.values, x.shape, BitNetDType.I8, pool);
  try {
    return new QuantizedActivations(values, tensorOf(result.scales, x.shape.slice(0, -1), BitNetDType.F32, pool));
  } catch (error) {
    values.dispose();
    throw error;
  }
}

/** `value × scale` per token (same as `q.dequantize()`). */
export function dequantizeActivations(q: QuantizedActivations, pool?: TensorMemoryPool): BitNetTensor {
  if (!(q instanceof QuantizedActivations)) throw invalidArgument('dequantizeActivations', `expected QuantizedActivations, got ${formatValue(q)}`);
  return q.dequantize(pool);
}

// ---- packed storage ----------------------------------------------------------

/**
 * A packed ternary matrix [rows, columns] (rows = output features) in one of
 * three byte layouts, held in 64-byte aligned native memory:
 * - `i2_r4` (dtype I2): our kernel layout, 2-bit codes in tiles of 4 rows ×
 *   256 columns (rows padded to 4, columns to 256 with zero weights), plus one
 *   float32 scale per row beside the codes — or, group-scaled (`groupSize`, a
 *   multiple of 256), one per row and group of columns, each group's codes
 *   stored as its own i2_r4 matrix;
 * - `tq2_0` (dtype TQ2_0) and `tq1_0` (dtype TQ1_0): ggml's blocks of 256
 *   weights with an fp16 scale inside each block (columns % 256 = 0).
 * Codes convert exactly between layouts; a scale going into a ggml block is
 * rounded to fp16 (the only lossy step). Byte layouts: native/src/cpu/ternary/README.md.
 */
export class PackedTernaryTensor implements Disposable {
  #packed: PackedTernary;

  /** @internal takes ownership of a native PackedTernary. */
  constructor(packed: PackedTernary) {
    this.#packed = packed;
  }

  get layout(): TernaryLayout { return this.#packed.layout; }
  get dtype(): BitNetDType { return LAYOUT_DTYPES[this.#packed.layout]; }
  get rows(): number { return this.#packed.rows; }
  get columns(): number { return this.#packed.columns; }
  get shape(): readonly number[] { return [this.#packed.rows, this.#packed.columns]; }
  get byteLength(): number { return this.#packed.byteLength; }
  get disposed(): boolean { return this.#packed.disposed; }

  /** The native object, for the kernels (owned by this tensor). */
  get packed(): PackedTernary {
    if (this.#packed.disposed) throw new DisposedError('PackedTernaryTensor.packed', 'this PackedTernaryTensor');
    return this.#packed;
  }

  /** i2_r4 with one scale per (row, group of this many columns); null: one per row (and for ggml layouts). */
  get groupSize(): number | null { return this.#packed.groupSize; }

  /**
   * i2_r4: a copy of the float32 scales (one per row, or rows × groups row-major
   * when `groupSize` is set); ggml layouts: null (their scales are in the blocks).
   */
  get rowScales(): Float32Array | null {
    const scales = this.packed.scales;
    return scales ? Float32Array.from(scales) : null;
  }

  /**
   * The packed bytes as a tensor of the layout's dtype (a copy in pool memory).
   * TQ2_0 / TQ1_0: shape [rows, columns]. I2: the padded shape
   * [ceil(rows / 4) · 4, ceil(columns / 256) · 256], whose 2-bit codes are
   * exactly the bytes; its row scales are `rowScales`.
   */
  toTensor(pool?: TensorMemoryPool): BitNetTensor {
    const shape = this.layout === 'i2_r4' ? [Math.ceil(this.rows / 4) * 4, Math.ceil(this.columns / TERNARY_BLOCK) * TERNARY_BLOCK] : [this.rows, this.columns];
    return BitNetTensor.fromBytes(this.packed.data, shape, this.dtype, { pool });
  }

  /**
   * From packed bytes (copied; every code is decoded once, so corrupt data
   * fails here): a tensor of dtype TQ2_0 / TQ1_0 ([rows, columns]) or I2
   * (padded shape, `rows`, `columns` and `scales` required), or a U8 tensor of
   * the bytes with `layout`, `rows` and `columns` (and `scales` for i2_r4).
   */
  static fromTensor(tensor: BitNetTensor, options: { layout?: TernaryLayout; rows?: number; columns?: number; scales?: Float32Array | BitNetTensor | null; groupSize?: number | null } = {}): PackedTernaryTensor {
    const op = 'PackedTernaryTensor.fromTensor';
    if (!(tensor instanceof BitNetTensor)) throw invalidArgument(op, `expected a BitNetTensor, got ${formatValue(tensor)}`);
    if (tensor.isDisposed) throw new DisposedError(op, 'tensor');
    let layout: TernaryLayout;
    if (tensor.dtype === BitNetDType.U8) {
      if (options.layout === undefined) throw invalidArgument(op, 'a U8 tensor of packed bytes needs options.layout');
      checkLayout(op, options.layout);
      layout = options.layout;
    } else {
      layout = layoutOfDType(op, tensor.dtype);
      if (options.layout !== undefined && options.layout !== layout)
        throw new BitNetTypeError(ErrorCode.DTYPE, op, `tensor dtype ${tensor.dtype.name} holds layout ${layout}, not ${options.layout}`);
    }
    let rows = options.rows, columns = options.columns;
    if (tensor.dtype !== BitNetDType.U8 && layout !== 'i2_r4') {
      if (tensor.ndim !== 2) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `a ${tensor.dtype.name} tensor must be 2-D [rows, columns], got ${formatShape(tensor.shape)}`);
      const [r, c] = tensor.shape as [number, number];
      if ((rows !== undefined && rows !== r) || (columns !== undefined && columns !== c))
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `options give [${rows}, ${columns}] but the tensor is ${formatShape(tensor.shape)}`);
      rows = r;
      columns = c;
    }
    if (rows === undefined || columns === undefined) throw invalidArgument(op, `layout ${layout} from a ${tensor.dtype.name} tensor needs options.rows and options.columns`);
    if (layout === 'i2_r4' && tensor.dtype === BitNetDType.I2) {
      const padded = [Math.ceil(rows / 4) * 4, Math.ceil(columns / TERNARY_BLOCK) * TERNARY_BLOCK] as const;
      if (tensor.ndim !== 2 || tensor.shape[0] !== padded[0] || tensor.shape[1] !== padded[1])
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `an I2 tensor of [${rows}, ${columns}] has the padded shape ${formatShape(padded)}, got ${formatShape(tensor.shape)}`);
      // i2_r4 bytes are tiles of 4 rows × all column blocks; a view starting inside a tile
      // would splice the rows of two tiles together.
      if (tensor.offset % (4 * padded[1]) !== 0)
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `an I2 view must start on a tile of 4 rows × ${padded[1]} columns; this one starts at element ${tensor.offset}`);
    }
    let scales: Float32Array | null = null;
    if (options.scales instanceof BitNetTensor) scales = scaleOption(op, options.scales) as Float32Array;
    else if (options.scales !== undefined && options.scales !== null) scales = options.scales;
    const source = tensor.contiguous();
    try {
      const at = source.location(op);
      const bytes = new Uint8Array(at.buffer, at.byteOffset, source.byteSize);
      if (bytes.byteLength !== packedTernaryBytes(layout, rows, columns))
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `${bytes.byteLength} bytes given, ${layout} [${rows}, ${columns}] needs ${packedTernaryBytes(layout, rows, columns)}`);
      return new PackedTernaryTensor(PackedTernary.fromBytes(layout, rows, columns, bytes, scales, options.groupSize ?? null));
    } finally {
      source.dispose();
    }
  }

  /** Bytes already in a layout (copied, decoded once to reject corrupt data); `groupSize` for group-scaled i2_r4. */
  static fromBytes(layout: TernaryLayout, rows: number, columns: number, data: Uint8Array, scales: Float32Array | null = null, groupSize: number | null = null): PackedTernaryTensor {
    return new PackedTernaryTensor(PackedTernary.fromBytes(layout, rows, columns, data, scales, groupSize));
  }

  /** Exact inverse of packing: i2_r4 → per-row (or per-group) scales; ggml layouts → per-block (group of 256) fp16 scales. */
  unpack(pool?: TensorMemoryPool): TernaryTensor {
    return TernaryTensor.fromTernaryWeights(unpackTernaryNative(this.packed), undefined, pool);
  }

  /** A copy in another layout (codes exact; see the class comment for scales). */
  convert(layout: TernaryLayout): PackedTernaryTensor {
    checkLayout('PackedTernaryTensor.convert', layout);
    return new PackedTernaryTensor(convertTernaryNative(this.packed, layout));
  }

  /** `value × scale` as an F32 tensor [rows, columns]. */
  dequantize(pool?: TensorMemoryPool): BitNetTensor {
    return tensorOf(dequantize158Native(unpackTernaryNative(this.packed)), this.shape, BitNetDType.F32, pool);
  }

  dispose(): void { this.#packed.dispose(); }
  [Symbol.dispose](): void { this.dispose(); }
}

/**
 * Packs ternary weights (a 2-D view [rows, columns] of them: leading axes are
 * merged into rows). i2_r4 keeps one scale per row when it can (tensor and
 * row scales, or group scales equal within each row) and is group-scaled
 * otherwise (groups of whole 256-column blocks); ggml layouts need
 * columns % 256 = 0 and group scales of whole 256-blocks.
 */
export function packTernary(ternary: TernaryTensor, layout: TernaryLayout = 'i2_r4'): PackedTernaryTensor {
  const op = 'packTernary';
  if (!(ternary instanceof TernaryTensor)) throw invalidArgument(op, `expected a TernaryTensor, got ${formatValue(ternary)}`);
  checkLayout(op, layout);
  return new PackedTernaryTensor(packTernaryNative(ternary.toTernaryWeights(), layout));
}

/** Same as `packed.unpack()`. */
export function unpackTernary(packed: PackedTernaryTensor, pool?: TensorMemoryPool): TernaryTensor {
  if (!(packed instanceof PackedTernaryTensor)) throw invalidArgument('unpackTernary', `expected a PackedTernaryTensor, got ${formatValue(packed)}`);
  return packed.unpack(pool);
}

/** Same as `packed.convert(layout)`. */
export function convertTernary(packed: PackedTernaryTensor, layout: TernaryLayout): PackedTernaryTensor {
  if (!(packed instanceof PackedTernaryTensor)) throw invalidArgument('convertTernary', `expected a PackedTernaryTensor, got ${formatValue(packed)}`);
  return packed.convert(layout);
}
