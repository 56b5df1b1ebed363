/**
 * BitLinear (BitNet b1.58): y = Q8(SubLN(x)) · Q1.58(W)ᵀ + b, with int8 absmax
 * activations per token, ternary absmean weights, exact int32 accumulation in
 * the native kernel, then `dot × weightScale × activationScale + bias` in float32.
 *
 * Training follows the BitNet reference (`x + (quant(x) − x).detach()`,
 * `w + (quant(w) − w).detach()`): the straight-through estimator. The layer
 * keeps latent float weights for training; the packed i2_r4 weights are what
 * the forward uses and are rebuilt only when the latent weights change.
 */
import path from 'node:path';
import { BitNetError, BitNetRangeError, BitNetTypeError, DisposedError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import {
  type PackedTernary,
  type TernaryTier,
  convertTernary as convertTernaryNative,
  dequantize158 as dequantize158Native,
  packTernary as packTernaryNative,
  packedTernaryBytes,
  quantize158 as quantize158Native,
  quantizeActivations as quantizeActivationsNative,
  ternaryMatmul,
  ternaryMatmulAsync,
  unpackTernary as unpackTernaryNative,
} from '@bitnet/native';
import { BitNetDType } from './dtype.js';
import { matmul, rmsNorm, sum } from './ops.js';
import { PackedTernaryTensor, checkInputTensor, float32View, type TernaryLayout } from './quantization.js';
import { deserializeSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, type UnsupportedSafetensorsEntry } from './safetensors.js';
import { formatShape, numelOf } from './shape.js';
import type { TensorMemoryPool } from './storage.js';
import { BitNetTensor } from './tensor.js';

export interface BitLinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Add a bias (default false, as BitNet). Initialised to zeros. */
  bias?: boolean;
  /** RMSNorm (SubLN) on the input before activation quantization (default false). */
  subLayerNorm?: boolean;
  /** RMSNorm epsilon (default 1e-5, BitNet b1.58's rms_norm_eps). */
  normEpsilon?: number;
  /**
   * Weight scale per 'tensor' (default, BitNet b1.58), per output 'row', or per
   * 'group' of `groupSize` input features in each row.
   */
  granularity?: BitLinearGranularity;
  /** Input features per scale with granularity 'group': a multiple of 256 (default 256, ggml's block). */
  groupSize?: number;
  /** Seed of the initial latent weights, uniform in ±1/√inFeatures (nn.Linear's bound). */
  seed?: number;
  pool?: TensorMemoryPool;
}

export type BitLinearGranularity = 'tensor' | 'row' | 'group';

export interface BitLinearForwardOptions {
  /** Native pool threads (default: all). */
  threads?: number;
  /** Kernel variant (default: the best this CPU runs; BITNET_CPU_ISA lowers it). */
  tier?: TernaryTier;
  /**
   * Write the result here (a contiguous F32 tensor of the output's shape) and
   * return it, instead of allocating a new tensor: saves the pool allocation
   * per call in a decode loop. Not allowed in training mode.
   */
  out?: BitNetTensor;
}

/** Gradients from `backward`; the caller owns (and disposes) the tensors. */
export interface BitLinearGradients extends Disposable {
  /** dL/dx, the input's shape. */
  input: BitNetTensor;
  /** dL/dW for the latent float weights [outFeatures, inFeatures] (straight-through). */
  weight: BitNetTensor;
  /** dL/db [outFeatures], when the layer has a bias. */
  bias: BitNetTensor | null;
  /** dL/dg [inFeatures] of the RMSNorm weight, when the layer has SubLN. */
  normWeight: BitNetTensor | null;
  dispose(): void;
}

export interface BitLinearSaveOptions {
  /**
   * Packed layout of the weights in the file: 'i2_r4' (default; float32 row
   * scales, loads to an identical forward) or ggml's 'tq2_0' / 'tq1_0' (scales
   * rounded to fp16 inside each block; needs inFeatures % 256 = 0).
   */
  layout?: TernaryLayout;
  /** Also store the latent float weights, to resume training (default false). */
  includeLatent?: boolean;
  /** Extra string metadata stored beside the layer's own. */
  metadata?: Record<string, string>;
}

/** Saved context of a training-mode forward, for backward. */
interface ForwardContext {
  /** Input as F32 [tokens, inFeatures] (a private copy). */
  input: BitNetTensor;
  /** SubLN output [tokens, inFeatures] fed to activation quantization, or null. */
  normalized: BitNetTensor | null;
  inputShape: number[];
  outputShape: number[];
  /** The packed weights this forward used (the generation of the weights). */
  generation: number;
}

/** Marks the internal constructor call that skips the random initialisation. */
const NO_INIT = Symbol('BitLinear.noInit');
const FORMAT = 'bitnet.bitlinear';

/** A forward's inputs, output and temporaries between the checks and the kernel call. */
interface Prepared {
  packed: PackedTernary;
  /** The weights' generation when the kernel was set up: a forwardAsync may see an sgdStep land before it finishes. */
  generation: number;
  tokens: number;
  inputShape: number[];
  outputShape: number[];
  input: { tensor: BitNetTensor; data: Float32Array };
  normalized: BitNetTensor | null;
  activations: { tensor: BitNetTensor; data: Float32Array };
  out: BitNetTensor;
  /** options.out, returned instead of `out` (our reference to it) when given. */
  given: BitNetTensor | null;
  /** Every tensor made for this call, `out` included; all but `out` are disposed at the end. */
  temps: BitNetTensor[];
  native: { bias: Float32Array | null; out: Float32Array; threads?: number; tier?: TernaryTier };
}
const FORMAT_VERSION = '1';

