import { HybridMemoryPool } from '@bitnet/memory';
import { getNative } from '@bitnet/native';
import { beforeAll, describe, expect, it } from 'vitest';
import { BitNetError, ErrorCode } from '@bitnet/errors';
import { BitNetDType, BitNetTensor, ConversionConfig, type ConversionConfigOptions, ConversionEngine, cast, setDefaultTensorPool } from './index.js';
import { rng, testTiers } from './testing/reference.js';

const pool = new HybridMemoryPool();
beforeAll(() => setDefaultTensorPool(pool));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsToFloat = (bits: number): number => ((u32[0] = bits), f32[0]!);

/**
 * Reference rounding by search: every finite value of the 16-bit format (plus
 * the first power of two past its range, standing for Inf) sorted; a float goes
 * to the nearest, ties to the even bit pattern. Independent of the bit tricks
 * the kernels use.
 */
function referenceRounder(decode: (bits: number) => number, infBits: number, overflowValue: number) {
  const table: [number, number][] = [];
  for (let bits = 0; bits < 0x8000; bits++) {
    const v = decode(bits);
    if (Number.isFinite(v)) table.push([v, bits]);
  }
  table.push([overflowValue, infBits]);
  table.sort((a, b) => a[0] - b[0]);
  return (x: number, nanBits: (bits: number) => number): number => {
    u32[0] = 0;
    f32[0] = x;
    const raw = u32[0]!;
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    if (Number.isNaN(x)) return nanBits(raw);
    const ax = Math.abs(x);
    if (ax >= overflowValue) return sign | infBits;
    let lo = 0, hi = table.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (table[mid]![0] <= ax) lo = mid;
      else hi = mid;
    }
    const [lv, lb] = table[lo]!, [hv, hb] = table[hi]!;
    let bits: number;
    if (ax - lv < hv - ax) bits = lb;
    else if (ax - lv > hv - ax) bits = hb;
    else bits = lb % 2 === 0 ? lb : hb;
    if (ax === lv) bits = lb;
    return sign | bits;
  };
}

const f16Decode = (bits: number): number => {
  const e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
  if (e === 0x1f) return m ? NaN : Infinity;
  return e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
};
const bf16Decode = (bits: number): number => bitsToFloat(bits << 16);
const toF16 = referenceRounder(f16Decode, 0x7c00, 65536);
const toBF16 = referenceRounder(bf16Decode, 0x7f80, 2 ** 128);

function testFloats(): Float32Array {
  const next = rng(99);
  const values: number[] = [0, -0, Infinity, -Infinity, NaN, 65504, 65519.99, 65520, 65536, 1e-8, 5.96e-8, 2.98e-8, 2.9802322387695312e-8, 6.1e-5, 6.097555160522461e-5, 3.4e38, -3.3961e38, 3.3895313892515355e38, 1.401298464324817e-45];
  // Exact halfway cases of both formats.
  for (let i = 0; i < 2000; i++) {
    const f16 = Math.floor(next() * 0x7bff);
    values.push((f16Decode(f16) + f16Decode(f16 + 1)) / 2);
    const bf = Math.floor(next() * 0x7f7f);
    values.push(-(bf16Decode(bf) + bf16Decode(bf + 1)) / 2);
  }
  const out = new Float32Array(values.length + 60000);
  out.set(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = values.length; i < out.length; i++) bits[i] = Math.floor(next() * 2 ** 32) >>> 0;
  return out;
}

