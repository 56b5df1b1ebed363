/**
 * Ternary (1.58-bit) weights on plain TypedArrays: BitNet b1.58 absmean
 * quantization, BitNet v1 sign quantization, int8 activation quantization,
 * packed formats (our kernel layout `i2_r4`, ggml's `tq2_0` and `tq1_0`) and
 * the native ternary × int8 matmul kernels. The tensor-level BitLinear is built
 * on top of this module.
 *
 * Scale semantics, everywhere: a weight is `value × scale` with `value ∈ {-1, 0, 1}`;
 * `scale` is the dequantization multiplier (BitNet's γ = mean|W|), never its inverse.
 */
import { BitNetRangeError, BitNetTypeError, DisposedError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { requireNative } from './index.js';

export type TernaryGranularity = 'tensor' | 'row' | 'group';
export type TernaryLayout = 'i2_r4' | 'tq2_0' | 'tq1_0';
/** Kernel variants: `avx512vnni` is AVX-512 with vpdpbusd, `avx512` without it. */
export type TernaryTier = 'generic' | 'avx2' | 'avx512' | 'avx512vnni' | 'neon';

/** Weights per ggml block (TQ1_0, TQ2_0) and per i2_r4 block. */
export const TERNARY_BLOCK = 256;
/** Bytes per 256 weights: TQ2_0 = 64 code bytes + fp16 scale, TQ1_0 = 48 + 4 code bytes + fp16 scale. */
export const TQ2_0_BLOCK_BYTES = 66;
export const TQ1_0_BLOCK_BYTES = 54;

/** Quantized ternary weights, row-major `[rows, columns]` (rows = output features). */
export interface TernaryWeights {
  rows: number;
  columns: number;
  /** Each -1, 0 or 1. */
  values: Int8Array;
  /** tensor: 1 scale; row: `rows`; group: `rows × ceil(columns / groupSize)` (row-major). */
  scales: Float32Array;
  granularity: TernaryGranularity;
  /** Columns per scale for 'group'; null otherwise. Groups never cross rows. */
  groupSize: number | null;
}

export interface Quantize158Options {
  /** Default 'tensor' (BitNet b1.58). */
  granularity?: TernaryGranularity;
  /** Columns per scale when granularity is 'group' (default 256, the ggml block). */
  groupSize?: number;
  /** Use these scales instead of mean|W|: a number (tensor) or one per row / group. */
  scale?: number | Float32Array;
  /** Lower bound of the absmean scale, as BitNet's `clamp_(min=1e-5)` (default 1e-5). */
  epsilon?: number;
}

type FloatArray = Float32Array | Float64Array;

function checkShape(op: string, length: number, rows: number, columns: number): void {
  for (const [name, value] of [['rows', rows], ['columns', columns]] as const)
    if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(op, `${name} must be a non-negative integer, got ${value}`);
  if (rows * columns !== length)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `array has ${length} elements but shape [${rows}, ${columns}] needs ${rows * columns}`);
}

function checkFloatArray(op: string, name: string, array: unknown): asserts array is FloatArray {
  if (!(array instanceof Float32Array) && !(array instanceof Float64Array))
    throw new BitNetTypeError(ErrorCode.DTYPE, op, `${name} must be a Float32Array or Float64Array`);
}

function checkFinite(op: string, name: string, array: ArrayLike<number>, columns: number): void {
  for (let i = 0; i < array.length; i++) {
    const v = array[i];
    if (!Number.isFinite(v))
      throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `${name} at row ${Math.floor(i / Math.max(columns, 1))}, column ${i % Math.max(columns, 1)} is ${Number.isNaN(v) ? 'NaN' : v}`);
  }
}

/** An options argument: undefined or null mean none; anything else must be an object. */
function optionsObject<T extends object>(op: string, options: T | null | undefined): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== 'object') throw invalidArgument(op, `options must be an object, got ${formatValue(options)}`);
  return options;
}

