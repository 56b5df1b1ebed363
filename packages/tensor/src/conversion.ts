import { BitNetRangeError, BitNetTypeError, DisposedError, ErrorCode, formatValue, invalidArgument, optionsObject } from '@bitnet/errors';
import { BitNetDType, type DTypeLike, toDType } from './dtype.js';
import { backendFor, cast } from './ops.js';
import { getDefaultTensorPool } from './pool.js';
import type { TensorMemoryPool } from './storage.js';
import { BitNetTensor } from './tensor.js';

export interface ConversionConfigOptions {
  /** Elements converted per chunk by streamingConvert / inPlaceConvert (default 1 Mi). */
  chunkElements?: number;
  /** convert() converts in place when the source is exclusively owned and the target fits. */
  preferInPlace?: boolean;
  /** Refuse conversions that lose range or precision (F32 → F16/BF16/I8, F16 ↔ BF16). */
  rejectLossy?: boolean;
}

/** How a ConversionEngine trades memory, speed and precision. */
export class ConversionConfig {
  readonly chunkElements: number;
  readonly preferInPlace: boolean;
  readonly rejectLossy: boolean;

  constructor(options?: ConversionConfigOptions | null) {
    const { chunkElements: chunk = 1 << 20, preferInPlace = false, rejectLossy = false } = optionsObject('ConversionConfig', options);
    if (!Number.isSafeInteger(chunk) || chunk < 1)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'ConversionConfig', `chunkElements must be a positive integer, got ${formatValue(chunk)}`);
    for (const [name, value] of [['preferInPlace', preferInPlace], ['rejectLossy', rejectLossy]] as const)
      if (typeof value !== 'boolean') throw invalidArgument('ConversionConfig', `${name} must be a boolean, got ${formatValue(value)}`);
    this.chunkElements = chunk;
    this.preferInPlace = preferInPlace;
    this.rejectLossy = rejectLossy;
  }

  /** Large chunks, new buffers (no in-place juggling). */
  static highPerformance(): ConversionConfig {
    return new ConversionConfig({ chunkElements: 1 << 22, preferInPlace: false });
  }
  /** Small chunks and in-place narrowing where possible. */
  static lowMemory(): ConversionConfig {
    return new ConversionConfig({ chunkElements: 1 << 16, preferInPlace: true });
  }
  /** Refuses lossy conversions instead of rounding. */
  static highPrecision(): ConversionConfig {
    return new ConversionConfig({ rejectLossy: true });
  }
}

export interface ConversionMetrics {
  conversions: number;
  zeroCopy: number;
  inPlace: number;
  streamed: number;
  elements: number;
  bytesIn: number;
  bytesOut: number;
  totalMs: number;
  /** Count per "FROM->TO". */
  byKind: Record<string, number>;
}

export interface I8Quantized {
  tensor: BitNetTensor;
  /** value ≈ int8 · scale */
  scale: number;
}

function lossy(from: BitNetDType, to: BitNetDType): boolean {
  if (from === to) return false;
  if (to === BitNetDType.F32) return from === BitNetDType.I32; // I32 beyond 2^24 rounds
  if (from.isFloat) return true; // float → narrower float or any integer
  const rank: Record<string, number> = { Bool: 1, U8: 8, I8: 8, I16: 16, I32: 32 };
  if (to.isFloat) return (rank[from.name] ?? 32) > (to === BitNetDType.F16 ? 11 : 8);
  if (from === BitNetDType.U8 && to === BitNetDType.I8) return true;
  return (rank[from.name] ?? 32) > (rank[to.name] ?? 0) || (to === BitNetDType.U8 && from !== BitNetDType.Bool);
}

/** A live BitNetTensor, or a typed error (instead of a TypeError reading `.dtype` of null). */
function checkTensorArgument(tensor: unknown, op: string, name = 'tensor'): asserts tensor is BitNetTensor {
  if (!(tensor instanceof BitNetTensor)) throw invalidArgument(op, `${name} must be a BitNetTensor, got ${formatValue(tensor)}`);
  if (tensor.isDisposed) throw new DisposedError(op, name);
}

