import { BitNetRangeError, BitNetTypeError, DisposedError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { BitNetDType, type DTypeLike, type ElementArray, toDType } from './dtype.js';
import { bf16ToNumber, encodeNumber, f16ToNumber } from './half.js';
import { TensorMetadata } from './metadata.js';
import * as ops from './ops.js';
import { getDefaultTensorPool } from './pool.js';
import { checkShape, contiguousStrides, formatShape, normalizeAxis, numelOf, type Shape } from './shape.js';
import { Storage, type TensorMemoryPool } from './storage.js';

export interface TensorOptions {
  dtype?: DTypeLike;
  device?: string;
  pool?: TensorMemoryPool;
}

/** One axis of a slice: an index (drops the axis), null/undefined (whole axis), or [start, end, step]. */
export type SliceSpec = number | null | undefined | readonly [start?: number | null, end?: number | null, step?: number];

export type NestedArray = number | boolean | NestedArray[];

function typedArrayFor(dtype: BitNetDType, buffer: ArrayBuffer, byteOffset: number, length: number): ElementArray {
  switch (dtype.name) {
    case 'F32': return new Float32Array(buffer, byteOffset, length);
    case 'F16':
    case 'BF16': return new Uint16Array(buffer, byteOffset, length);
    case 'I16': return new Int16Array(buffer, byteOffset, length);
    case 'I8': return new Int8Array(buffer, byteOffset, length);
    case 'I32': return new Int32Array(buffer, byteOffset, length);
    default: return new Uint8Array(buffer, byteOffset, length);
  }
}

/**
 * An n-dimensional array in pool memory. Views (reshape, transpose, slice, …)
 * share the storage through its reference count; `dispose()` releases this
 * tensor's reference, and the last one returns the block to the pool.
 */
export class BitNetTensor {
  #storage: Storage;
  #meta: TensorMetadata;
  #disposed = false;

  /** Wraps storage the caller has retained for this tensor. */
  constructor(storage: Storage, meta: TensorMetadata) {
    this.#storage = storage;
    this.#meta = meta;
  }

  // ---- creation ----

  /** Uninitialised-by-contract tensor (pool memory is zeroed by the pool or left as is). */
  static empty(shape: Shape, options: TensorOptions = {}): BitNetTensor {
    const dims = checkShape(shape, 'empty');
    const dtype = toDType(options.dtype, BitNetDType.F32, 'empty');
    const device = options.device ?? 'cpu';
    const meta = new TensorMetadata(dims, dtype, device);
    const pool = options.pool ?? getDefaultTensorPool();
    return new BitNetTensor(Storage.allocate(pool, meta.byteSize, device), meta);
  }

  static zeros(shape: Shape, options: TensorOptions = {}): BitNetTensor {
    const t = BitNetTensor.empty(shape, options);
    t.rawBytes('zeros').fill(0);
    return t;
  }

  static ones(shape: Shape, options: TensorOptions = {}): BitNetTensor {
    return BitNetTensor.full(shape, 1, options);
  }

  static full(shape: Shape, value: number, options: TensorOptions = {}): BitNetTensor {
    if (typeof value !== 'number') throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'full', `value must be a number, got ${formatValue(value)}`);
    const dtype = toDType(options.dtype, BitNetDType.F32, 'full');
    // Checked before allocating, so a refused call holds no pool block.
    if (dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, 'full', `${dtype.name} tensors are made by the quantization functions, not filled with a number`);
    const encoded = encodeScalar(value, dtype, 'full');
    const t = BitNetTensor.empty(shape, { ...options, dtype });
    try {
      (t.rawElements('full') as unknown as { fill(v: number): void }).fill(encoded);
    } catch (error) {
      t.dispose();
      throw error;
    }
    return t;
  }

  /** Values start, start + step, … below end (numpy arange). */
  static arange(start: number, end?: number, step = 1, options: TensorOptions = {}): BitNetTensor {
    if (end === undefined) {
      end = start;
      start = 0;
    }
    if (![start, end, step].every(Number.isFinite) || step === 0)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'arange', `start, end and step must be finite and step non-zero, got ${start}, ${end}, ${step}`);
    const count = Math.max(0, Math.ceil((end - start) / step));
    if (!Number.isSafeInteger(count))
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'arange', `start ${start}, end ${end} and step ${step} give ${count} elements, more than any tensor can hold`);
    // The pool is asked first (typed ERR_BITNET_OUT_OF_MEMORY for huge counts); no JS-side copy of the values.
    return BitNetTensor.generate([count], options, 'arange', (i) => start + i * step);
  }

  /**
   * Seeded random values: uniform in [low, high) (default [0, 1)) or normal(mean, std).
   * The generator is xoshiro128** seeded by splitmix32, so a seed gives the same
   * values on every machine.
   */
  static random(shape: Shape, options: TensorOptions & { seed?: number; distribution?: 'uniform' | 'normal'; low?: number; high?: number; mean?: number; std?: number } = {}): BitNetTensor {
    const op = 'random';
    const dims = checkShape(shape, op);
    if (options === null || typeof options !== 'object') throw invalidArgument(op, `options must be an object, got ${formatValue(options)}`);
    const distribution = options.distribution ?? 'uniform';
    if (distribution !== 'uniform' && distribution !== 'normal') throw invalidArgument(op, `distribution must be 'uniform' or 'normal', got ${formatValue(distribution)}`);
    const finite = (name: string, value: unknown, fallback: number): number => {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw outOfRange(op, `${name} must be a finite number, got ${formatValue(value)}`);
      return value;
    };
    const seed = finite('seed', options.seed, Date.now());
    let next: (i: number) => number;
    const rng = new Xoshiro128(seed);
    if (distribution === 'normal') {
      const mean = finite('mean', options.mean, 0), std = finite('std', options.std, 1);
      if (std < 0) throw outOfRange(op, `std must be ≥ 0, got ${std}`);
      let second = 0;
      next = (i) => {
        if (i % 2 === 1) return second;
        // Box–Muller: two normals per pair of uniforms (element order as before: cos, then sin).
        const u1 = 1 - rng.next(), u2 = rng.next();
        const r = Math.sqrt(-2 * Math.log(u1));
        second = mean + std * r * Math.sin(2 * Math.PI * u2);
        return mean + std * r * Math.cos(2 * Math.PI * u2);
      };
    } else {
      const low = finite('low', options.low, 0), high = finite('high', options.high, 1);
      if (low > high) throw outOfRange(op, `low ${low} is greater than high ${high}`);
      next = () => low + (high - low) * rng.next();
    }
    // The pool is asked first (typed ERR_BITNET_OUT_OF_MEMORY for huge shapes); values are written straight into it.
    return BitNetTensor.generate(dims, options, op, next);
  }

  /** A tensor of `shape` whose element i (row-major) is `value(i)`, encoded as the dtype (called in order). */
  private static generate(dims: number[], options: TensorOptions, op: string, value: (i: number) => number): BitNetTensor {
    const type = toDType(options.dtype, BitNetDType.F32, op);
    if (type.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, op, `${type.name} tensors are made by the quantization functions, not from numbers`);
    const t = BitNetTensor.empty(dims, { dtype: type, device: options.device, pool: options.pool });
    try {
      const target = t.rawElements(op);
      const n = t.numel, name = type.name;
      if (name === 'F32') for (let i = 0; i < n; i++) target[i] = value(i);
      else for (let i = 0; i < n; i++) target[i] = encodeNumber(value(i), name, op);
    } catch (error) {
      t.dispose();
      throw error;
    }
    return t;
  }

  /**
   * From nested arrays, a flat array or a typed array. `shape` defaults to the
   * nesting (or [length] for flat data); dtype defaults to F32 (Bool for booleans).
   */
  static fromArray(data: NestedArray[] | ArrayLike<number> | ElementArray | Float64Array, shape?: Shape, dtype?: DTypeLike, device?: string, pool?: TensorMemoryPool): BitNetTensor {
    let flat: ArrayLike<number>;
    let inferred: number[];
    let isBool = false;
    if (ArrayBuffer.isView(data)) {
      // BigInt arrays and DataViews hold no numbers to convert.
      if (!numberArrayTags.has(Object.prototype.toString.call(data).slice(8, -1)))
        throw invalidArgument('fromArray', `data must hold numbers (an Array or a numeric typed array), got ${formatValue(data)}`);
      flat = data as unknown as ArrayLike<number>;
      inferred = [flat.length];
    } else if (Array.isArray(data)) {
      const result = flattenNested(data as NestedArray[]);
      flat = result.values;
      inferred = result.shape;
      isBool = result.isBool;
    } else {
      throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'fromArray', `data must be an array or typed array, got ${formatValue(data)}`);
    }
    const dims = shape ? checkShape(shape, 'fromArray') : inferred;
    if (numelOf(dims) !== flat.length)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'fromArray', `${flat.length} values do not fill shape ${formatShape(dims)} (${numelOf(dims)} elements)`);
    const type = toDType(dtype, isBool ? BitNetDType.Bool : BitNetDType.F32, 'fromArray');
    if (type.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, 'fromArray', `${type.name} tensors are made by the quantization functions, not from numbers`);
    const t = BitNetTensor.empty(dims, { dtype: type, device, pool });
    try {
      writeNumbers(t.rawElements('fromArray'), flat, type, 'fromArray');
    } catch (error) {
      t.dispose();
      throw error;
    }
    return t;
  }

  /**
   * A tensor whose bytes are a copy of `bytes` (little-endian element data): an
   * ArrayBuffer or any ArrayBufferView (typed array, DataView, Buffer), whose
   * bytes are taken as they are, whatever its element type.
   */
  static fromBytes(bytes: ArrayBufferView | ArrayBufferLike, shape: Shape, dtype: DTypeLike, options: { device?: string; pool?: TensorMemoryPool } = {}): BitNetTensor {
    const source = asByteView(bytes, 'fromBytes');
    const type = toDType(dtype, BitNetDType.F32, 'fromBytes');
    const dims = checkShape(shape, 'fromBytes');
    const needed = type.byteLength(numelOf(dims));
    if (source.byteLength !== needed)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'fromBytes', `${source.byteLength} bytes given for shape ${formatShape(dims)} of ${type.name} (${needed} bytes)`);
    const t = BitNetTensor.empty(dims, { dtype: type, ...options });
    t.rawBytes('fromBytes').set(source);
    return t;
  }

  // ---- properties ----

  get metadata(): TensorMetadata { this.check('metadata'); return this.#meta; }
  get shape(): readonly number[] { return this.#meta.shape; }
  get strides(): readonly number[] { return this.#meta.strides; }
  get offset(): number { return this.#meta.offset; }
  get dtype(): BitNetDType { return this.#meta.dtype; }
  get device(): string { return this.#meta.device; }
  get ndim(): number { return this.#meta.shape.length; }
  get numel(): number { return this.#meta.numel; }
  get size(): number { return this.#meta.numel; }
  get byteSize(): number { return this.#meta.byteSize; }
  get isContiguous(): boolean { return this.#meta.isContiguous; }
  get isDisposed(): boolean { return this.#disposed; }
  /** The shared storage (for backends). */
  get storage(): Storage { this.check('storage'); return this.#storage; }
  get pool(): TensorMemoryPool { return this.#storage.pool; }

  private check(op: string): void {
    if (this.#disposed) throw new DisposedError(op, 'tensor');
  }

  /** Element data of the whole storage as the dtype's typed array (element 0 = storage start). */
  rawElements(op = 'rawElements'): ElementArray {
    this.check(op);
    const { buffer, byteOffset } = this.#storage.region(op);
    const dtype = this.#meta.dtype;
    if (dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, op, `${dtype.name} has no per-element array; use rawBytes()`);
    return typedArrayFor(dtype, buffer, byteOffset, this.#storage.byteLength / dtype.byteSize);
  }

  /** The storage's bytes. */
  rawBytes(op = 'rawBytes'): Uint8Array {
    this.check(op);
    const { buffer, byteOffset } = this.#storage.region(op);
    return new Uint8Array(buffer, byteOffset, this.#storage.byteLength);
  }

  /**
   * Where the view's element 0 lives: buffer and absolute byte offset, for native calls.
   * A view with no elements gets the storage start (its offset may lie past the end,
   * e.g. zeros([2, 0]).select(0, 1), and no byte of it is ever read). Packed dtypes
   * (TQ2_0, TQ1_0, I2) are stored in whole blocks, so only contiguous views that start
   * on a block have a byte location; others are refused rather than read wrong.
   */
  location(op: string): { buffer: ArrayBuffer; byteOffset: number } {
    this.check(op);
    const { buffer, byteOffset } = this.#storage.region(op);
    const meta = this.#meta, dtype = meta.dtype;
    if (meta.numel === 0) return { buffer, byteOffset };
    if (!dtype.isQuantized) return { buffer, byteOffset: byteOffset + meta.offset * dtype.byteSize };
    if (!meta.isContiguous)
      throw new BitNetTypeError(ErrorCode.DTYPE, op, `a strided ${dtype.name} view (shape ${formatShape(meta.shape)}, strides ${formatShape(meta.strides)}) has no byte layout; packed dtypes only support contiguous views`);
    if (meta.offset % dtype.blockSize !== 0 || meta.numel % dtype.blockSize !== 0)
      throw new BitNetTypeError(ErrorCode.DTYPE, op, `a ${dtype.name} view of shape ${formatShape(meta.shape)} at element ${meta.offset} does not cover whole blocks of ${dtype.blockSize} elements; packed dtypes only support views of whole blocks`);
    return { buffer, byteOffset: byteOffset + (meta.offset / dtype.blockSize) * dtype.blockBytes };
  }

  // ---- reading ----

  /** A contiguous copy of the elements as the dtype's typed array (F16/BF16 as raw Uint16 bits). */
  toTypedArray(): ElementArray {
    this.check('toTypedArray');
    if (this.#meta.dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, 'toTypedArray', `${this.#meta.dtype.name} has no per-element array; dequantize first`);
    const source = this.isContiguous ? this : this.contiguous();
    try {
      const all = source.rawElements('toTypedArray');
      return all.slice(source.offset, source.offset + source.numel) as ElementArray;
    } finally {
      if (source !== this) source.dispose();
    }
  }

  /** Elements as plain numbers in row-major order (F16/BF16 decoded). */
  toFlatArray(): number[] {
    const typed = this.toTypedArray();
    const name = this.#meta.dtype.name;
    const out = new Array<number>(typed.length);
    for (let i = 0; i < typed.length; i++) out[i] = name === 'F16' ? f16ToNumber(typed[i]!) : name === 'BF16' ? bf16ToNumber(typed[i]!) : typed[i]!;
    return out;
  }

  /** Nested arrays of numbers (Bool as booleans); a 0-d tensor gives its number. */
  toArray(): NestedArray {
    const flat = this.toFlatArray();
    const bool = this.#meta.dtype === BitNetDType.Bool;
    const shape = this.#meta.shape;
    let index = 0;
    const build = (axis: number): NestedArray => {
      if (axis === shape.length) {
        const v = flat[index++]!;
        return bool ? v !== 0 : v;
      }
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[axis]!; i++) out.push(build(axis + 1));
      return out;
    };
    return build(0);
  }

  /** The single element of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'item', `item() needs exactly one element, the tensor has shape ${formatShape(this.shape)}`);
    return this.toFlatArray()[0]!;
  }

  // ---- views ----

  private view_(meta: TensorMetadata, op: string): BitNetTensor {
    this.check(op);
    return new BitNetTensor(this.#storage.retain(op), meta);
  }

  /** A view with a new shape (one axis may be -1); throws when the strides cannot express it. */
  view(shape: Shape): BitNetTensor {
    const dims = this.resolveShape(shape, 'view');
    const strides = viewStrides(this.shape, this.strides, dims);
    if (!strides)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'view', `a view of shape ${formatShape(this.shape)} with strides ${formatShape(this.strides)} cannot be reshaped to ${formatShape(dims)} without a copy; use reshape()`);
    return this.view_(this.#meta.with({ shape: dims, strides }), 'view');
  }

  /** Like view(), copying to a contiguous tensor first when the layout needs it. */
  reshape(shape: Shape): BitNetTensor {
    const dims = this.resolveShape(shape, 'reshape');
    const strides = viewStrides(this.shape, this.strides, dims);
    if (strides) return this.view_(this.#meta.with({ shape: dims, strides }), 'reshape');
    const copy = this.contiguous();
    try {
      return copy.view(dims);
    } finally {
      copy.dispose();
    }
  }

  private resolveShape(shape: Shape, op: string): number[] {
    this.check(op);
    if (!Array.isArray(shape)) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `shape must be an array, got ${formatValue(shape)}`);
    const dims = [...shape];
    const unknown = dims.indexOf(-1);
    if (unknown !== dims.lastIndexOf(-1)) throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `only one axis may be -1, got ${formatShape(dims)}`);
    for (const d of dims) if (!Number.isSafeInteger(d) || d < -1) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `shape ${formatShape(dims)} has an invalid size ${formatValue(d)}`);
    if (unknown >= 0) {
      const known = numelOf(dims.filter((_, i) => i !== unknown));
      if (known === 0 || this.numel % known !== 0)
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `cannot reshape ${formatShape(this.shape)} (${this.numel} elements) to ${formatShape(dims)}`);
      dims[unknown] = this.numel / known;
    }
    if (numelOf(dims) !== this.numel)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `cannot reshape ${formatShape(this.shape)} (${this.numel} elements) to ${formatShape(dims)} (${numelOf(dims)} elements)`);
    return dims;
  }

  permute(dims: readonly number[]): BitNetTensor {
    this.check('permute');
    if (!Array.isArray(dims) || dims.length !== this.ndim)
      throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, 'permute', `permutation ${formatValue(dims)} must list each of the ${this.ndim} axes of shape ${formatShape(this.shape)} once`);
    const axes = dims.map((d) => normalizeAxis(d, this.ndim, 'permute'));
    if (new Set(axes).size !== axes.length)
      throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, 'permute', `permutation ${formatValue(dims)} repeats an axis`);
    return this.view_(this.#meta.with({ shape: axes.map((a) => this.shape[a]!), strides: axes.map((a) => this.strides[a]!) }), 'permute');
  }

  transpose(dim0 = -2, dim1 = -1): BitNetTensor {
    this.check('transpose');
    if (this.ndim < 2 && arguments.length === 0) return this.view_(this.#meta, 'transpose');
    const a = normalizeAxis(dim0, this.ndim, 'transpose'), b = normalizeAxis(dim1, this.ndim, 'transpose');
    const order = [...Array(this.ndim).keys()];
    order[a] = b;
    order[b] = a;
    return this.permute(order);
  }

  /** Matrix transpose of the last two axes. */
  get T(): BitNetTensor { return this.transpose(-2, -1); }

  /**
   * numpy-style basic slicing: one spec per leading axis; a number selects (and
   * drops) an index, [start, end, step] takes a range (negative values count
   * from the end, step may be negative), null keeps the axis whole.
   */
  slice(...specs: SliceSpec[]): BitNetTensor {
    this.check('slice');
    if (specs.length > this.ndim)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'slice', `${specs.length} slice specs for a tensor of shape ${formatShape(this.shape)}`);
    const shape: number[] = [], strides: number[] = [];
    let offset = this.offset;
    for (let d = 0; d < this.ndim; d++) {
      const size = this.shape[d]!, stride = this.strides[d]!;
      const spec = specs[d];
      if (typeof spec === 'number') {
        if (!Number.isInteger(spec) || spec < -size || spec >= size)
          throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'slice', `index ${spec} is out of range for axis ${d} of size ${size}`);
        offset += (spec < 0 ? spec + size : spec) * stride;
        continue;
      }
      if (spec === null || spec === undefined) {
        shape.push(size);
        strides.push(stride);
        continue;
      }
      if (!Array.isArray(spec))
        throw invalidArgument('slice', `spec ${d} must be an index, null or [start, end, step], got ${formatValue(spec)}`);
      const [startArg, endArg, stepArg] = spec as readonly [number | null | undefined, number | null | undefined, number | undefined];
      const step = stepArg ?? 1;
      if (!Number.isInteger(step) || step === 0)
        throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'slice', `step must be a non-zero integer, got ${formatValue(stepArg)} for axis ${d}`);
      const [start, count] = sliceRange(startArg ?? null, endArg ?? null, step, size, d);
      offset += start * stride;
      shape.push(count);
      strides.push(stride * step);
    }
    return this.view_(this.#meta.with({ shape, strides, offset }), 'slice');
  }

  /** length elements of axis dim from start (torch.narrow). */
  narrow(dim: number, start: number, length: number): BitNetTensor {
    this.check('narrow');
    const axis = normalizeAxis(dim, this.ndim, 'narrow');
    const size = this.shape[axis]!;
    const begin = start < 0 ? start + size : start;
    if (!Number.isInteger(begin) || !Number.isInteger(length) || begin < 0 || length < 0 || begin + length > size)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'narrow', `start ${start} and length ${length} do not fit axis ${axis} of size ${size} (shape ${formatShape(this.shape)})`);
    const shape = [...this.shape];
    shape[axis] = length;
    return this.view_(this.#meta.with({ shape, strides: this.strides, offset: this.offset + begin * this.strides[axis]! }), 'narrow');
  }

  /** The slice at `index` of axis dim, with that axis removed. */
  select(dim: number, index: number): BitNetTensor {
    this.check('select');
    const axis = normalizeAxis(dim, this.ndim, 'select');
    const size = this.shape[axis]!;
    if (!Number.isInteger(index) || index < -size || index >= size)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'select', `index ${index} is out of range for axis ${axis} of size ${size} (shape ${formatShape(this.shape)})`);
    const i = index < 0 ? index + size : index;
    return this.view_(this.#meta.with({
      shape: this.shape.filter((_, d) => d !== axis),
      strides: this.strides.filter((_, d) => d !== axis),
      offset: this.offset + i * this.strides[axis]!,
    }), 'select');
  }

  /** Removes axes of size 1 (all, or the given one, which must have size 1). */
  squeeze(dim?: number): BitNetTensor {
    this.check('squeeze');
    let keep: number[];
    if (dim === undefined) {
      keep = [...this.shape.keys()].filter((d) => this.shape[d] !== 1);
    } else {
      const axis = normalizeAxis(dim, this.ndim, 'squeeze');
      if (this.shape[axis] !== 1)
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'squeeze', `axis ${axis} of shape ${formatShape(this.shape)} has size ${this.shape[axis]}, not 1`);
      keep = [...this.shape.keys()].filter((d) => d !== axis);
    }
    return this.view_(this.#meta.with({ shape: keep.map((d) => this.shape[d]!), strides: keep.map((d) => this.strides[d]!) }), 'squeeze');
  }

  unsqueeze(dim: number): BitNetTensor {
    this.check('unsqueeze');
    const axis = normalizeAxis(dim, this.ndim, 'unsqueeze', 1);
    const shape = [...this.shape], strides = [...this.strides];
    const stride = axis < this.ndim ? this.strides[axis]! * this.shape[axis]! : 1;
    shape.splice(axis, 0, 1);
    strides.splice(axis, 0, stride);
    return this.view_(this.#meta.with({ shape, strides }), 'unsqueeze');
  }

  /** Broadcasts to `shape` without copying (size-1 axes get stride 0; -1 keeps a size). */
  expand(shape: Shape): BitNetTensor {
    this.check('expand');
    if (!Array.isArray(shape)) throw invalidArgument('expand', `shape must be an array, got ${formatValue(shape)}`);
    const target = [...shape];
    if (target.length < this.ndim)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'expand', `cannot expand shape ${formatShape(this.shape)} to fewer axes ${formatShape(target)}`);
    const lead = target.length - this.ndim;
    const strides = new Array<number>(target.length);
    for (let d = 0; d < target.length; d++) {
      const src = d - lead;
      const have = src >= 0 ? this.shape[src]! : 1;
      if (target[d] === -1) {
        if (src < 0) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'expand', `-1 is not allowed for the new leading axis ${d} in ${formatShape(target)}`);
        target[d] = have;
      }
      if (!Number.isSafeInteger(target[d]) || target[d]! < 0)
        throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'expand', `shape ${formatShape(shape)} has an invalid size`);
      if (have === target[d]) strides[d] = src >= 0 ? this.strides[src]! : 0;
      else if (have === 1) strides[d] = 0;
      else
        throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'expand', `cannot broadcast shape ${formatShape(this.shape)} to ${formatShape(shape)}: axis ${d} has ${have}, not 1 or ${target[d]}`);
    }
    return this.view_(this.#meta.with({ shape: target, strides }), 'expand');
  }

  broadcastTo(shape: Shape): BitNetTensor {
    return this.expand(shape);
  }

  /** Merges axes startDim..endDim into one (a view when possible, else a copy). */
  flatten(startDim = 0, endDim = -1): BitNetTensor {
    this.check('flatten');
    if (this.ndim === 0) return this.reshape([1]);
    const s = normalizeAxis(startDim, this.ndim, 'flatten'), e = normalizeAxis(endDim, this.ndim, 'flatten');
    if (s > e) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'flatten', `startDim ${startDim} comes after endDim ${endDim}`);
    const shape = [...this.shape.slice(0, s), numelOf(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(shape);
  }

  /** This tensor if already contiguous (as a new reference), else a contiguous copy. */
  contiguous(): BitNetTensor {
    this.check('contiguous');
    if (this.isContiguous) return this.view_(this.#meta.with({ strides: contiguousStrides(this.shape) }), 'contiguous');
    return ops.backendFor([this], 'contiguous').copy(this);
  }

  /** A contiguous copy that owns new storage. */
  clone(): BitNetTensor {
    this.check('clone');
    return ops.backendFor([this], 'clone').copy(this);
  }

  /** Converts to another dtype (a new tensor; same dtype gives a copy). */
  to(dtype: DTypeLike): BitNetTensor {
    return ops.cast(this, toDType(dtype, this.dtype, 'to'));
  }

  // ---- ops (see ops.ts for semantics) ----

  add(other: BitNetTensor | number): BitNetTensor { return ops.add(this, other); }
  sub(other: BitNetTensor | number): BitNetTensor { return ops.sub(this, other); }
  mul(other: BitNetTensor | number): BitNetTensor { return ops.mul(this, other); }
  div(other: BitNetTensor | number): BitNetTensor { return ops.div(this, other); }
  pow(other: BitNetTensor | number): BitNetTensor { return ops.pow(this, other); }
  maximum(other: BitNetTensor | number): BitNetTensor { return ops.maximum(this, other); }
  minimum(other: BitNetTensor | number): BitNetTensor { return ops.minimum(this, other); }
  eq(other: BitNetTensor | number): BitNetTensor { return ops.eq(this, other); }
  ne(other: BitNetTensor | number): BitNetTensor { return ops.ne(this, other); }
  lt(other: BitNetTensor | number): BitNetTensor { return ops.lt(this, other); }
  le(other: BitNetTensor | number): BitNetTensor { return ops.le(this, other); }
  gt(other: BitNetTensor | number): BitNetTensor { return ops.gt(this, other); }
  ge(other: BitNetTensor | number): BitNetTensor { return ops.ge(this, other); }
  neg(): BitNetTensor { return ops.neg(this); }
  abs(): BitNetTensor { return ops.abs(this); }
  sqrt(): BitNetTensor { return ops.sqrt(this); }
  rsqrt(): BitNetTensor { return ops.rsqrt(this); }
  exp(): BitNetTensor { return ops.exp(this); }
  log(): BitNetTensor { return ops.log(this); }
  relu(): BitNetTensor { return ops.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): BitNetTensor { return ops.gelu(this, approximate); }
  silu(): BitNetTensor { return ops.silu(this); }
  sigmoid(): BitNetTensor { return ops.sigmoid(this); }
  tanh(): BitNetTensor { return ops.tanh(this); }
  clamp(min: number, max: number): BitNetTensor { return ops.clamp(this, min, max); }
  sum(axes?: number | readonly number[], keepDims = false): BitNetTensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): BitNetTensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims = false): BitNetTensor { return ops.max(this, axes, keepDims); }
  min(axes?: number | readonly number[], keepDims = false): BitNetTensor { return ops.min(this, axes, keepDims); }
  var(axes?: number | readonly number[], keepDims = false, correction = 0): BitNetTensor { return ops.variance(this, axes, keepDims, correction); }
  argmax(axis?: number, keepDims = false): BitNetTensor { return ops.argmax(this, axis, keepDims); }
  argmin(axis?: number, keepDims = false): BitNetTensor { return ops.argmin(this, axis, keepDims); }
  softmax(axis = -1): BitNetTensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): BitNetTensor { return ops.logSoftmax(this, axis); }
  matmul(other: BitNetTensor): BitNetTensor { return ops.matmul(this, other); }

  // ---- lifetime ----

  /** Releases this tensor's reference to its storage; idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `BitNetTensor(shape=${formatShape(this.shape)}, dtype=${this.dtype.name}, device=${this.device}${this.#disposed ? ', disposed' : ''})`;
  }
}

// ---- helpers ----

function sliceRange(start: number | null, end: number | null, step: number, size: number, axis: number): [number, number] {
  const norm = (v: number, name: string): number => {
    if (!Number.isInteger(v)) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'slice', `${name} ${formatValue(v)} of axis ${axis} must be an integer`);
    return v < 0 ? v + size : v;
  };
  // Python semantics: out-of-range bounds clamp.
  if (step > 0) {
    const s = start === null ? 0 : Math.min(Math.max(norm(start, 'start'), 0), size);
    const e = end === null ? size : Math.min(Math.max(norm(end, 'end'), 0), size);
    return [s, Math.max(0, Math.ceil((e - s) / step))];
  }
  const s = start === null ? size - 1 : Math.min(Math.max(norm(start, 'start'), -1), size - 1);
  const e = end === null ? -1 : Math.min(Math.max(norm(end, 'end'), -1), size - 1);
  const count = Math.max(0, Math.ceil((s - e) / -step));
  return [count === 0 ? 0 : s, count];
}

/** Strides for viewing (shape, strides) as newShape without a copy, or null (torch's computeStride). */
function viewStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  const out = new Array<number>(newShape.length);
  if (numelOf(shape) === 0) return contiguousStrides(newShape);
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1] ?? 1;
  let tensorNumel = 1, viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d]!;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) {
    // Remaining leading size-1 axes.
    while (viewD >= 0) {
      if (newShape[viewD] !== 1) return null;
      out[viewD] = 1;
      viewD--;
    }
  }
  return out;
}

function flattenNested(data: NestedArray[]): { values: number[]; shape: number[]; isBool: boolean } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0] as NestedArray;
    if (probe === undefined) break;
  }
  const values: number[] = [];
  let isBool = false;
  const walk = (node: NestedArray, axis: number): void => {
    if (axis === shape.length) {
      if (typeof node === 'boolean') {
        isBool = true;
        values.push(node ? 1 : 0);
      } else if (typeof node === 'number') {
        values.push(node);
      } else {
        throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'fromArray', `nested data is ragged or has a non-number ${formatValue(node)} at depth ${axis}`);
      }
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[axis])
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'fromArray', `nested data is ragged: expected ${shape[axis]} items at depth ${axis}, got ${Array.isArray(node) ? node.length : formatValue(node)}`);
    for (const child of node) walk(child, axis + 1);
  };
  walk(data, 0);
  return { values, shape, isBool };
}