/** Round half to even, as PyTorch's `round()`. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Number of scales for a granularity. */
function scaleCount(rows: number, columns: number, granularity: TernaryGranularity, groupSize: number | null): number {
  if (granularity === 'tensor') return 1;
  if (granularity === 'row') return rows;
  return rows * Math.ceil(columns / (groupSize as number));
}

/** Index into `scales` of the scale of element (row, column). */
export function scaleIndex(weights: Pick<TernaryWeights, 'columns' | 'granularity' | 'groupSize'>, row: number, column: number): number {
  if (weights.granularity === 'tensor') return 0;
  if (weights.granularity === 'row') return row;
  const groupSize = weights.groupSize as number;
  return row * Math.ceil(weights.columns / groupSize) + Math.floor(column / groupSize);
}

function resolveGranularity(op: string, options: { granularity?: TernaryGranularity; groupSize?: number | null }) {
  const granularity = options.granularity ?? 'tensor';
  if (granularity !== 'tensor' && granularity !== 'row' && granularity !== 'group')
    throw invalidArgument(op, `granularity must be 'tensor', 'row' or 'group', got ${JSON.stringify(granularity)}`);
  let groupSize: number | null = null;
  if (granularity === 'group') {
    groupSize = options.groupSize ?? TERNARY_BLOCK;
    if (!Number.isSafeInteger(groupSize) || groupSize < 1) throw outOfRange(op, `groupSize must be a positive integer, got ${groupSize}`);
  }
  return { granularity, groupSize };
}

/**
 * BitNet b1.58 absmean quantization: `scale = max(mean|W|, epsilon)` over the
 * tensor, each row or each group of `groupSize` columns (float64 mean, stored
 * as float32), then `value = clamp(roundHalfEven(W / scale), -1, 1)` with the
 * stored float32 scale, in float64.
 */
export function quantize158(weights: FloatArray, rows: number, columns: number, options: Quantize158Options = {}): TernaryWeights {
  const op = 'quantize158';
  options = optionsObject(op, options);
  checkFloatArray(op, 'weights', weights);
  checkShape(op, weights.length, rows, columns);
  const { granularity, groupSize } = resolveGranularity(op, options);
  const epsilon = options.epsilon ?? 1e-5;
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw outOfRange(op, `epsilon must be a finite number >= 0, got ${epsilon}`);
  checkFinite(op, 'weight', weights, columns);
  const count = scaleCount(rows, columns, granularity, groupSize);
  const shape = { columns, granularity, groupSize };
  let scales: Float32Array;
  if (options.scale !== undefined) {
    if (typeof options.scale === 'number') {
      if (granularity !== 'tensor') throw invalidArgument(op, `a number scale needs granularity 'tensor', got '${granularity}'`);
      scales = Float32Array.of(options.scale);
    } else if (options.scale instanceof Float32Array) {
      if (options.scale.length !== count)
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `scale has ${options.scale.length} entries, granularity '${granularity}' needs ${count}`);
      scales = Float32Array.from(options.scale);
    } else {
      throw invalidArgument(op, 'scale must be a number or a Float32Array');
    }
    for (let i = 0; i < scales.length; i++)
      if (!(scales[i] > 0) || !Number.isFinite(scales[i])) throw outOfRange(op, `scale[${i}] must be a finite number > 0, got ${scales[i]}`);
  } else {
    const sums = new Float64Array(count);
    const sizes = new Float64Array(count);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++) {
        const s = scaleIndex(shape, r, c);
        sums[s] += Math.abs(weights[r * columns + c]);
        sizes[s] += 1;
      }
    scales = new Float32Array(count);
    for (let s = 0; s < count; s++) scales[s] = Math.max(sizes[s] ? sums[s] / sizes[s] : 0, epsilon);
  }
  const values = new Int8Array(rows * columns);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) {
      const scale = scales[scaleIndex(shape, r, c)];
      const q = scale > 0 ? roundHalfEven(weights[r * columns + c] / scale) : 0;
      values[r * columns + c] = q > 1 ? 1 : q < -1 ? -1 : q;
    }
  return { rows, columns, values, scales, granularity, groupSize };
}