/** Rounds half to even (the rule every conversion here uses). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Converts tensors between dtypes: F32 ↔ F16 ↔ BF16 (native, round-to-nearest-even,
 * NaN/Inf/subnormals exact), integers and Bool (saturating, truncating toward zero),
 * and F32 ↔ I8 with a scale. Records metrics of every conversion.
 */
export class ConversionEngine {
  readonly config: ConversionConfig;
  readonly pool: TensorMemoryPool;
  #metrics: ConversionMetrics = ConversionEngine.emptyMetrics();

  /** `config`: a ConversionConfig or its options (checked the same way); null/undefined for the defaults. */
  constructor(config?: ConversionConfig | ConversionConfigOptions | null, pool?: TensorMemoryPool) {
    this.config = config instanceof ConversionConfig ? config : new ConversionConfig(config);
    const candidate = pool as unknown as { allocate?: unknown; deallocate?: unknown } | null | undefined;
    if (candidate !== undefined && (candidate === null || typeof candidate !== 'object' || typeof candidate.allocate !== 'function' || typeof candidate.deallocate !== 'function'))
      throw invalidArgument('ConversionEngine', `pool must be a memory pool with allocate() and deallocate(), got ${formatValue(pool)}`);
    this.pool = pool ?? getDefaultTensorPool();
  }

  private static emptyMetrics(): ConversionMetrics {
    return { conversions: 0, zeroCopy: 0, inPlace: 0, streamed: 0, elements: 0, bytesIn: 0, bytesOut: 0, totalMs: 0, byKind: {} };
  }

  get metrics(): ConversionMetrics {
    return { ...this.#metrics, byKind: { ...this.#metrics.byKind } };
  }

  resetMetrics(): void {
    this.#metrics = ConversionEngine.emptyMetrics();
  }

  private record(from: BitNetDType, to: BitNetDType, count: number, started: number, kind?: 'zeroCopy' | 'inPlace' | 'streamed'): void {
    const m = this.#metrics;
    m.conversions++;
    if (kind) m[kind]++;
    m.elements += count;
    m.bytesIn += from.byteLength(count);
    m.bytesOut += to.byteLength(count);
    m.totalMs += performance.now() - started;
    const key = `${from.name}->${to.name}`;
    m.byKind[key] = (m.byKind[key] ?? 0) + 1;
  }

  private check(tensor: BitNetTensor, dtype: BitNetDType, op: string): void {
    checkTensorArgument(tensor, op);
    if (dtype.isQuantized || tensor.dtype.isQuantized)
      throw new BitNetTypeError(ErrorCode.DTYPE, op, `${tensor.dtype.name} → ${dtype.name}: packed quantized types go through the quantization functions`);
    if (this.config.rejectLossy && lossy(tensor.dtype, dtype))
      throw new BitNetTypeError(ErrorCode.DTYPE, op, `${tensor.dtype.name} → ${dtype.name} can lose precision or range, and this engine is configured with rejectLossy`);
  }

  /** A new tensor of `dtype` (in place instead when preferInPlace and possible). */
  convert(tensor: BitNetTensor, dtype: DTypeLike): BitNetTensor {
    checkTensorArgument(tensor, 'convert');
    const target = toDType(dtype, tensor.dtype, 'convert');
    this.check(tensor, target, 'convert');
    if (this.config.preferInPlace && this.inPlacePossible(tensor, target)) return this.inPlaceConvert(tensor, target);
    return this.convertCopy(tensor, target);
  }

  /** Always a new tensor (the input is left alone). */
  private convertCopy(tensor: BitNetTensor, target: BitNetDType): BitNetTensor {
    const started = performance.now();
    const out = cast(tensor, target);
    this.record(tensor.dtype, target, tensor.numel, started);
    return out;
  }

  /** True when the dtypes share a bit layout for every value the source can hold. */
  static isReinterpretable(from: BitNetDType, to: BitNetDType): boolean {
    return from === to || (from === BitNetDType.Bool && to === BitNetDType.U8);
  }

  /** A view of the same memory as `dtype` (same dtype, or Bool → U8); throws otherwise. */
  zeroCopyConvert(tensor: BitNetTensor, dtype: DTypeLike): BitNetTensor {
    checkTensorArgument(tensor, 'zeroCopyConvert');
    const target = toDType(dtype, tensor.dtype, 'zeroCopyConvert');
    this.check(tensor, target, 'zeroCopyConvert');
    if (!ConversionEngine.isReinterpretable(tensor.dtype, target))
      throw new BitNetTypeError(ErrorCode.DTYPE, 'zeroCopyConvert', `${tensor.dtype.name} → ${target.name} changes the bit layout; use convert()`);
    const started = performance.now();
    const view = new BitNetTensor(tensor.storage.retain('zeroCopyConvert'), tensor.metadata.with({ dtype: target }));
    this.record(tensor.dtype, target, tensor.numel, started, 'zeroCopy');
    return view;
  }

  /** In-place works for contiguous, exclusively owned tensors whose target element is not wider. */
  canConvertInPlace(tensor: BitNetTensor, dtype: DTypeLike): boolean {
    if (!(tensor instanceof BitNetTensor)) throw invalidArgument('canConvertInPlace', `tensor must be a BitNetTensor, got ${formatValue(tensor)}`);
    return this.inPlacePossible(tensor, toDType(dtype, tensor.dtype, 'canConvertInPlace'));
  }

  private inPlacePossible(tensor: BitNetTensor, dtype: BitNetDType): boolean {
    return (
      !tensor.isDisposed && tensor.isContiguous && tensor.offset === 0 && tensor.storage.referenceCount === 1 &&
      !dtype.isQuantized && !tensor.dtype.isQuantized && dtype.byteSize <= tensor.dtype.byteSize
    );
  }

  /**
   * Converts into the source's own memory and returns the new tensor; the source
   * tensor is consumed (disposed). Chunks go through a small scratch tensor, written
   * back in order so a narrower output never overtakes unread input. The scratch is
   * taken before the first byte is overwritten, so a failure leaves the source as it was.
   */
  inPlaceConvert(tensor: BitNetTensor, dtype: DTypeLike): BitNetTensor {
    checkTensorArgument(tensor, 'inPlaceConvert');
    const target = toDType(dtype, tensor.dtype, 'inPlaceConvert');
    this.check(tensor, target, 'inPlaceConvert');
    if (!this.inPlacePossible(tensor, target))
      throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, 'inPlaceConvert', `cannot convert in place: needs a contiguous tensor at offset 0 with no other views and a target no wider than the source (${tensor.dtype.name} → ${target.name}, contiguous ${tensor.isContiguous}, references ${tensor.storage.referenceCount})`);
    const scratch = this.inPlaceScratch([tensor], [target]);
    try {
      return this.convertInPlace(tensor, target, scratch);
    } finally {
      scratch.dispose();
    }
  }