function encodeScalar(value: number, dtype: BitNetDType, op: string): number {
  return encodeNumber(value, dtype.name, op);
}

/** Tags of the typed arrays whose elements are JS numbers (not BigInt64Array/BigUint64Array, not DataView). */
const numberArrayTags = new Set(['Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'Float16Array']);

/** Integer dtypes whose storage array holds the values as they are (a same-class typed array needs no encoding). */
const directIntegerTypes = new Set(['I8', 'I16', 'I32', 'U8']);

function writeNumbers(target: ElementArray, values: ArrayLike<number>, dtype: BitNetDType, op: string): void {
  const name = dtype.name;
  // F16/BF16 (Uint16Array storage) and Bool (Uint8Array storage) must always be encoded:
  // a Uint16Array of 1s is the number 1, not the bits 0x0001, and Bool stores 0/1 only.
  if (name === 'F32' || (directIntegerTypes.has(name) && ArrayBuffer.isView(values) && values.constructor === target.constructor)) {
    (target as Float32Array).set(values as ArrayLike<number>);
    return;
  }
  for (let i = 0; i < values.length; i++) target[i] = encodeNumber(values[i]!, name, op);
}

/** The bytes of an ArrayBuffer or ArrayBufferView, as a Uint8Array over the same memory. */
function asByteView(bytes: unknown, op: string): Uint8Array {
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = Object.prototype.toString.call(bytes);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(bytes as ArrayBufferLike);
  throw invalidArgument(op, `bytes must be an ArrayBuffer or an ArrayBufferView (Uint8Array, Buffer, …), got ${formatValue(bytes)}`);
}

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32. */
class Xoshiro128 {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    let x = (seed >>> 0) ^ Math.floor(seed / 4294967296);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    const s = this.s;
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0, n3 = (s3 ^ s1) >>> 0;
    s[1] = (s1 ^ n2) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