describe('F32 ↔ F16/BF16 conversion kernels are bit-exact on every tier', () => {
  const input = testFloats();
  const inputBits = new Uint32Array(input.buffer);
  const wantF16 = Uint16Array.from(input, (x, i) => toF16(x, (raw) => ((raw >>> 16) & 0x8000) | 0x7e00 | ((raw >>> 13) & 0x3ff)) + 0 * i);
  const wantBF16 = Uint16Array.from(input, (x) => toBF16(x, (raw) => (raw >>> 16) | 0x40));
  for (const tier of testTiers()) {
    it(`${tier}: f32→f16 and f32→bf16 round to nearest even, NaN quieted, overflow to Inf`, () => {
      const out = new Uint16Array(input.length);
      getNative().tensorConvert('f32->f16', input, 0, out, 0, input.length, tier);
      for (let i = 0; i < input.length; i++) if (out[i] !== wantF16[i]) throw new Error(`f16 of ${input[i]} (0x${inputBits[i]!.toString(16)}): got 0x${out[i]!.toString(16)}, want 0x${wantF16[i]!.toString(16)}`);
      getNative().tensorConvert('f32->bf16', input, 0, out, 0, input.length, tier);
      for (let i = 0; i < input.length; i++) if (out[i] !== wantBF16[i]) throw new Error(`bf16 of ${input[i]} (0x${inputBits[i]!.toString(16)}): got 0x${out[i]!.toString(16)}, want 0x${wantBF16[i]!.toString(16)}`);
    });
    it(`${tier}: every f16 and bf16 bit pattern widens exactly (NaN payload kept, quiet bit set)`, () => {
      const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const out = new Float32Array(65536);
      const outBits = new Uint32Array(out.buffer);
      getNative().tensorConvert('f16->f32', all, 0, out, 0, 65536, tier);
      for (let b = 0; b < 65536; b++) {
        const v = f16Decode(b & 0x7fff) * (b & 0x8000 ? -1 : 1);
        if (Number.isNaN(v)) {
          const want = (((b & 0x8000) << 16) | 0x7fc00000 | ((b & 0x3ff) << 13)) >>> 0;
          if (outBits[b] !== want) throw new Error(`f16 NaN 0x${b.toString(16)}: got 0x${outBits[b]!.toString(16)}, want 0x${want.toString(16)}`);
        } else if (!Object.is(out[b], v)) throw new Error(`f16 0x${b.toString(16)}: got ${out[b]}, want ${v}`);
      }
      getNative().tensorConvert('bf16->f32', all, 0, out, 0, 65536, tier);
      for (let b = 0; b < 65536; b++) if (outBits[b] !== (b << 16) >>> 0) throw new Error(`bf16 0x${b.toString(16)} widened to 0x${outBits[b]!.toString(16)}`);
    });
  }
  it('rejects buffers too small for the count', () => {
    expect(() => getNative().tensorConvert('f32->f16', new Float32Array(4), 0, new Uint16Array(3), 0, 4)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
  });
});

describe('numbers and integers round once to F16/BF16', () => {
  // Doubles just off a halfway point of the 16-bit format round to the nearer side; through a
  // float32 first they would land on the halfway point and tie to even (twice rounded).
  const next = rng(7);
  const doubles: number[] = [65519.99999999907, 1 + 2 ** -11 + 2 ** -40, -(1 + 2 ** -11 + 2 ** -40), 1 + 2 ** -8 + 2 ** -40, 2 ** -25 + 2 ** -60, 1e300, -1e-300];
  for (let i = 0; i < 500; i++) {
    const h = Math.floor(next() * 0x7bfe);
    const mid = (f16Decode(h) + f16Decode(h + 1)) / 2;
    doubles.push(mid * (1 + 2 ** -35), mid * (1 - 2 ** -35));
    const b = 1 + Math.floor(next() * 0x7f7e);
    const bmid = (bf16Decode(b) + bf16Decode(b + 1)) / 2;
    doubles.push(-bmid * (1 + 2 ** -35), bmid * (1 - 2 ** -35));
  }
  const nanBitsF16 = (raw: number) => ((raw >>> 16) & 0x8000) | 0x7e00 | ((raw >>> 13) & 0x3ff);
  const nanBitsBF16 = (raw: number) => (raw >>> 16) | 0x40;

  it('fromArray with doubles', () => {
    for (const [dtype, want] of [['F16', (x: number) => toF16(x, nanBitsF16)], ['BF16', (x: number) => toBF16(x, nanBitsBF16)]] as const) {
      const t = BitNetTensor.fromArray(Float64Array.from(doubles), undefined, dtype);
      const got = t.toTypedArray() as Uint16Array;
      for (let i = 0; i < doubles.length; i++) if (got[i] !== want(doubles[i]!)) throw new Error(`${dtype} of ${doubles[i]}: got 0x${got[i]!.toString(16)}, want 0x${want(doubles[i]!).toString(16)}`);
      t.dispose();
    }
  });

  it('I32 → BF16 casts (integers past 2^24 are not exact in float32)', () => {
    const ints = [16842753, -16842753, 33685505, 2 ** 30 + 2 ** 22 + 1, 2147483647, -2147483648, 16777217];
    for (let i = 0; i < 500; i++) ints.push(Math.floor((next() - 0.5) * 2 ** 32));
    const t = BitNetTensor.fromArray(Int32Array.from(ints), undefined, 'I32');
    const b = t.to('BF16');
    const got = b.toTypedArray() as Uint16Array;
    const want = Int32Array.from(ints);
    for (let i = 0; i < ints.length; i++) if (got[i] !== toBF16(want[i]!, nanBitsBF16)) throw new Error(`BF16 of ${want[i]}: got 0x${got[i]!.toString(16)}, want 0x${toBF16(want[i]!, nanBitsBF16).toString(16)}`);
    t.dispose();
    b.dispose();
  });
});

describe('ConversionEngine', () => {
  it('convert, batchConvert and metrics', () => {
    const engine = new ConversionEngine(new ConversionConfig(), pool);
    const a = BitNetTensor.fromArray([1.00048828125, 65520, -1e-8, NaN]);
    const h = engine.convert(a, 'F16');
    expect(Array.from(h.toTypedArray())).toEqual([0x3c00, 0x7c00, 0x8000, 0x7e00]);
    const [b1, b2] = engine.batchConvert([a, h], BitNetDType.BF16);
    expect(b1!.dtype.name).toBe('BF16');
    expect(b2!.toFlatArray()[0]).toBe(1);
    const m = engine.metrics;
    expect(m.conversions).toBe(3);
    expect(m.byKind['F32->BF16']).toBe(1);
    expect(m.bytesIn).toBe(16 + 16 + 8);
    for (const t of [a, h, b1!, b2!]) t.dispose();
  });

  it('zeroCopyConvert shares memory only when the bit layout is the same', () => {
    const engine = new ConversionEngine(undefined, pool);
    const b = BitNetTensor.fromArray([true, false, true]);
    const u = engine.zeroCopyConvert(b, 'U8');
    expect(u.storage).toBe(b.storage);
    expect(u.toArray()).toEqual([1, 0, 1]);
    expect(() => engine.zeroCopyConvert(b, 'F32')).toThrow(/changes the bit layout/);
    b.dispose();
    u.dispose();
  });

  it('inPlaceConvert narrows into the same block; refuses shared or widening cases', () => {
    const engine = new ConversionEngine(ConversionConfig.lowMemory(), pool);
    const values = Float32Array.from({ length: 70001 }, (_, i) => Math.sin(i) * 1000);
    const a = BitNetTensor.fromArray(values);
    const storage = a.storage;
    const h = engine.inPlaceConvert(a, 'F16');
    expect(a.isDisposed).toBe(true);
    expect(h.storage).toBe(storage);
    const want = new Uint16Array(values.length);
    getNative().tensorConvert('f32->f16', values, 0, want, 0, values.length);
    expect(Array.from(h.toTypedArray())).toEqual(Array.from(want));
    expect(() => engine.inPlaceConvert(h, 'F32')).toThrow(/cannot convert in place/);
    const view = h.narrow(0, 0, 10);
    expect(() => engine.inPlaceConvert(h, 'BF16')).toThrow(/references 2/);
    view.dispose();
    h.dispose();
  });

  it('streamingConvert yields between chunks and matches convert', async () => {
    const engine = new ConversionEngine(undefined, pool);
    using base = BitNetTensor.random([300, 77], { seed: 3 });
    const a = base.transpose();
    const progress: number[] = [];
    const s = await engine.streamingConvert(a, 'BF16', 4096, (p) => progress.push(p));
    const c = engine.convert(a, 'BF16');
    expect(Array.from(s.toTypedArray())).toEqual(Array.from(c.toTypedArray()));
    expect(progress.length).toBe(Math.ceil((300 * 77 * 4) / 4096));
    expect(progress.at(-1)).toBe(1);
    for (const t of [a, s, c]) t.dispose();
  });

  it('I8 with scale rounds half to even and saturates; highPrecision rejects lossy casts', () => {
    const engine = new ConversionEngine(undefined, pool);
    const a = BitNetTensor.fromArray([0.5, 1.5, 2.5, -2.5, 127, -1000]);
    const { tensor: q, scale } = engine.quantizeI8(a, { scale: 1 });
    expect(scale).toBe(1);
    expect(q.toArray()).toEqual([0, 2, 2, -2, 127, -127]);
    const auto = engine.quantizeI8(a);
    expect(auto.scale).toBeCloseTo(1000 / 127, 12);
    const back = engine.dequantizeI8(auto.tensor, auto.scale);
    expect(back.toFlatArray()[5]).toBeCloseTo(-1000, 3);
    const strict = new ConversionEngine(ConversionConfig.highPrecision(), pool);
    expect(() => strict.convert(a, 'F16')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DTYPE' }));
    const wide = strict.convert(q, 'I32');
    expect(wide.toArray()).toEqual([0, 2, 2, -2, 127, -127]);
    for (const t of [a, q, auto.tensor, back, wide]) t.dispose();
  });
});

describe('batchConvert and argument checks', () => {
  const live = () => pool.getMetrics().currentAllocated;

  it('a refused batch leaves every input as it was, even with in-place conversion (lowMemory)', () => {
    const engine = new ConversionEngine(ConversionConfig.lowMemory());
    const a = BitNetTensor.fromArray([1.5, 2.5, 3.5]);
    const b = BitNetTensor.fromArray([-1, 0.25], [2], 'F32');
    const packed = BitNetTensor.zeros([256], { dtype: 'TQ2_0' });
    const before = live();
    for (const list of [[a, b, packed], [a, null, b], [a, b, undefined]]) {
      expect(() => engine.batchConvert(list as BitNetTensor[], 'F16')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_BITNET_(DTYPE|INVALID_ARGUMENT)$/) }));
      expect(a.isDisposed || b.isDisposed).toBe(false);
      expect(a.dtype.name).toBe('F32');
      expect(a.toFlatArray()).toEqual([1.5, 2.5, 3.5]);
      expect(b.toFlatArray()).toEqual([-1, 0.25]);
      expect(live()).toBe(before);
    }
    // Bool → U8 is lossless and in place; I32 → U8 is refused by rejectLossy, after the Bool entry in the list.
    const lossy = new ConversionEngine(new ConversionConfig({ preferInPlace: true, rejectLossy: true }));
    const mask = BitNetTensor.fromArray([true, false, true]);
    const ints = BitNetTensor.fromArray([300, -1], [2], 'I32');
    expect(() => lossy.batchConvert([mask, ints], 'U8')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DTYPE' }));
    expect(mask.isDisposed).toBe(false);
    expect(mask.toArray()).toEqual([true, false, true]);
    expect(engine.metrics.conversions + lossy.metrics.conversions).toBe(0);
    for (const t of [a, b, packed, mask, ints]) t.dispose();
  });

  it('a tensor listed twice is converted (by copy) for each entry and stays usable', () => {
    const engine = new ConversionEngine(ConversionConfig.lowMemory());
    const a = BitNetTensor.fromArray([1, 0.1, -3]);
    const other = BitNetTensor.fromArray([4, 5]);
    const out = engine.batchConvert([a, other, a], 'F16');
    // binary16 bits, by hand: 1 = 0x3c00, 0.1 → 0x2e66, -3 = 0xc200; 4 = 0x4400, 5 = 0x4500.
    expect(out.map((t) => [...t.toTypedArray()])).toEqual([[0x3c00, 0x2e66, 0xc200], [0x4400, 0x4500], [0x3c00, 0x2e66, 0xc200]]);
    expect(a.isDisposed).toBe(false);
    expect(a.toFlatArray()).toEqual([1, Math.fround(0.1), -3]);
    expect(other.isDisposed).toBe(true); // the only entry for it: converted in place, as lowMemory asks
    expect(engine.metrics.inPlace).toBe(1);
    for (const t of [a, ...out]) t.dispose();
  });

  it('null or non-tensor arguments are typed errors', async () => {
    const engine = new ConversionEngine();
    const x = BitNetTensor.fromArray([1, 2]);
    for (const fn of [
      () => engine.convert(null as unknown as BitNetTensor, 'F16'),
      () => engine.zeroCopyConvert(undefined as unknown as BitNetTensor, 'F32'),
      () => engine.inPlaceConvert({} as BitNetTensor, 'F16'),
      () => engine.dequantizeI8(null as unknown as BitNetTensor, 1),
      () => engine.quantizeI8(x, null as unknown as { scale?: number }),
      () => engine.batchConvert(null as unknown as BitNetTensor[], 'F16'),
    ]) expect(fn).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    await expect(engine.streamingConvert(null as unknown as BitNetTensor, 'F16')).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    x.dispose();
    expect(() => engine.convert(x, 'F16')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
  });

  it('a batch whose in-place conversion cannot get its scratch memory leaves every input as it was', () => {
    const engine = new ConversionEngine(ConversionConfig.lowMemory());
    const a = BitNetTensor.fromArray([1.5, 2.5, 3.5, 4.5]);
    // b fills its pool: the first chunk of its in-place conversion has no room for scratch.
    const tight = new HybridMemoryPool({ memoryLimit: 4096, smallBlockThreshold: 1 << 20 });
    const b = BitNetTensor.zeros([1024], { pool: tight });
    expect(engine.canConvertInPlace(a, BitNetDType.F16) && engine.canConvertInPlace(b, BitNetDType.F16)).toBe(true);
    const live = pool.getMetrics().currentAllocated;
    expect(() => engine.batchConvert([a, b], 'F16')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY' }));
    // a used to be converted in place (and its result disposed) before b failed.
    expect(a.isDisposed).toBe(false);
    expect(a.dtype).toBe(BitNetDType.F32);
    expect(a.toFlatArray()).toEqual([1.5, 2.5, 3.5, 4.5]);
    expect(b.isDisposed).toBe(false);
    expect(pool.getMetrics().currentAllocated).toBe(live);
    a.dispose();
    b.dispose();
    tight.dispose();
  });

  it('inPlaceConvert on a pool that refuses its nth allocation: done completely or not at all', () => {
    // A pool that says no at a chosen allocation: each in-place conversion either finishes or leaves
    // its source intact (it used to take a scratch per chunk and fail half-converted).
    let count = 0;
    let refuseAt = Infinity;
    const refusing = {
      allocate: (size: number, alignment: number, device: string) => {
        if (++count >= refuseAt) throw new BitNetError(ErrorCode.OUT_OF_MEMORY, 'test pool', `refuses allocation ${count}`);
        return pool.allocate(size, alignment, device);
      },
      deallocate: (handle: Parameters<HybridMemoryPool['deallocate']>[0]) => pool.deallocate(handle),
    };
    const engine = new ConversionEngine({ chunkElements: 3 });
    const values = Array.from({ length: 10 }, (_, i) => (i - 4.3) * 1.7);
    for (const [from, to] of [['F32', 'F16'], ['F32', 'BF16'], ['F16', 'BF16'], ['BF16', 'F16'], ['I32', 'I8'], ['F32', 'I16']] as const) {
      for (let refuse = 1; refuse <= 4; refuse++) {
        refuseAt = Infinity;
        const source = BitNetTensor.fromArray(values, [10], from, 'cpu', refusing);
        const sourceBits = [...source.toTypedArray()];
        const reference = cast(source, BitNetDType.fromName(to));
        const want = [...reference.toTypedArray()];
        reference.dispose();
        refuseAt = count + refuse;
        try {
          const out = engine.inPlaceConvert(source, to);
          expect([...out.toTypedArray()]).toEqual(want);
          out.dispose();
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_BITNET_OUT_OF_MEMORY' });
          expect(source.isDisposed).toBe(false);
          expect([...source.toTypedArray()]).toEqual(sourceBits);
          source.dispose();
        }
      }
    }
  });

  it('ConversionEngine checks its config and pool; canConvertInPlace takes dtype names', () => {
    expect(() => new ConversionEngine({ chunkElements: 0, preferInPlace: true })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => new ConversionEngine({ preferInPlace: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => new ConversionConfig(5 as unknown as ConversionConfigOptions)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => new ConversionEngine(undefined, {} as unknown as HybridMemoryPool)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const engine = new ConversionEngine(null);
    expect(engine.config.chunkElements).toBe(1 << 20);
    const a = BitNetTensor.fromArray([1, 2]);
    expect(engine.canConvertInPlace(a, 'F16')).toBe(true);
    expect(engine.canConvertInPlace(a, 'I32')).toBe(true);
    expect(() => engine.canConvertInPlace(null as unknown as BitNetTensor, 'F16')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const h = engine.convert(a, 'F16');
    expect([...h.toTypedArray()]).toEqual([0x3c00, 0x4000]);
    a.dispose();
    expect(engine.canConvertInPlace(a, 'F16')).toBe(false);
    h.dispose();
  });
});