function checkFeatures(op: string, name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw outOfRange(op, `${name} must be a positive integer, got ${formatValue(value)}`);
  return value as number;
}

function checkFiniteArray(op: string, name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `${name}[${i}] is ${data[i]}; expected a finite number`);
}

/** A private float32 copy of a tensor's elements after checking its shape and values. */
function copyParameter(op: string, name: string, t: unknown, shape: readonly number[]): Float32Array {
  checkInputTensor(op, name, t);
  if (!t.dtype.isFloat) throw new BitNetTypeError(ErrorCode.DTYPE, op, `${name} must be a float tensor, got ${t.dtype.name}`);
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
  const view = float32View(op, t);
  try {
    checkFiniteArray(op, name, view.data);
    return Float32Array.from(view.data);
  } finally {
    view.tensor.dispose();
  }
}

/** A JS-heap Float32Array (a copy of `from`, or zeros), failing with a typed error when V8 cannot allocate it. */
function jsFloat32(op: string, length: number, from?: Float32Array): Float32Array {
  try {
    return from ? Float32Array.from(from) : new Float32Array(length);
  } catch (error) {
    throw new BitNetRangeError(ErrorCode.OUT_OF_MEMORY, op, `cannot allocate ${length} float32 values (${length * 4} bytes) of JS memory`, { cause: error });
  }
}

function f32Tensor(data: Float32Array, shape: readonly number[], pool?: TensorMemoryPool): BitNetTensor {
  const t = BitNetTensor.empty(shape, { pool });
  const at = t.location('BitLinear');
  new Float32Array(at.buffer, at.byteOffset, t.numel).set(data);
  return t;
}

function f32Data(t: BitNetTensor, op: string): Float32Array {
  const at = t.location(op);
  return new Float32Array(at.buffer, at.byteOffset, t.numel);
}

export class BitLinear implements Disposable {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly hasBias: boolean;
  readonly subLayerNorm: boolean;
  readonly normEpsilon: number;
  readonly granularity: BitLinearGranularity;
  /** Input features per weight scale with granularity 'group', else null. */
  readonly groupSize: number | null;
  /** When true, forward keeps what backward needs (like nn.Module.train()). */
  training = false;

  #pool: TensorMemoryPool | undefined;
  #packed: PackedTernary | null = null;
  /** Latent float weights [out, in] (training state), or null for a layer built from packed weights until it is trained. */
  #latent: Float32Array | null = null;
  #bias: Float32Array | null;
  #normWeight: BitNetTensor | null = null;
  #context: ForwardContext | null = null;
  #generation = 0;
  #disposed = false;

