import { BitNetTypeError, ErrorCode, invalidArgument } from '@bitnet/errors';
import { type IsaTierName, type NativeBinding, requireNative } from '@bitnet/native';
import type { BinaryOpName, CompareOpName, ReduceOpName, TensorBackend, UnaryOpName } from './backend.js';
import { BitNetDType } from './dtype.js';
import { bf16ToNumber, encodeNumber, f16ToNumber } from './half.js';
import { formatShape, numelOf } from './shape.js';
import { BitNetTensor } from './tensor.js';

const binaryCodes: Record<BinaryOpName, number> = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6 };
const compareCodes: Record<CompareOpName, number> = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5 };
const unaryCodes: Record<UnaryOpName, number> = {
  neg: 0, abs: 1, sqrt: 2, rsqrt: 3, exp: 4, log: 5, relu: 6, gelu: 7, geluTanh: 8, silu: 9, sigmoid: 10, tanh: 11, clamp: 12, square: 13,
};
const reduceCodes: Record<ReduceOpName, number> = { sum: 0, mean: 1, max: 2, min: 3, argmax: 4, argmin: 5, var: 6 };

function outputLike(like: BitNetTensor, shape: readonly number[], dtype: BitNetDType): BitNetTensor {
  return BitNetTensor.empty(shape, { dtype, device: like.device, pool: like.pool });
}

/**
 * The CPU backend: every op runs in @bitnet/native (strided kernels with
 * run-time SIMD dispatch on the native thread pool). `tier` pins one ISA tier
 * (for tests that compare tiers in one process); undefined = the selected tier.
 */
export class CpuTensorBackend implements TensorBackend {
  readonly device = 'cpu';
  readonly tier: IsaTierName | undefined;

  constructor(options: { tier?: IsaTierName } = {}) {
    this.tier = options.tier;
  }

  private native(op: string): NativeBinding {
    return requireNative(op);
  }

  /** Runs body with a fresh output; the output is disposed if body throws. */
  private produce(like: BitNetTensor, shape: readonly number[], dtype: BitNetDType, body: (out: BitNetTensor) => void): BitNetTensor {
    const out = outputLike(like, shape, dtype);
    try {
      body(out);
      return out;
    } catch (error) {
      out.dispose();
      throw error;
    }
  }

  binary(op: BinaryOpName, a: BitNetTensor, b: BitNetTensor): BitNetTensor {
    return this.produce(a, a.shape, BitNetDType.F32, (out) => {
      const o = out.location(op), x = a.location(op), y = b.location(op);
      this.native(op).tensorBinary(binaryCodes[op], [...a.shape], o.buffer, o.byteOffset, out.strides, x.buffer, x.byteOffset, a.strides, y.buffer, y.byteOffset, b.strides, this.tier);
    });
  }

  compare(op: CompareOpName, a: BitNetTensor, b: BitNetTensor): BitNetTensor {
    return this.produce(a, a.shape, BitNetDType.Bool, (out) => {
      const o = out.location(op), x = a.location(op), y = b.location(op);
      this.native(op).tensorCompare(compareCodes[op], [...a.shape], o.buffer, o.byteOffset, out.strides, x.buffer, x.byteOffset, a.strides, y.buffer, y.byteOffset, b.strides, this.tier);
    });
  }

  unary(op: UnaryOpName, a: BitNetTensor, params: { min?: number; max?: number } = {}): BitNetTensor {
    return this.produce(a, a.shape, BitNetDType.F32, (out) => {
      const o = out.location(op), x = a.location(op);
      this.native(op).tensorUnary(unaryCodes[op], [...a.shape], o.buffer, o.byteOffset, out.strides, x.buffer, x.byteOffset, a.strides, params.min ?? 0, params.max ?? 0, this.tier);
    });
  }

  where(condition: BitNetTensor, a: BitNetTensor, b: BitNetTensor): BitNetTensor {
    return this.produce(a, a.shape, BitNetDType.F32, (out) => {
      const o = out.location('where'), c = condition.location('where'), x = a.location('where'), y = b.location('where');
      this.native('where').tensorWhere([...a.shape], o.buffer, o.byteOffset, out.strides, c.buffer, c.byteOffset, condition.strides, x.buffer, x.byteOffset, a.strides, y.buffer, y.byteOffset, b.strides);
    });
  }