  /**
   * Scratch for converting `tensors` in place: one tensor per target dtype, and an F32 one when a
   * conversion goes F16 ↔ BF16 (through float32), each as long as a chunk of the longest input.
   */
  private inPlaceScratch(tensors: readonly BitNetTensor[], targets: readonly BitNetDType[]): InPlaceScratch {
    const scratch = new InPlaceScratch();
    try {
      tensors.forEach((t, i) => {
        const target = targets[i]!;
        const length = Math.min(this.config.chunkElements, t.numel);
        if (target === t.dtype) return;
        scratch.reserve(target, length, t);
        if (t.dtype !== BitNetDType.F32 && t.dtype.isFloat && target.isFloat && target !== BitNetDType.F32) scratch.reserve(BitNetDType.F32, length, t);
      });
      scratch.allocate();
      return scratch;
    } catch (error) {
      scratch.dispose();
      throw error;
    }
  }

  /** The in-place conversion itself, on scratch taken beforehand: nothing here allocates pool memory. */
  private convertInPlace(tensor: BitNetTensor, target: BitNetDType, scratch: InPlaceScratch): BitNetTensor {
    const started = performance.now();
    const from = tensor.dtype;
    const count = tensor.numel;
    if (target !== from) {
      const bytes = tensor.rawBytes('inPlaceConvert');
      const outSize = target.byteSize;
      const chunk = this.config.chunkElements;
      const backend = backendFor([tensor], 'inPlaceConvert');
      const flat = tensor.view([count]);
      try {
        for (let start = 0; start < count; start += chunk) {
          const n = Math.min(chunk, count - start);
          const piece = flat.narrow(0, start, n);
          const out = scratch.take(target, n);
          const wide = from.isFloat && from !== BitNetDType.F32 && target.isFloat && target !== BitNetDType.F32 ? scratch.take(BitNetDType.F32, n) : null;
          try {
            if (wide) backend.cast(backend.cast(piece, BitNetDType.F32, wide), target, out);
            else backend.cast(piece, target, out);
            // Output bytes [start·out, (start+n)·out) only overlap input already read.
            bytes.set(out.rawBytes('inPlaceConvert').subarray(0, n * outSize), start * outSize);
          } finally {
            piece.dispose();
            out.dispose();
            wide?.dispose();
          }
        }
      } finally {
        flat.dispose();
      }
    }
    const result = new BitNetTensor(tensor.storage.retain('inPlaceConvert'), tensor.metadata.with({ dtype: target, strides: tensor.strides }));
    tensor.dispose();
    this.record(from, target, count, started, 'inPlace');
    return result;
  }