/** `value × scale` as float32. */
export function dequantize158(weights: TernaryWeights): Float32Array {
  const op = 'dequantize158';
  checkTernaryWeights(op, weights);
  const { rows, columns, values, scales } = weights;
  const out = new Float32Array(rows * columns);
  // Runs of columns that share one scale: the whole row, or one group.
  const run = weights.granularity === 'group' ? (weights.groupSize as number) : Math.max(columns, 1);
  for (let r = 0; r < rows; r++)
    for (let from = 0; from < columns; from += run) {
      const scale = scales[scaleIndex(weights, r, from)];
      const end = r * columns + Math.min(columns, from + run);
      for (let i = r * columns + from; i < end; i++) out[i] = values[i] * scale;
    }
  return out;
}

/**
 * BitNet (v1) 1-bit weights: `value = sign(W − α)` with α = mean(W) over the
 * tensor or row (a zero difference maps to +1), `scale = β = mean|W|`. The
 * result is ordinary ternary weights (values ±1), so every packed format and
 * kernel takes it.
 */
export function quantize1Bit(weights: FloatArray, rows: number, columns: number, options: { granularity?: 'tensor' | 'row' } = {}): TernaryWeights {
  const op = 'quantize1Bit';
  options = optionsObject(op, options);
  checkFloatArray(op, 'weights', weights);
  checkShape(op, weights.length, rows, columns);
  const granularity = options.granularity ?? 'tensor';
  if (granularity !== 'tensor' && granularity !== 'row') throw invalidArgument(op, `granularity must be 'tensor' or 'row', got ${JSON.stringify(granularity)}`);
  checkFinite(op, 'weight', weights, columns);
  const count = granularity === 'tensor' ? 1 : rows;
  const per = granularity === 'tensor' ? rows * columns : columns;
  const alpha = new Float64Array(count);
  const beta = new Float64Array(count);
  for (let i = 0; i < weights.length; i++) {
    const s = granularity === 'tensor' ? 0 : Math.floor(i / columns);
    alpha[s] += weights[i];
    beta[s] += Math.abs(weights[i]);
  }
  const values = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const s = granularity === 'tensor' ? 0 : Math.floor(i / columns);
    values[i] = weights[i] - alpha[s] / per >= 0 ? 1 : -1;
  }
  const scales = new Float32Array(count);
  for (let s = 0; s < count; s++) scales[s] = per ? beta[s] / per : 0;
  return { rows, columns, values, scales, granularity, groupSize: null };
}