  reduce(op: ReduceOpName, a: BitNetTensor, axes: readonly number[], correction: number): BitNetTensor {
    const kept = a.shape.filter((_, d) => !axes.includes(d));
    const dtype = op === 'argmax' || op === 'argmin' ? BitNetDType.I32 : BitNetDType.F32;
    return this.produce(a, kept, dtype, (out) => {
      const o = out.location(op), x = a.location(op);
      this.native(op).tensorReduce(reduceCodes[op], [...a.shape], x.buffer, x.byteOffset, a.strides, [...axes], o.buffer, o.byteOffset, correction, this.tier);
    });
  }

  softmax(a: BitNetTensor, log: boolean): BitNetTensor {
    const op = log ? 'logSoftmax' : 'softmax';
    const n = a.ndim === 0 ? 1 : a.shape[a.ndim - 1]!;
    const rows = n === 0 ? 0 : a.numel / n;
    return this.produce(a, a.shape, BitNetDType.F32, (out) => {
      const o = out.location(op), x = a.location(op);
      this.native(op).tensorSoftmax(x.buffer, x.byteOffset, o.buffer, o.byteOffset, rows, n, log, this.tier);
    });
  }

  rmsNorm(x: BitNetTensor, weight: BitNetTensor | null, eps: number): BitNetTensor {
    const n = x.shape[x.ndim - 1]!;
    const rows = n === 0 ? 0 : x.numel / n;
    return this.produce(x, x.shape, BitNetDType.F32, (out) => {
      const o = out.location('rmsNorm'), i = x.location('rmsNorm'), w = weight?.location('rmsNorm');
      this.native('rmsNorm').tensorRmsNorm(i.buffer, i.byteOffset, w?.buffer ?? null, w?.byteOffset ?? 0, o.buffer, o.byteOffset, rows, n, eps, this.tier);
    });
  }

  layerNorm(x: BitNetTensor, weight: BitNetTensor | null, bias: BitNetTensor | null, eps: number): BitNetTensor {
    const n = x.shape[x.ndim - 1]!;
    const rows = n === 0 ? 0 : x.numel / n;
    return this.produce(x, x.shape, BitNetDType.F32, (out) => {
      const o = out.location('layerNorm'), i = x.location('layerNorm');
      const w = weight?.location('layerNorm'), b = bias?.location('layerNorm');
      this.native('layerNorm').tensorLayerNorm(i.buffer, i.byteOffset, w?.buffer ?? null, w?.byteOffset ?? 0, b?.buffer ?? null, b?.byteOffset ?? 0, o.buffer, o.byteOffset, rows, n, eps, this.tier);
    });
  }

  private matmulArgs(a: BitNetTensor, b: BitNetTensor, out: BitNetTensor) {
    const batch = a.shape.slice(0, -2);
    const m = a.shape[a.ndim - 2]!, k = a.shape[a.ndim - 1]!, n = b.shape[b.ndim - 1]!;
    const x = a.location('matmul'), y = b.location('matmul'), o = out.location('matmul');
    return [batch, m, n, k, x.buffer, x.byteOffset, a.strides, y.buffer, y.byteOffset, b.strides, o.buffer, o.byteOffset, 0, this.tier] as const;
  }

  private matmulShape(a: BitNetTensor, b: BitNetTensor): number[] {
    return [...a.shape.slice(0, -1), b.shape[b.ndim - 1]!];
  }

  matmul(a: BitNetTensor, b: BitNetTensor): BitNetTensor {
    return this.produce(a, this.matmulShape(a, b), BitNetDType.F32, (out) => {
      this.native('matmul').tensorMatmul(...this.matmulArgs(a, b, out));
    });
  }

  async matmulAsync(a: BitNetTensor, b: BitNetTensor): Promise<BitNetTensor> {
    const out = outputLike(a, this.matmulShape(a, b), BitNetDType.F32);
    // Hold the inputs' storage until the worker finishes, even if the caller disposes them.
    const held = [a.storage.retain('matmulAsync'), b.storage.retain('matmulAsync')];
    try {
      await this.native('matmulAsync').tensorMatmulAsync(...this.matmulArgs(a, b, out));
      return out;
    } catch (error) {
      out.dispose();
      throw error;
    } finally {
      for (const s of held) s.release();
    }
  }