  /**
   * Converts chunk by chunk (chunkBytes of source data at a time), yielding to the
   * event loop between chunks; onProgress gets the fraction done.
   */
  async streamingConvert(tensor: BitNetTensor, dtype: DTypeLike, chunkBytes = 4 << 20, onProgress?: (done: number) => void): Promise<BitNetTensor> {
    checkTensorArgument(tensor, 'streamingConvert');
    const target = toDType(dtype, tensor.dtype, 'streamingConvert');
    this.check(tensor, target, 'streamingConvert');
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < tensor.dtype.byteSize)
      throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'streamingConvert', `chunkBytes must be an integer of at least one element (${tensor.dtype.byteSize} bytes), got ${formatValue(chunkBytes)}`);
    const started = performance.now();
    const count = tensor.numel;
    const out = BitNetTensor.empty(tensor.shape, { dtype: target, device: tensor.device, pool: this.pool });
    try {
      const source = tensor.reshape([count]);
      try {
        const chunk = Math.max(1, Math.floor(chunkBytes / tensor.dtype.byteSize));
        const outBytes = out.rawBytes('streamingConvert');
        for (let start = 0; start < count; start += chunk) {
          const n = Math.min(chunk, count - start);
          const piece = source.narrow(0, start, n);
          try {
            const converted = cast(piece, target);
            try {
              outBytes.set(converted.rawBytes('streamingConvert').subarray(0, n * target.byteSize), start * target.byteSize);
            } finally {
              converted.dispose();
            }
          } finally {
            piece.dispose();
          }
          onProgress?.((start + n) / count);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        source.dispose();
      }
    } catch (error) {
      out.dispose();
      throw error;
    }
    this.record(tensor.dtype, target, count, started, 'streamed');
    return out;
  }

  /**
   * Converts several tensors. Every input is checked before any is converted, and
   * in-place conversions (which consume their input) run last, after every copying
   * conversion has succeeded: a refused batch leaves all inputs as they were, and the
   * outputs made so far are disposed. A tensor listed twice is converted by copy.
   */
  batchConvert(tensors: readonly BitNetTensor[], dtype: DTypeLike): BitNetTensor[] {
    const op = 'batchConvert';
    if (!Array.isArray(tensors)) throw invalidArgument(op, `tensors must be an array of BitNetTensor, got ${formatValue(tensors)}`);
    const list = [...tensors];
    const targets = list.map((t, i) => {
      checkTensorArgument(t, op, `tensors[${i}]`);
      const target = toDType(dtype, t.dtype, op);
      this.check(t, target, op);
      return target;
    });
    const seen = new Map<BitNetTensor, number>();
    for (const t of list) seen.set(t, (seen.get(t) ?? 0) + 1);
    const inPlace = list.map((t, i) => this.config.preferInPlace && seen.get(t) === 1 && this.inPlacePossible(t, targets[i]!));
    const out: (BitNetTensor | undefined)[] = new Array(list.length);
    try {
      list.forEach((t, i) => {
        if (!inPlace[i]) out[i] = this.convertCopy(t, targets[i]!);
      });
      // In-place conversions consume their inputs, so nothing may fail once the first has run: their
      // scratch (their only allocation) is all taken now, before any input is touched.
      const inPlaceList = list.filter((_, i) => inPlace[i]);
      const scratch = this.inPlaceScratch(inPlaceList, targets.filter((_, i) => inPlace[i]));
      try {
        list.forEach((t, i) => {
          if (inPlace[i]) out[i] = this.convertInPlace(t, targets[i]!, scratch);
        });
      } finally {
        scratch.dispose();
      }
      return out as BitNetTensor[];
    } catch (error) {
      for (const t of out) t?.dispose();
      throw error;
    }
  }

  /**
   * F32/F16/BF16 → I8 with scale: q = clamp(roundHalfEven(x / scale), −127, 127).
   * Without a scale, scale = max|x| / 127 (1 for an all-zero tensor).
   */
  quantizeI8(tensor: BitNetTensor, options: { scale?: number } = {}): I8Quantized {
    this.check(tensor, BitNetDType.I8, 'quantizeI8');
    if (options === null || typeof options !== 'object') throw invalidArgument('quantizeI8', `options must be an object, got ${formatValue(options)}`);
    const started = performance.now();
    const values = tensor.toFlatArray();
    let scale = options.scale;
    if (scale === undefined) {
      let maxAbs = 0;
      for (const v of values) {
        if (!Number.isFinite(v)) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'quantizeI8', `cannot choose a scale for a tensor holding ${v}`);
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
      scale = maxAbs === 0 ? 1 : maxAbs / 127;
    }
    if (!Number.isFinite(scale) || scale <= 0) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'quantizeI8', `scale must be a positive finite number, got ${formatValue(scale)}`);
    const q = new Int8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      q[i] = Number.isNaN(v) ? 0 : Math.max(-127, Math.min(127, roundHalfEven(v / scale)));
    }
    const out = BitNetTensor.fromArray(q, tensor.shape, BitNetDType.I8, tensor.device, this.pool);
    this.record(tensor.dtype, BitNetDType.I8, values.length, started);
    return { tensor: out, scale };
  }

  /** I8 → F32 (or another float dtype): x = q · scale. */
  dequantizeI8(tensor: BitNetTensor, scale: number, dtype: DTypeLike = BitNetDType.F32): BitNetTensor {
    checkTensorArgument(tensor, 'dequantizeI8');
    const target = toDType(dtype, BitNetDType.F32, 'dequantizeI8');
    if (tensor.dtype !== BitNetDType.I8) throw new BitNetTypeError(ErrorCode.DTYPE, 'dequantizeI8', `expected an I8 tensor, got ${tensor.dtype.name}`);
    if (!Number.isFinite(scale) || scale <= 0) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'dequantizeI8', `scale must be a positive finite number, got ${formatValue(scale)}`);
    const started = performance.now();
    const values = tensor.toFlatArray();
    const out = BitNetTensor.fromArray(values.map((q) => q * scale), tensor.shape, target, tensor.device, this.pool);
    this.record(BitNetDType.I8, target, values.length, started);
    return out;
  }
}

/** Scratch tensors of in-place conversions, one per dtype, reserved first and allocated together. */
class InPlaceScratch {
  readonly #wanted = new Map<BitNetDType, { length: number; like: BitNetTensor }>();
  readonly #tensors = new Map<BitNetDType, BitNetTensor>();

  reserve(dtype: BitNetDType, length: number, like: BitNetTensor): void {
    const wanted = this.#wanted.get(dtype);
    if (!wanted || wanted.length < length) this.#wanted.set(dtype, { length, like });
  }

  allocate(): void {
    for (const [dtype, { length, like }] of this.#wanted) this.#tensors.set(dtype, BitNetTensor.empty([length], { dtype, device: like.device, pool: like.pool }));
  }

  /** A view of the first `length` elements (dispose it after use). */
  take(dtype: BitNetDType, length: number): BitNetTensor {
    return this.#tensors.get(dtype)!.narrow(0, 0, length);
  }

  dispose(): void {
    for (const t of this.#tensors.values()) t.dispose();
    this.#tensors.clear();
  }
}