function checkTernaryWeights(op: string, weights: TernaryWeights): void {
  if (!weights || typeof weights !== 'object') throw invalidArgument(op, 'expected TernaryWeights');
  if (!(weights.values instanceof Int8Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'values must be an Int8Array');
  if (!(weights.scales instanceof Float32Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'scales must be a Float32Array');
  checkShape(op, weights.values.length, weights.rows, weights.columns);
  const { granularity, groupSize } = resolveGranularity(op, weights);
  const count = scaleCount(weights.rows, weights.columns, granularity, groupSize);
  if (weights.scales.length !== count)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `scales has ${weights.scales.length} entries, granularity '${granularity}' needs ${count}`);
  checkFinite(op, 'scale', weights.scales, weights.scales.length);
}

// ---- activations -------------------------------------------------------------

export interface QuantizedActivations {
  rows: number;
  columns: number;
  /** int8 in [-127, 127], row-major. */
  values: Int8Array;
  /** One per row: absmax / 127 (0 for an all-zero row); x ≈ value × scale. */
  scales: Float32Array;
}

/**
 * Int8 absmax quantization per row (token): `q = clamp(roundHalfEven(x · (127 / absmax)), -127, 127)`
 * with float32 arithmetic, `scale = absmax / 127`. The exact function the
 * ternary matmul applies to its input. NaN/Inf → ERR_BITNET_INVALID_ARGUMENT.
 */
export function quantizeActivations(x: Float32Array, rows: number, columns: number): QuantizedActivations {
  const op = 'quantizeActivations';
  if (!(x instanceof Float32Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'x must be a Float32Array');
  checkShape(op, x.length, rows, columns);
  const native = requireNative(op) as unknown as TernaryNative;
  const { values, scales } = native.quantizeActivationsInt8(x, rows, columns);
  return { rows, columns, values, scales };
}

export function dequantizeActivations(q: QuantizedActivations): Float32Array {
  const op = 'dequantizeActivations';
  checkShape(op, q.values.length, q.rows, q.columns);
  if (q.scales.length !== q.rows) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `scales has ${q.scales.length} entries, expected ${q.rows}`);
  const out = new Float32Array(q.values.length);
  for (let r = 0; r < q.rows; r++) for (let c = 0; c < q.columns; c++) out[r * q.columns + c] = q.values[r * q.columns + c] * q.scales[r];
  return out;
}

// ---- packed formats ----------------------------------------------------------

/** Bytes of a packed matrix. ggml layouts need columns % 256 === 0. */
export function packedTernaryBytes(layout: TernaryLayout, rows: number, columns: number): number {
  const blocks = Math.ceil(columns / TERNARY_BLOCK);
  if (layout === 'i2_r4') return Math.ceil(rows / 4) * 4 * blocks * 64;
  if (layout === 'tq2_0') return rows * blocks * TQ2_0_BLOCK_BYTES;
  if (layout === 'tq1_0') return rows * blocks * TQ1_0_BLOCK_BYTES;
  throw invalidArgument('packedTernaryBytes', `unknown layout ${JSON.stringify(layout)}`);
}

interface TernaryNative {
  ternaryVariants(): { selected: TernaryTier; supported: TernaryTier[] };
  packTernary(values: Int8Array, rows: number, columns: number, layout: TernaryLayout, blockScales?: Float32Array | null, out?: Uint8Array, groupSize?: number | null): Uint8Array;
  unpackTernary(data: Uint8Array, rows: number, columns: number, layout: TernaryLayout, groupSize?: number | null): { values: Int8Array; blockScales: Float32Array | null };
  quantizeActivationsInt8(x: Float32Array, rows: number, columns: number): { values: Int8Array; scales: Float32Array };
  ternaryMatmul(codes: Uint8Array, scales: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, bias: Float32Array | null, out: Float32Array | null, threads?: number, tier?: TernaryTier, groupSize?: number | null): Float32Array;
  ternaryMatmulAsync(codes: Uint8Array, scales: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, bias: Float32Array | null, out: Float32Array | null, threads?: number, tier?: TernaryTier, groupSize?: number | null): Promise<Float32Array>;
  ternaryMatmulInt8(codes: Uint8Array, rows: number, columns: number, xq: Int8Array, batch: number, threads?: number, tier?: TernaryTier, groupSize?: number | null): Int32Array;
  denseMatmulF32(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, out: Float32Array | null, threads?: number, tier?: TernaryTier): Float32Array;
  denseMatmulF32Async(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, out: Float32Array | null, threads?: number, tier?: TernaryTier): Promise<Float32Array>;
  allocateAligned(size: number, alignment?: number, uninitialized?: boolean): ArrayBuffer;
  freeAligned(buffer: ArrayBuffer): void;
}

function ternaryNative(op: string): TernaryNative {
  return requireNative(op) as unknown as TernaryNative;
}

/**
 * A packed ternary matrix in native (64-byte aligned) memory.
 * - `i2_r4`: our kernel layout (see native/src/cpu/ternary/ternary.h): rows in
 *   tiles of 4, per tile and 256-column block 4 × 64 bytes of TQ2_0-ordered
 *   2-bit codes; `scales` holds one float32 per row. Group-scaled (`groupSize`
 *   set, a multiple of 256): the columns are cut into groups of `groupSize`,
 *   each group stored as its own i2_r4 matrix after the previous one, and
 *   `scales` holds `rows × ceil(columns / groupSize)` floats, row-major.
 * - `tq2_0`, `tq1_0`: ggml's blocks, row-major, fp16 scale inside each block; `scales` is null.
 */
export class PackedTernary implements Disposable {
  readonly layout: TernaryLayout;
  readonly rows: number;
  readonly columns: number;
  /** i2_r4 with one scale per (row, group of this many columns); null: one scale per row (and for ggml layouts). */
  readonly groupSize: number | null;
  #buffer: ArrayBuffer | null;
  #data: Uint8Array | null;
  #scales: Float32Array | null;
  #pending = 0;
  #disposed = false;

  /** @internal use packTernary / PackedTernary.fromBytes. */
  constructor(layout: TernaryLayout, rows: number, columns: number, buffer: ArrayBuffer, scales: Float32Array | null, groupSize: number | null = null) {
    this.layout = layout;
    this.rows = rows;
    this.columns = columns;
    this.groupSize = groupSize;
    this.#buffer = buffer;
    this.#data = new Uint8Array(buffer);
    this.#scales = scales;
  }

  /**
   * Wraps bytes already in a layout (a file's tensor data); they are copied into aligned memory.
   * i2_r4 takes `rows` scales, or `rows × ceil(columns / groupSize)` with `groupSize` (group-scaled).
   */
  static fromBytes(layout: TernaryLayout, rows: number, columns: number, data: Uint8Array, scales: Float32Array | null = null, groupSize: number | null = null): PackedTernary {
    const op = 'PackedTernary.fromBytes';
    checkShape(op, rows * columns, rows, columns);
    checkGroupSize(op, layout, groupSize);
    const bytes = packedTernaryBytes(layout, rows, columns);
    if (layout !== 'i2_r4' && columns % TERNARY_BLOCK !== 0)
      throw new BitNetRangeError(ErrorCode.UNSUPPORTED, op, `${layout} needs columns to be a multiple of 256, got ${columns}`);
    if (!(data instanceof Uint8Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'data must be a Uint8Array');
    if (data.length !== bytes) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `data has ${data.length} bytes, ${layout} [${rows}, ${columns}] needs ${bytes}`);
    if (layout === 'i2_r4') {
      const count = i2ScaleCount(rows, columns, groupSize);
      if (!(scales instanceof Float32Array) || scales.length !== count)
        throw new BitNetRangeError(
          ErrorCode.SHAPE_MISMATCH,
          op,
          groupSize === null ? `i2_r4 needs a Float32Array of ${rows} row scales` : `group-scaled i2_r4 needs a Float32Array of ${rows} × ${count / Math.max(rows, 1)} = ${count} scales`,
        );
      checkFinite(op, 'scale', scales, 1);
    } else if (scales !== null) {
      throw invalidArgument(op, `${layout} keeps its scales inside the blocks; pass null`);
    }
    const native = ternaryNative(op);
    const buffer = native.allocateAligned(bytes, 64, true);
    new Uint8Array(buffer).set(data);
    const packed = new PackedTernary(layout, rows, columns, buffer, scales ? Float32Array.from(scales) : null, groupSize);
    // Decode once so corrupt codes fail here, not as wrong numbers later.
    try {
      native.unpackTernary(packed.data, rows, columns, layout, groupSize);
    } catch (error) {
      packed.dispose();
      throw error;
    }
    return packed;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The packed bytes (a view of native memory). */
  get data(): Uint8Array {
    if (this.#disposed) throw new DisposedError('PackedTernary.data', 'this PackedTernary');
    return this.#data as Uint8Array;
  }

  /** i2_r4: float32 scale per row (or per row and group, see groupSize); ggml layouts: null. */
  get scales(): Float32Array | null {
    if (this.#disposed) throw new DisposedError('PackedTernary.scales', 'this PackedTernary');
    return this.#scales;
  }

  get byteLength(): number {
    return packedTernaryBytes(this.layout, this.rows, this.columns);
  }

  /** @internal keeps the memory alive while a native call runs on another thread. */
  retain(op: string): () => void {
    if (this.#disposed) throw new DisposedError(op, 'this PackedTernary');
    this.#pending++;
    return () => {
      this.#pending--;
      if (this.#disposed && this.#pending === 0) this.#free();
    };
  }

  /** Frees the native memory now (after any running async call ends). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#pending === 0) this.#free();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #free(): void {
    if (!this.#buffer) return;
    const buffer = this.#buffer;
    this.#buffer = null;
    this.#data = null;
    this.#scales = null;
    ternaryNative('PackedTernary.dispose').freeAligned(buffer);
  }
}

/** One scale per (row, 256-column block), requiring a uniform scale inside each block. */
function blockScalesOf(op: string, weights: TernaryWeights): Float32Array {
  const blocks = weights.columns / TERNARY_BLOCK;
  if (weights.granularity === 'group') {
    const groupSize = weights.groupSize as number;
    if (groupSize % TERNARY_BLOCK !== 0 && groupSize < weights.columns)
      throw new BitNetRangeError(ErrorCode.UNSUPPORTED, op, `ggml layouts hold one scale per 256 columns; groupSize ${groupSize} is not a multiple of 256`);
  }
  const out = new Float32Array(weights.rows * blocks);
  for (let r = 0; r < weights.rows; r++)
    for (let b = 0; b < blocks; b++) out[r * blocks + b] = weights.scales[scaleIndex(weights, r, b * TERNARY_BLOCK)];
  return out;
}

/** Scales of an i2_r4 matrix: one per row, or one per (row, group) when group-scaled. */
function i2ScaleCount(rows: number, columns: number, groupSize: number | null): number {
  return groupSize === null ? rows : rows * Math.ceil(columns / groupSize);
}

function checkGroupSize(op: string, layout: TernaryLayout, groupSize: number | null): void {
  if (groupSize === null) return;
  if (layout !== 'i2_r4') throw invalidArgument(op, `groupSize is for i2_r4; ${layout} keeps one scale per 256-column block`);
  if (!Number.isSafeInteger(groupSize) || groupSize < TERNARY_BLOCK || groupSize % TERNARY_BLOCK !== 0)
    throw new BitNetRangeError(ErrorCode.UNSUPPORTED, op, `i2_r4 group scales cover whole 256-column blocks; groupSize must be a positive multiple of 256, got ${groupSize}`);
}

/**
 * The scales i2_r4 stores for these weights: one per row when the scales
 * agree within each row (ignoring groups whose weights are all zero: ggml
 * stores d = 0 for those), else one per (row, group) — group-scaled, which
 * needs groups of whole 256-column blocks.
 */
function i2ScalesOf(op: string, weights: TernaryWeights): { scales: Float32Array; groupSize: number | null } {
  const out = new Float32Array(weights.rows);
  for (let r = 0; r < weights.rows; r++) {
    if (weights.granularity !== 'group') {
      out[r] = weights.scales[scaleIndex(weights, r, 0)];
      continue;
    }
    let scale: number | null = null;
    for (let c = 0; c < weights.columns; c++) {
      if (weights.values[r * weights.columns + c] === 0) continue;
      const s = weights.scales[scaleIndex(weights, r, c)];
      if (scale === null) scale = s;
      else if (s !== scale) {
        const groupSize = weights.groupSize as number;
        if (groupSize % TERNARY_BLOCK !== 0)
          throw new BitNetRangeError(
            ErrorCode.UNSUPPORTED,
            op,
            `i2_r4 holds one scale per row or per group of whole 256-column blocks, but row ${r} has group scales ${scale} and ${s} in groups of ${groupSize} columns`,
          );
        return { scales: Float32Array.from(weights.scales), groupSize };
      }
    }
    out[r] = scale ?? (weights.columns ? weights.scales[scaleIndex(weights, r, 0)] : 0);
  }
  return { scales: out, groupSize: null };
}

/**
 * Packs ternary weights. ggml layouts store each block's scale as fp16 (the
 * only lossy step: relative rounding ≤ 2^-11); codes are always exact.
 */
export function packTernary(weights: TernaryWeights, layout: TernaryLayout = 'i2_r4'): PackedTernary {
  const op = 'packTernary';
  checkTernaryWeights(op, weights);
  if (layout !== 'i2_r4' && layout !== 'tq2_0' && layout !== 'tq1_0')
    throw invalidArgument(op, `layout must be 'i2_r4', 'tq2_0' or 'tq1_0', got ${JSON.stringify(layout)}`);
  const { rows, columns } = weights;
  if (layout !== 'i2_r4' && columns % TERNARY_BLOCK !== 0)
    throw new BitNetRangeError(ErrorCode.UNSUPPORTED, op, `${layout} needs columns to be a multiple of 256, got ${columns}`);
  const native = ternaryNative(op);
  const i2 = layout === 'i2_r4' ? i2ScalesOf(op, weights) : null;
  const blockScales = i2 ? null : blockScalesOf(op, weights);
  const buffer = native.allocateAligned(packedTernaryBytes(layout, rows, columns), 64, true);
  try {
    native.packTernary(weights.values, rows, columns, layout, blockScales, new Uint8Array(buffer), i2?.groupSize ?? null);
  } catch (error) {
    native.freeAligned(buffer);
    throw error;
  }
  return new PackedTernary(layout, rows, columns, buffer, i2 ? i2.scales : null, i2?.groupSize ?? null);
}

/**
 * Exact inverse of packTernary: i2_r4 → 'row' scales (group-scaled i2_r4 → 'group' scales of
 * its groupSize); ggml layouts → 'group' scales of 256 (fp16 values).
 */
export function unpackTernary(packed: PackedTernary): TernaryWeights {
  const op = 'unpackTernary';
  if (!(packed instanceof PackedTernary)) throw invalidArgument(op, 'expected a PackedTernary');
  const { values, blockScales } = ternaryNative(op).unpackTernary(packed.data, packed.rows, packed.columns, packed.layout, packed.groupSize);
  if (packed.layout === 'i2_r4') {
    const scales = Float32Array.from(packed.scales as Float32Array);
    if (packed.groupSize !== null) return { rows: packed.rows, columns: packed.columns, values, scales, granularity: 'group', groupSize: packed.groupSize };
    return { rows: packed.rows, columns: packed.columns, values, scales, granularity: 'row', groupSize: null };
  }
  return { rows: packed.rows, columns: packed.columns, values, scales: blockScales as Float32Array, granularity: 'group', groupSize: TERNARY_BLOCK };
}

/** Repacks into another layout; codes are exact, scales as packTernary describes. */
export function convertTernary(packed: PackedTernary, layout: TernaryLayout): PackedTernary {
  return packTernary(unpackTernary(packed), layout);
}

// ---- kernels -----------------------------------------------------------------

export interface TernaryMatmulOptions {
  /** Added to every output row: length = rows. */
  bias?: Float32Array | null;
  /** Written in place when given: length = batch × rows. */
  out?: Float32Array | null;
  /** Threads of the native pool (default: all, BITNET_NUM_THREADS). */
  threads?: number;
  /** Kernel variant; default the best this CPU runs (BITNET_CPU_ISA lowers it). */
  tier?: TernaryTier;
}

/** The kernel variants this CPU runs and the one used by default. */
export function ternaryKernelTiers(): { selected: TernaryTier; supported: TernaryTier[] } {
  return ternaryNative('ternaryKernelTiers').ternaryVariants();
}

function checkI2(op: string, packed: PackedTernary): void {
  if (!(packed instanceof PackedTernary)) throw invalidArgument(op, 'weights must be a PackedTernary');
  if (packed.disposed) throw new DisposedError(op, 'this PackedTernary');
  if (packed.layout !== 'i2_r4')
    throw new BitNetTypeError(ErrorCode.DTYPE, op, `the kernels read the i2_r4 layout; convert ${packed.layout} with convertTernary(weights, 'i2_r4')`);
}

function checkBatch(op: string, batch: number): void {
  if (!Number.isSafeInteger(batch) || batch < 0) throw outOfRange(op, `batch must be a non-negative integer, got ${batch}`);
}

function matmulArgs(op: string, packed: PackedTernary, x: Float32Array, batch: number, options: TernaryMatmulOptions) {
  checkI2(op, packed);
  checkBatch(op, batch);
  if (!(x instanceof Float32Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'x must be a Float32Array');
  if (x.length !== batch * packed.columns)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `x has ${x.length} elements, expected batch ${batch} × columns ${packed.columns} = ${batch * packed.columns}`);
  return [packed.data, packed.scales as Float32Array, packed.rows, packed.columns, x, batch, options.bias ?? null, options.out ?? null, options.threads ?? 0, options.tier, packed.groupSize] as const;
}

/**
 * BitLinear's matmul: quantizes each row of `x` ([batch, columns]) to int8
 * (quantizeActivations), multiplies by the ternary weights with exact int32
 * accumulation, and returns `dot × (weightScale[row] × xScale[token]) + bias[row]`
 * in float32, shape [batch, rows]. Group-scaled weights: `(Σ_group dot_g × scale[row][g]) × xScale[token] + bias[row]`.
 */
export function ternaryMatmul(packed: PackedTernary, x: Float32Array, batch: number, options: TernaryMatmulOptions = {}): Float32Array {
  const op = 'ternaryMatmul';
  options = optionsObject(op, options);
  return ternaryNative(op).ternaryMatmul(...matmulArgs(op, packed, x, batch, options));
}

/** ternaryMatmul on a libuv worker thread; `packed` stays alive (dispose waits) until it settles. */
export async function ternaryMatmulAsync(packed: PackedTernary, x: Float32Array, batch: number, options: TernaryMatmulOptions = {}): Promise<Float32Array> {
  const op = 'ternaryMatmulAsync';
  options = optionsObject(op, options);
  const args = matmulArgs(op, packed, x, batch, options);
  const release = packed.retain(op);
  try {
    return await ternaryNative(op).ternaryMatmulAsync(...args);
  } finally {
    release();
  }
}

/** The integer path alone: `out[n][r] = Σ_k value[r][k] · xq[n][k]` (exact int32), shape [batch, rows]. */
export function ternaryMatmulInt8(packed: PackedTernary, xq: Int8Array, batch: number, options: Pick<TernaryMatmulOptions, 'threads' | 'tier'> = {}): Int32Array {
  const op = 'ternaryMatmulInt8';
  options = optionsObject(op, options);
  checkI2(op, packed);
  checkBatch(op, batch);
  if (!(xq instanceof Int8Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'xq must be an Int8Array');
  if (xq.length !== batch * packed.columns)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `xq has ${xq.length} elements, expected batch ${batch} × columns ${packed.columns}`);
  return ternaryNative(op).ternaryMatmulInt8(packed.data, packed.rows, packed.columns, xq, batch, options.threads ?? 0, options.tier, packed.groupSize);
}

function denseArgs(op: string, w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, options: Omit<TernaryMatmulOptions, 'bias'>) {
  if (!(w instanceof Float32Array) || !(x instanceof Float32Array)) throw new BitNetTypeError(ErrorCode.DTYPE, op, 'w and x must be Float32Arrays');
  checkShape(op, w.length, rows, columns);
  checkBatch(op, batch);
  if (x.length !== batch * columns) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `x has ${x.length} elements, expected ${batch * columns}`);
  return [w, rows, columns, x, batch, options.out ?? null, options.threads ?? 0, options.tier] as const;
}

/** Dense float32 `y[n][r] = Σ_k w[r][k] · x[n][k]` (w row-major [rows, columns]): the F32 baseline of the ternary kernels. */
export function denseMatmulF32(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, options: Omit<TernaryMatmulOptions, 'bias'> = {}): Float32Array {
  const op = 'denseMatmulF32';
  options = optionsObject(op, options);
  return ternaryNative(op).denseMatmulF32(...denseArgs(op, w, rows, columns, x, batch, options));
}

/** As denseMatmulF32, on a worker thread; bad arguments reject the promise. */
export async function denseMatmulF32Async(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, options: Omit<TernaryMatmulOptions, 'bias'> = {}): Promise<Float32Array> {
  const op = 'denseMatmulF32Async';
  options = optionsObject(op, options);
  return await ternaryNative(op).denseMatmulF32Async(...denseArgs(op, w, rows, columns, x, batch, options));
}