  copy(a: BitNetTensor): BitNetTensor {
    if (a.dtype.isQuantized) {
      // An empty view copies to an empty tensor whatever its strides (it has no bytes to lay out).
      if (a.numel === 0) return BitNetTensor.empty(a.shape, { dtype: a.dtype, device: a.device, pool: a.pool });
      if (!a.isContiguous) throw new BitNetTypeError(ErrorCode.DTYPE, 'copy', `${a.dtype.name} tensors can only be copied when contiguous`);
      const at = a.location('copy');
      const bytes = new Uint8Array(at.buffer, at.byteOffset, a.byteSize);
      return BitNetTensor.fromBytes(bytes, a.shape, a.dtype, { device: a.device, pool: a.pool });
    }
    return this.produce(a, a.shape, a.dtype, (out) => {
      const o = out.location('copy'), x = a.location('copy');
      this.native('copy').tensorCopy(a.dtype.byteSize, [...a.shape], o.buffer, o.byteOffset, out.strides, x.buffer, x.byteOffset, a.strides);
    });
  }

  cast(a: BitNetTensor, dtype: BitNetDType, into?: BitNetTensor): BitNetTensor {
    if (a.dtype.isQuantized || dtype.isQuantized)
      throw new BitNetTypeError(ErrorCode.DTYPE, 'cast', `cannot cast ${a.dtype.name} to ${dtype.name}; packed quantized types go through the quantization functions`);
    if (into && (into.dtype !== dtype || !into.isContiguous || into.shape.length !== a.shape.length || into.shape.some((d, i) => d !== a.shape[i])))
      throw invalidArgument('cast', `out must be a contiguous ${dtype.name} tensor of shape ${formatShape(a.shape)}, got ${into.dtype.name} ${formatShape(into.shape)} (contiguous ${into.isContiguous})`);
    // With `into`, the caller owns the output: write it, never dispose it.
    const produce = (body: (out: BitNetTensor) => void): BitNetTensor => {
      if (!into) return this.produce(a, a.shape, dtype, body);
      body(into);
      return into;
    };
    if (a.dtype === dtype && !into) return this.copy(a);
    const source = a.isContiguous ? a.contiguous() : this.copy(a);
    try {
      const count = numelOf(a.shape);
      const from = a.dtype.name, to = dtype.name;
      if (from === to) {
        return produce((out) => out.rawBytes('cast').set(source.rawBytes('cast').subarray(source.offset * a.dtype.byteSize, (source.offset + count) * a.dtype.byteSize), out.offset * dtype.byteSize));
      }
      const native = from === 'F32' && (to === 'F16' || to === 'BF16') ? `f32->${to.toLowerCase()}` : (from === 'F16' || from === 'BF16') && to === 'F32' ? `${from.toLowerCase()}->f32` : null;
      if (native) {
        return produce((out) => {
          const s = source.location('cast'), o = out.location('cast');
          this.native('cast').tensorConvert(native as 'f32->f16', s.buffer, s.byteOffset, o.buffer, o.byteOffset, count, this.tier);
        });
      }
      if ((from === 'F16' || from === 'BF16') && (to === 'F16' || to === 'BF16')) {
        const wide = this.cast(source, BitNetDType.F32);
        try {
          return this.cast(wide, dtype, into);
        } finally {
          wide.dispose();
        }
      }
      // Integer and bool conversions: exact per element in JS (see encodeNumber for the rules).
      return produce((out) => {
        const input = source.rawElements('cast');
        const output = out.rawElements('cast');
        const start = source.offset;
        const decode = from === 'F16' ? f16ToNumber : from === 'BF16' ? bf16ToNumber : null;
        for (let i = 0; i < count; i++) {
          const raw = input[start + i]!;
          output[out.offset + i] = encodeNumber(decode ? decode(raw) : raw, to, 'cast');
        }
      });
    } finally {
      source.dispose();
    }
  }
}