  /** A layer with random latent weights (see BitLinearOptions.seed), zero bias and unit RMSNorm weight. */
  constructor(options: BitLinearOptions, internal?: typeof NO_INIT) {
    const op = 'BitLinear';
    if (!options || typeof options !== 'object') throw invalidArgument(op, `options must be an object, got ${formatValue(options)}`);
    this.inFeatures = checkFeatures(op, 'inFeatures', options.inFeatures);
    this.outFeatures = checkFeatures(op, 'outFeatures', options.outFeatures);
    this.hasBias = options.bias ?? false;
    this.subLayerNorm = options.subLayerNorm ?? false;
    this.normEpsilon = options.normEpsilon ?? 1e-5;
    if (!(this.normEpsilon > 0) || !Number.isFinite(this.normEpsilon)) throw outOfRange(op, `normEpsilon must be a finite number > 0, got ${formatValue(options.normEpsilon)}`);
    this.granularity = options.granularity ?? 'tensor';
    if (this.granularity !== 'tensor' && this.granularity !== 'row' && this.granularity !== 'group')
      throw invalidArgument(op, `granularity must be 'tensor', 'row' or 'group', got ${formatValue(options.granularity)}`);
    this.groupSize = null;
    if (this.granularity === 'group') {
      const groupSize = options.groupSize ?? 256;
      // The kernels apply group scales per 256-column block (see packTernary).
      if (!Number.isSafeInteger(groupSize) || groupSize < 256 || groupSize % 256 !== 0)
        throw new BitNetRangeError(ErrorCode.UNSUPPORTED, op, `groupSize must be a positive multiple of 256 (the kernels' block), got ${formatValue(options.groupSize)}`);
      this.groupSize = groupSize;
    } else if (options.groupSize !== undefined) {
      throw invalidArgument(op, `groupSize is only for granularity 'group', got granularity '${this.granularity}'`);
    }
    if (typeof this.hasBias !== 'boolean' || typeof this.subLayerNorm !== 'boolean') throw invalidArgument(op, 'bias and subLayerNorm must be booleans');
    this.#pool = options.pool;
    this.#bias = this.hasBias ? jsFloat32(op, this.outFeatures) : null;
    if (internal === NO_INIT) return;
    const bound = 1 / Math.sqrt(this.inFeatures);
    // Pool memory first (a typed ERR_BITNET_OUT_OF_MEMORY for a huge layer), then the JS copy.
    const init = BitNetTensor.random([this.outFeatures, this.inFeatures], { seed: options.seed ?? Math.floor(Math.random() * 2 ** 32), low: -bound, high: bound, pool: this.#pool });
    try {
      this.#setLatent(jsFloat32(op, init.numel, f32Data(init, op)));
      if (this.subLayerNorm) this.#normWeight = BitNetTensor.ones([this.inFeatures], { pool: this.#pool });
    } catch (error) {
      this.#packed?.dispose();
      throw error;
    } finally {
      init.dispose();
    }
  }

  /**
   * A layer whose latent weights are `weight` [outFeatures, inFeatures] (any
   * float dtype), quantized with absmean. NaN/Inf weights or bias → typed error.
   */
  static fromFloatWeights(weight: BitNetTensor, bias?: BitNetTensor | null, options: Omit<BitLinearOptions, 'inFeatures' | 'outFeatures' | 'bias' | 'seed'> & { normWeight?: BitNetTensor } = {}): BitLinear {
    const op = 'BitLinear.fromFloatWeights';
    checkInputTensor(op, 'weight', weight);
    if (weight.ndim !== 2) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `weight must be 2-D [outFeatures, inFeatures], got ${formatShape(weight.shape)}`);
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    checkFeatures(op, 'outFeatures (weight.shape[0])', outFeatures);
    checkFeatures(op, 'inFeatures (weight.shape[1])', inFeatures);
    const latent = copyParameter(op, 'weight', weight, [outFeatures, inFeatures]);
    const biasData = bias === undefined || bias === null ? null : copyParameter(op, 'bias', bias, [outFeatures]);
    const normData = options.normWeight === undefined ? null : copyParameter(op, 'normWeight', options.normWeight, [inFeatures]);
    if (normData && options.subLayerNorm === false) throw invalidArgument(op, 'normWeight given but subLayerNorm is false');
    const layer = BitLinear.#blank({ ...options, inFeatures, outFeatures, bias: biasData !== null, subLayerNorm: options.subLayerNorm ?? normData !== null });
    try {
      layer.#setLatent(latent);
      if (biasData) layer.#bias = biasData;
      if (layer.subLayerNorm) layer.#normWeight = normData ? f32Tensor(normData, [inFeatures], layer.#pool) : BitNetTensor.ones([inFeatures], { pool: layer.#pool });
      return layer;
    } catch (error) {
      layer.dispose();
      throw error;
    }
  }

  /**
   * A layer from packed ternary weights [outFeatures, inFeatures] in any
   * layout (converted to i2_r4; the argument stays owned by the caller). It has
   * no latent weights until trained: the first `sgdStep` starts from the
   * dequantized weights.
   */
  static fromPacked(
    weight: PackedTernaryTensor,
    options: { bias?: BitNetTensor | null; normWeight?: BitNetTensor | null; subLayerNorm?: boolean; normEpsilon?: number; granularity?: BitLinearGranularity; groupSize?: number; pool?: TensorMemoryPool } = {},
  ): BitLinear {
    const op = 'BitLinear.fromPacked';
    if (!(weight instanceof PackedTernaryTensor)) throw invalidArgument(op, `weight must be a PackedTernaryTensor, got ${formatValue(weight)}`);
    if (weight.disposed) throw new DisposedError(op, 'weight');
    const { rows: outFeatures, columns: inFeatures } = weight;
    checkFeatures(op, 'outFeatures', outFeatures);
    checkFeatures(op, 'inFeatures', inFeatures);
    const biasData = options.bias === undefined || options.bias === null ? null : copyParameter(op, 'bias', options.bias, [outFeatures]);
    const normData = options.normWeight === undefined || options.normWeight === null ? null : copyParameter(op, 'normWeight', options.normWeight, [inFeatures]);
    if (normData && options.subLayerNorm === false) throw invalidArgument(op, 'normWeight given but subLayerNorm is false');
    // Group-scaled weights (ggml blocks whose scales differ in a row) keep their groups when the
    // layer is trained, unless the caller asks for another granularity.
    const converted = weight.convert('i2_r4');
    const grouped = options.granularity === undefined && converted.groupSize !== null;
    let layer: BitLinear;
    try {
      layer = BitLinear.#blank({
        inFeatures,
        outFeatures,
        bias: biasData !== null,
        subLayerNorm: options.subLayerNorm ?? normData !== null,
        normEpsilon: options.normEpsilon,
        granularity: grouped ? 'group' : options.granularity,
        groupSize: grouped ? (converted.groupSize as number) : options.groupSize,
        pool: options.pool,
      });
    } catch (error) {
      converted.dispose();
      throw error;
    }
    try {
      layer.#packed = converted.packed;
      if (biasData) layer.#bias = biasData;
      if (layer.subLayerNorm) layer.#normWeight = normData ? f32Tensor(normData, [inFeatures], layer.#pool) : BitNetTensor.ones([inFeatures], { pool: layer.#pool });
      return layer;
    } catch (error) {
      layer.dispose();
      throw error;
    }
  }

  /** A layer with checked options and no weights yet (the caller fills them). */
  static #blank(options: BitLinearOptions): BitLinear {
    return new BitLinear(options, NO_INIT);
  }

  // ---- state ----

  get disposed(): boolean { return this.#disposed; }

  #check(op: string): PackedTernary {
    if (this.#disposed || !this.#packed) throw new DisposedError(op, 'this BitLinear');
    return this.#packed;
  }

  /** Quantizes latent weights, packs them, and swaps them in only when both succeed. */
  #setLatent(latent: Float32Array): void {
    const ternary = quantize158Native(latent, this.outFeatures, this.inFeatures, { granularity: this.granularity, ...(this.groupSize !== null ? { groupSize: this.groupSize } : {}) });
    const packed = packTernaryNative(ternary, 'i2_r4');
    this.#packed?.dispose();
    this.#packed = packed;
    this.#latent = latent;
    this.#generation++;
    this.#dropContext();
  }

  #dropContext(): void {
    if (!this.#context) return;
    this.#context.input.dispose();
    this.#context.normalized?.dispose();
    this.#context = null;
  }

  /** The packed weights in a layout (a new object the caller owns; default i2_r4). */
  packedWeight(layout: TernaryLayout = 'i2_r4'): PackedTernaryTensor {
    return new PackedTernaryTensor(convertTernaryNative(this.#check('BitLinear.packedWeight'), layout));
  }

  /** `value × scale`, the weights the forward uses, F32 [outFeatures, inFeatures]. */
  dequantizedWeight(): BitNetTensor {
    return f32Tensor(dequantize158Native(unpackTernaryNative(this.#check('BitLinear.dequantizedWeight'))), [this.outFeatures, this.inFeatures], this.#pool);
  }

  /** A copy of the latent float weights, or null when the layer was built from packed weights and not trained. */
  latentWeight(): BitNetTensor | null {
    this.#check('BitLinear.latentWeight');
    return this.#latent ? f32Tensor(this.#latent, [this.outFeatures, this.inFeatures], this.#pool) : null;
  }

  /** Replaces the latent weights (requantized and repacked); a failure leaves the layer as it was. */
  setLatentWeight(weight: BitNetTensor): void {
    const op = 'BitLinear.setLatentWeight';
    this.#check(op);
    this.#setLatent(copyParameter(op, 'weight', weight, [this.outFeatures, this.inFeatures]));
  }

  /** A copy of the bias [outFeatures], or null. */
  bias(): BitNetTensor | null {
    this.#check('BitLinear.bias');
    return this.#bias ? f32Tensor(this.#bias, [this.outFeatures], this.#pool) : null;
  }

  /** A copy of the RMSNorm weight [inFeatures], or null. */
  normWeight(): BitNetTensor | null {
    this.#check('BitLinear.normWeight');
    return this.#normWeight ? this.#normWeight.clone() : null;
  }

  /** train() / eval() as in PyTorch; returns this. */
  train(on = true): this {
    this.#check('BitLinear.train');
    this.training = on;
    if (!on) this.#dropContext();
    return this;
  }

  eval(): this { return this.train(false); }

  // ---- forward ----

  #prepare(op: string, x: unknown, options: BitLinearForwardOptions): Prepared {
    const packed = this.#check(op);
    checkInputTensor(op, 'x', x);
    if (!x.dtype.isFloat) throw new BitNetTypeError(ErrorCode.DTYPE, op, `x must be a float tensor (F32, F16, BF16), got ${x.dtype.name}`);
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `x has shape ${formatShape(x.shape)}; expected [..., ${this.inFeatures}] (inFeatures)`);
    if (options === null || typeof options !== 'object') throw invalidArgument(op, `options must be an object, got ${formatValue(options)}`);
    const tokens = numelOf(x.shape.slice(0, -1));
    const inputShape = [...x.shape];
    const outputShape = [...x.shape.slice(0, -1), this.outFeatures];
    const temps: BitNetTensor[] = [];
    try {
      const input = float32View(op, x);
      temps.push(input.tensor);
      let activations = input;
      let normalized: BitNetTensor | null = null;
      if (this.#normWeight) {
        const flat = input.tensor.view([tokens, this.inFeatures]);
        temps.push(flat);
        normalized = rmsNorm(flat, this.#normWeight, this.normEpsilon);
        temps.push(normalized);
        activations = { tensor: normalized, data: f32Data(normalized, op) };
      }
      let out: BitNetTensor;
      if (options.out !== undefined) {
        const given: unknown = options.out;
        checkInputTensor(op, 'options.out', given);
        if (given.dtype !== BitNetDType.F32 || !given.isContiguous) throw new BitNetTypeError(ErrorCode.DTYPE, op, `options.out must be a contiguous F32 tensor, got ${given.dtype.name}${given.isContiguous ? '' : ' (strided)'}`);
        if (given.ndim !== outputShape.length || given.shape.some((d, i) => d !== outputShape[i]))
          throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `options.out has shape ${formatShape(given.shape)}, the output is ${formatShape(outputShape)}`);
        if (this.training) throw invalidArgument(op, 'options.out is for inference; training-mode forward allocates its output');
        out = given.contiguous(); // our own reference: disposing it leaves the caller's tensor alive
      } else {
        out = BitNetTensor.empty(outputShape, { pool: this.#pool ?? x.pool });
      }
      temps.push(out);
      return { packed, generation: this.#generation, tokens, inputShape, outputShape, input, normalized, activations, out, given: options.out ?? null, temps, native: { bias: this.#bias, out: f32Data(out, op), threads: options.threads, tier: options.tier } };
    } catch (error) {
      for (const t of temps) t.dispose();
      throw error;
    }
  }

  /**
   * The common inference case (F32 contiguous CPU x, no SubLN, not training,
   * options.out absent or a matching F32 contiguous tensor) without the
   * general path's temporary view tensors and shape arrays. At batch 1 the
   * call follows a multi-megabyte weight stream that evicts the JS code and
   * objects from the core's caches, so every object and function touched is
   * a cache miss: the general path costs ~20 µs more per call there
   * (bench:bitlinear's layer rows). Returns null when the general path must
   * run (it also reports every bad input); results are the same bits.
   */
  #forwardDirect(op: string, x: unknown, options: BitLinearForwardOptions): BitNetTensor | null {
    if (this.#normWeight !== null || this.training || this.#disposed || this.#packed === null) return null;
    if (!(x instanceof BitNetTensor) || x.isDisposed || x.dtype !== BitNetDType.F32 || !x.isContiguous || x.device !== 'cpu') return null;
    if (options === null || typeof options !== 'object') return null;
    const shape = x.shape;
    const rank = shape.length;
    if (rank === 0 || shape[rank - 1] !== this.inFeatures) return null;
    const given: unknown = options.out;
    if (given !== undefined) {
      if (!(given instanceof BitNetTensor) || given.isDisposed || given.dtype !== BitNetDType.F32 || !given.isContiguous || given.device !== 'cpu') return null;
      const outShape = given.shape;
      if (outShape.length !== rank || outShape[rank - 1] !== this.outFeatures) return null;
      for (let i = 0; i < rank - 1; i++) if (outShape[i] !== shape[i]) return null;
    }
    const tokens = x.numel / this.inFeatures;
    const input = f32Data(x, op);
    let out: BitNetTensor;
    if (given === undefined) {
      const outputShape = shape.slice();
      outputShape[rank - 1] = this.outFeatures;
      out = BitNetTensor.empty(outputShape, { pool: this.#pool ?? x.pool });
    } else {
      out = given;
    }
    try {
      ternaryMatmul(this.#packed, input, tokens, { bias: this.#bias, out: f32Data(out, op), threads: options.threads, tier: options.tier });
    } catch (error) {
      if (out !== given) out.dispose();
      throw error;
    }
    return out;
  }

  #finish(prepared: Prepared): BitNetTensor {
    const { out, temps, input, normalized } = prepared;
    if (this.training) {
      this.#dropContext();
      // A private copy: the caller may reuse or overwrite x before backward.
      const saved = input.tensor.clone();
      this.#context = {
        input: saved.view([prepared.tokens, this.inFeatures]),
        normalized: normalized ? normalized.view([prepared.tokens, this.inFeatures]) : null,
        inputShape: prepared.inputShape,
        outputShape: prepared.outputShape,
        generation: prepared.generation,
      };
      saved.dispose();
    }
    if (prepared.given) {
      out.dispose();
      for (const t of temps) if (t !== out) t.dispose();
      return prepared.given;
    }
    for (const t of temps) if (t !== out) t.dispose();
    return out;
  }

  /**
   * y = quantizeActivations(SubLN(x)) · Wᵀ (int32) × scales + bias for x of
   * shape [..., inFeatures] (F32, F16 or BF16; any strides) → F32 [..., outFeatures].
   * NaN/Inf in x → ERR_BITNET_INVALID_ARGUMENT.
   */
  forward(x: BitNetTensor, options: BitLinearForwardOptions = {}): BitNetTensor {
    const op = 'BitLinear.forward';
    const direct = this.#forwardDirect(op, x, options);
    if (direct !== null) return direct;
    const prepared = this.#prepare(op, x, options);
    try {
      ternaryMatmul(prepared.packed, prepared.activations.data, prepared.tokens, prepared.native);
    } catch (error) {
      for (const t of prepared.temps) t.dispose();
      throw error;
    }
    return this.#finish(prepared);
  }

  /** forward with the kernel on a worker thread (the event loop stays free). */
  async forwardAsync(x: BitNetTensor, options: BitLinearForwardOptions = {}): Promise<BitNetTensor> {
    const op = 'BitLinear.forwardAsync';
    const prepared = this.#prepare(op, x, options);
    try {
      await ternaryMatmulAsync(prepared.packed, prepared.activations.data, prepared.tokens, prepared.native);
    } catch (error) {
      for (const t of prepared.temps) t.dispose();
      throw error;
    }
    if (this.#disposed) {
      for (const t of prepared.temps) if (t !== prepared.out || prepared.given) t.dispose();
      return prepared.given ?? prepared.out;
    }
    return this.#finish(prepared);
  }

  // ---- backward ----

  /**
   * Gradients of the last training-mode forward (straight-through estimator):
   * with x̃ = dequantized int8 activations of SubLN(x) and W̃ = dequantized
   * ternary weights,
   *   dL/dW = gᵀ · x̃,  dL/db = Σ_tokens g,  dL/d(SubLN(x)) = g · W̃,
   * then through RMSNorm n = x · r · γ (r = 1/√(mean x² + ε)):
   *   dL/dγ = Σ_tokens dn · x · r,  dL/dx = r · γ · dn − x · r³ / K · Σ_k γ · dn · x.
   * Consumes the saved context (call forward again before the next backward).
   */
  backward(gradOutput: BitNetTensor): BitLinearGradients {
    const op = 'BitLinear.backward';
    const packed = this.#check(op);
    const context = this.#context;
    if (!context) throw new BitNetError(ErrorCode.INVALID_ARGUMENT, op, 'no saved forward: set layer.training = true (or call train()) and run forward first; each forward allows one backward');
    if (context.generation !== this.#generation) throw new BitNetError(ErrorCode.INVALID_ARGUMENT, op, 'the weights changed since the forward; run forward again');
    checkInputTensor(op, 'gradOutput', gradOutput);
    if (!gradOutput.dtype.isFloat) throw new BitNetTypeError(ErrorCode.DTYPE, op, `gradOutput must be a float tensor, got ${gradOutput.dtype.name}`);
    if (gradOutput.ndim !== context.outputShape.length || gradOutput.shape.some((d, i) => d !== context.outputShape[i]))
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `gradOutput has shape ${formatShape(gradOutput.shape)}, the forward returned ${formatShape(context.outputShape)}`);
    const tokens = context.input.shape[0]!;
    const K = this.inFeatures;
    const temps: BitNetTensor[] = [];
    const results: BitNetTensor[] = [];
    const keep = (t: BitNetTensor) => (temps.push(t), t);
    const result = (t: BitNetTensor) => (results.push(t), t);
    try {
      const g = float32View(op, gradOutput);
      keep(g.tensor);
      checkFiniteArray(op, 'gradOutput', g.data);
      const g2 = keep(g.tensor.view([tokens, this.outFeatures]));
      const wq = keep(f32Tensor(dequantize158Native(unpackTernaryNative(packed)), [this.outFeatures, K], this.#pool));
      const activations = context.normalized ?? context.input;
      const q = quantizeActivationsNative(f32Data(activations, op), tokens, K);
      const xq = keep(BitNetTensor.empty([tokens, K], { pool: this.#pool ?? activations.pool }));
      const xqData = f32Data(xq, op);
      for (let t = 0; t < tokens; t++) {
        const s = q.scales[t]!;
        for (let k = 0, i = t * K; k < K; k++, i++) xqData[i] = q.values[i]! * s;
      }
      const gT = keep(g2.transpose(0, 1));
      const weight = result(matmul(gT, xq));
      const bias = this.#bias ? result(sum(g2, 0)) : null;
      const dn = matmul(g2, wq);
      let input: BitNetTensor;
      let normWeight: BitNetTensor | null = null;
      if (this.#normWeight) {
        keep(dn);
        const x = f32Data(context.input, op), d = f32Data(dn, op), gamma = f32Data(this.#normWeight, op);
        const dx = result(BitNetTensor.empty([tokens, K], { pool: this.#pool ?? dn.pool }));
        const dgT = result(BitNetTensor.zeros([K], { pool: this.#pool ?? dn.pool }));
        const dxData = f32Data(dx, op);
        const dgAcc = new Float64Array(K);
        for (let t = 0; t < tokens; t++) {
          const o = t * K;
          let squares = 0;
          for (let k = 0; k < K; k++) squares += x[o + k]! * x[o + k]!;
          const r = 1 / Math.sqrt(squares / K + this.normEpsilon);
          let dot = 0;
          for (let k = 0; k < K; k++) {
            dot += gamma[k]! * d[o + k]! * x[o + k]!;
            dgAcc[k] += d[o + k]! * x[o + k]! * r;
          }
          const c = (r * r * r) / K * dot;
          for (let k = 0; k < K; k++) dxData[o + k] = r * gamma[k]! * d[o + k]! - x[o + k]! * c;
        }
        f32Data(dgT, op).set(dgAcc);
        normWeight = dgT;
        input = dx;
      } else {
        input = result(dn);
      }
      const shapedInput = input.view(context.inputShape);
      results.splice(results.indexOf(input), 1, shapedInput);
      input.dispose();
      this.#dropContext();
      const gradients: BitLinearGradients = {
        input: shapedInput,
        weight,
        bias,
        normWeight,
        dispose() {
          for (const t of [shapedInput, weight, bias, normWeight]) t?.dispose();
        },
        [Symbol.dispose]() {
          this.dispose();
        },
      };
      return gradients;
    } catch (error) {
      for (const t of results) t.dispose();
      throw error;
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /**
   * Plain SGD on the latent parameters: p ← p − learningRate · grad (weights
   * requantized and repacked once). Every gradient is checked (shape, finite)
   * before anything changes. A layer built from packed weights starts from its
   * dequantized weights.
   */
  sgdStep(gradients: Pick<BitLinearGradients, 'weight' | 'bias' | 'normWeight'>, learningRate: number): void {
    const op = 'BitLinear.sgdStep';
    const packed = this.#check(op);
    if (!(typeof learningRate === 'number' && Number.isFinite(learningRate) && learningRate > 0)) throw outOfRange(op, `learningRate must be a finite number > 0, got ${formatValue(learningRate)}`);
    if (!gradients || typeof gradients !== 'object') throw invalidArgument(op, `gradients must be an object, got ${formatValue(gradients)}`);
    const dW = copyParameter(op, 'gradients.weight', gradients.weight, [this.outFeatures, this.inFeatures]);
    const db = this.#bias ? copyParameter(op, 'gradients.bias', gradients.bias, [this.outFeatures]) : null;
    const dg = this.#normWeight ? copyParameter(op, 'gradients.normWeight', gradients.normWeight, [this.inFeatures]) : null;
    const latent = this.#latent ? Float32Array.from(this.#latent) : dequantize158Native(unpackTernaryNative(packed));
    for (let i = 0; i < latent.length; i++) latent[i] = latent[i]! - learningRate * dW[i]!;
    const bias = this.#bias && db ? this.#bias.map((b, i) => b - learningRate * db[i]!) : null;
    let norm: Float32Array | null = null;
    if (this.#normWeight && dg) {
      norm = Float32Array.from(f32Data(this.#normWeight, op));
      for (let i = 0; i < norm.length; i++) norm[i] = norm[i]! - learningRate * dg[i]!;
    }
    checkFiniteArray(op, 'updated weight', latent);
    if (bias) checkFiniteArray(op, 'updated bias', bias);
    if (norm) checkFiniteArray(op, 'updated normWeight', norm);
    this.#setLatent(latent);
    if (bias) this.#bias = bias;
    if (norm) f32Data(this.#normWeight as BitNetTensor, op).set(norm);
  }

  // ---- safetensors ----

  /** Tensors and metadata of the packed layer (the caller disposes the tensors). */
  #toEntries(op: string, options: BitLinearSaveOptions): { tensors: Map<string, BitNetTensor>; metadata: Record<string, string> } {
    const packed = this.#check(op);
    const layout = options.layout ?? 'i2_r4';
    if (layout !== 'i2_r4' && layout !== 'tq2_0' && layout !== 'tq1_0') throw invalidArgument(op, `layout must be 'i2_r4', 'tq2_0' or 'tq1_0', got ${formatValue(layout)}`);
    if (options.metadata !== undefined && (typeof options.metadata !== 'object' || options.metadata === null)) throw invalidArgument(op, 'metadata must be an object of strings');
    const tensors = new Map<string, BitNetTensor>();
    let weightGroupSize: number | null = null;
    try {
      const converted = new PackedTernaryTensor(packed).convert(layout);
      try {
        tensors.set('weight', BitNetTensor.fromBytes(converted.packed.data, [converted.byteLength], BitNetDType.U8, { pool: this.#pool }));
        if (layout === 'i2_r4') {
          const scales = converted.packed.scales as Float32Array;
          const groupSize = converted.packed.groupSize;
          tensors.set('weight_scale', f32Tensor(scales, groupSize === null ? [this.outFeatures] : [this.outFeatures, scales.length / this.outFeatures], this.#pool));
          if (groupSize !== null) weightGroupSize = groupSize;
        }
      } finally {
        converted.dispose();
      }
      if (this.#bias) tensors.set('bias', f32Tensor(this.#bias, [this.outFeatures], this.#pool));
      if (this.#normWeight) tensors.set('norm_weight', this.#normWeight.clone());
      if (options.includeLatent && this.#latent) tensors.set('weight_latent', f32Tensor(this.#latent, [this.outFeatures, this.inFeatures], this.#pool));
    } catch (error) {
      for (const t of tensors.values()) t.dispose();
      throw error;
    }
    const metadata: Record<string, string> = {
      ...(options.metadata ?? {}),
      format: FORMAT,
      format_version: FORMAT_VERSION,
      in_features: String(this.inFeatures),
      out_features: String(this.outFeatures),
      layout,
      bias: String(this.hasBias),
      sub_layer_norm: String(this.subLayerNorm),
      norm_epsilon: String(this.normEpsilon),
      granularity: this.granularity,
      // The layer's quantization groups, and (i2_r4 only) the groups of the stored bytes and scales.
      ...(this.groupSize !== null ? { group_size: String(this.groupSize) } : {}),
      ...(weightGroupSize !== null ? { weight_group_size: String(weightGroupSize) } : {}),
    };
    return { tensors, metadata };
  }

  /** The layer as a safetensors file in memory. */
  serialize(options: BitLinearSaveOptions = {}): Uint8Array {
    const { tensors, metadata } = this.#toEntries('BitLinear.serialize', options);
    try {
      return serializeSafetensors(tensors, metadata);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  /** Writes the layer to a safetensors file (atomically: temporary file, then rename). */
  async save(file: string, options: BitLinearSaveOptions = {}): Promise<void> {
    const { tensors, metadata } = this.#toEntries('BitLinear.save', options);
    try {
      await writeSafetensors(file, tensors, metadata);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  static deserialize(bytes: Uint8Array, options: { pool?: TensorMemoryPool } = {}): BitLinear {
    const op = 'BitLinear.deserialize';
    if (!(bytes instanceof Uint8Array)) throw invalidArgument(op, `bytes must be a Uint8Array, got ${formatValue(bytes)}`);
    const { tensors, metadata, unsupported } = deserializeSafetensors(bytes, { pool: options.pool });
    try {
      return BitLinear.#fromEntries(op, tensors, metadata, 'buffer', options.pool, unsupported);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  static async load(file: string, options: { pool?: TensorMemoryPool } = {}): Promise<BitLinear> {
    const op = 'BitLinear.load';
    const { tensors, metadata, unsupported } = await readSafetensors(file, { pool: options.pool });
    try {
      return BitLinear.#fromEntries(op, tensors, metadata, path.basename(file), options.pool, unsupported);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  static #fromEntries(
    op: string,
    tensors: Map<string, BitNetTensor>,
    metadata: Record<string, string>,
    source: string,
    pool: TensorMemoryPool | undefined,
    unsupported: readonly UnsupportedSafetensorsEntry[],
  ): BitLinear {
    const bad = (message: string, cause?: unknown) => new BitNetError(ErrorCode.FILE_FORMAT, op, `${source}: ${message}`, { cause, details: { source } });
    // A BitLinear file holds only the tensors it writes: one the reader could not load is foreign.
    if (unsupported.length > 0) throw bad(`unexpected tensor "${unsupported[0]!.name}" of dtype ${unsupported[0]!.dtype}`);
    if (metadata.format !== FORMAT) throw bad(`metadata format is ${formatValue(metadata.format)}, not "${FORMAT}" (not a BitLinear file)`);
    if (metadata.format_version !== FORMAT_VERSION) throw bad(`format_version ${formatValue(metadata.format_version)} is not supported (expected "${FORMAT_VERSION}")`);
    const integer = (name: string): number => {
      const value = Number(metadata[name]);
      if (!/^[1-9][0-9]*$/.test(metadata[name] ?? '') || !Number.isSafeInteger(value)) throw bad(`metadata ${name} ${formatValue(metadata[name])} is not a positive integer`);
      return value;
    };
    const flag = (name: string): boolean => {
      if (metadata[name] !== 'true' && metadata[name] !== 'false') throw bad(`metadata ${name} ${formatValue(metadata[name])} is not "true" or "false"`);
      return metadata[name] === 'true';
    };
    const inFeatures = integer('in_features'), outFeatures = integer('out_features');
    const hasBias = flag('bias'), subLayerNorm = flag('sub_layer_norm');
    const normEpsilon = Number(metadata.norm_epsilon);
    if (!(normEpsilon > 0) || !Number.isFinite(normEpsilon)) throw bad(`metadata norm_epsilon ${formatValue(metadata.norm_epsilon)} is not a finite number > 0`);
    const granularity = metadata.granularity;
    if (granularity !== 'tensor' && granularity !== 'row' && granularity !== 'group') throw bad(`metadata granularity ${formatValue(granularity)} is not "tensor", "row" or "group"`);
    const groupSize = granularity === 'group' ? integer('group_size') : undefined;
    if (groupSize !== undefined && groupSize % 256 !== 0) throw bad(`metadata group_size ${groupSize} is not a multiple of 256 (the kernels' block)`);
    if (granularity !== 'group' && metadata.group_size !== undefined) throw bad(`metadata group_size is set but granularity is "${granularity}"`);
    const layout = metadata.layout as TernaryLayout;
    if (layout !== 'i2_r4' && layout !== 'tq2_0' && layout !== 'tq1_0') throw bad(`metadata layout ${formatValue(metadata.layout)} is not i2_r4, tq2_0 or tq1_0`);
    const expected = new Set(['weight', ...(layout === 'i2_r4' ? ['weight_scale'] : []), ...(hasBias ? ['bias'] : []), ...(subLayerNorm ? ['norm_weight'] : [])]);
    for (const name of tensors.keys()) if (!expected.has(name) && name !== 'weight_latent') throw bad(`unexpected tensor "${name}"`);
    const entry = (name: string, dtype: BitNetDType, shape: readonly number[]): BitNetTensor => {
      const t = tensors.get(name);
      if (!t) throw bad(`tensor "${name}" is missing`);
      if (t.dtype !== dtype || t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        throw bad(`tensor "${name}" is ${t.dtype.name} ${formatShape(t.shape)}, expected ${dtype.name} ${formatShape(shape)}`);
      return t;
    };
    const finite = (name: string, shape: readonly number[]): BitNetTensor => {
      const t = entry(name, BitNetDType.F32, shape);
      const data = f32Data(t, op);
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw bad(`tensor "${name}" element ${i} is ${data[i]}`);
      return t;
    };
    if (layout !== 'i2_r4' && inFeatures % 256 !== 0) throw bad(`layout ${layout} needs in_features to be a multiple of 256, got ${inFeatures}`);
    const weightBytes = entry('weight', BitNetDType.U8, [packedTernaryBytes(layout, outFeatures, inFeatures)]);
    const weightGroupSize = metadata.weight_group_size === undefined ? null : integer('weight_group_size');
    if (weightGroupSize !== null && layout !== 'i2_r4') throw bad(`metadata weight_group_size is for layout i2_r4, not ${layout}`);
    const scaleShape = weightGroupSize === null ? [outFeatures] : [outFeatures, Math.ceil(inFeatures / weightGroupSize)];
    const scales = layout === 'i2_r4' ? finite('weight_scale', scaleShape) : null;
    const bias = hasBias ? finite('bias', [outFeatures]) : null;
    const normWeight = subLayerNorm ? finite('norm_weight', [inFeatures]) : null;
    const latent = tensors.has('weight_latent') ? finite('weight_latent', [outFeatures, inFeatures]) : null;
    let packed: PackedTernaryTensor;
    try {
      packed = PackedTernaryTensor.fromTensor(weightBytes, { layout, rows: outFeatures, columns: inFeatures, scales: scales ? Float32Array.from(f32Data(scales, op)) : null, groupSize: weightGroupSize });
    } catch (error) {
      throw bad(`tensor "weight" is not valid ${layout} data: ${(error as Error).message}`, error);
    }
    try {
      let layer: BitLinear;
      try {
        layer = BitLinear.fromPacked(packed, { bias, normWeight, subLayerNorm, normEpsilon, granularity, groupSize, pool });
      } catch (error) {
        // What fromPacked refuses here came from the file (e.g. a NaN fp16 block scale, caught
        // when converting to i2_r4); running out of memory is not a format problem.
        if ((error as { code?: unknown }).code === ErrorCode.OUT_OF_MEMORY) throw error;
        throw bad(`the layer cannot be built from its tensors: ${(error as Error).message}`, error);
      }
      if (latent) layer.#latent = Float32Array.from(f32Data(latent, op));
      return layer;
    } finally {
      packed.dispose();
    }
  }

  // ---- lifetime ----

  /** Frees the packed weights (after any running forwardAsync ends) and every tensor; idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dropContext();
    this.#packed?.dispose();
    this.#packed = null;
    this.#normWeight?.dispose();
    this.#normWeight = null;
    this.#latent = null;
    this.#bias = null;
  }

  [Symbol.dispose](): void { this.dispose(); }

  toString(): string {
    return `BitLinear(inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.hasBias}, subLayerNorm=${this.subLayerNorm}${this.#disposed ? ', disposed' : ''})`;
  }
}
