import { describe, expect, it } from 'vitest';
import {
  BitNetDType,
  BitNetTensor,
  PackedTernaryTensor,
  TernaryTensor,
  convertTernary,
  dequantize158,
  dequantizeActivations,
  numberToF16,
  f16ToNumber,
  packTernary,
  quantize158,
  quantize1Bit,
  quantizeActivations,
  unpackTernary,
} from './index.js';
import { rng } from './testing/reference.js';

function randomValues(n: number, seed: number, amplitude = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * amplitude)); // exactly representable in F32 tensors
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Float64 absmean reference: scale per group of elements (keyed by groupOf), stored as float32. */
function absmeanReference(w: number[], groupOf: (i: number) => number, groups: number) {
  const sums = new Array<number>(groups).fill(0), counts = new Array<number>(groups).fill(0);
  w.forEach((v, i) => {
    sums[groupOf(i)] += Math.abs(v);
    counts[groupOf(i)]++;
  });
  const scales = sums.map((s, g) => Math.fround(Math.max(s / counts[g]!, 1e-5)));
  const values = w.map((v, i) => Math.max(-1, Math.min(1, roundHalfEven(v / scales[groupOf(i)]!))) + 0); // + 0: no -0
  return { scales, values };
}

function emulatedActivations(x: number[], rows: number, columns: number) {
  const values: number[] = [], scales: number[] = [];
  for (let n = 0; n < rows; n++) {
    const row = x.slice(n * columns, (n + 1) * columns).map(Math.fround);
    const absmax = Math.max(0, ...row.map(Math.abs));
    scales.push(absmax === 0 ? 0 : Math.fround(absmax / 127));
    const inverse = absmax === 0 ? 0 : Math.fround(127 / absmax);
    for (const v of row) values.push(absmax === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfEven(Math.fround(v * inverse)))));
  }
  return { values, scales };
}

const code = (e: unknown) => (e as { code?: string }).code;
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('quantize158 on tensors', () => {
  it('follows the absmean formula per tensor, row and group for a 3-D tensor', () => {
    const shape = [2, 3, 10];
    const data = randomValues(60, 1, 0.3);
    using w = BitNetTensor.fromArray(data, shape);
    using perTensor = quantize158(w);
    const ref = absmeanReference(data, () => 0, 1);
    expect(perTensor.shape).toEqual(shape);
    expect(perTensor.values.dtype).toBe(BitNetDType.I8);
    expect(perTensor.scales.shape).toEqual([]);
    expect(perTensor.values.toFlatArray()).toEqual(ref.values);
    expect(perTensor.scales.toFlatArray()).toEqual(ref.scales);

    using perRow = quantize158(w, { granularity: 'row' });
    const rowRef = absmeanReference(data, (i) => Math.floor(i / 10), 6);
    expect(perRow.scales.shape).toEqual([6]);
    expect(perRow.scales.toFlatArray()).toEqual(rowRef.scales);
    expect(perRow.values.toFlatArray()).toEqual(rowRef.values);

    using perGroup = quantize158(w, { granularity: 'group', groupSize: 4 });
    // 10 columns in groups of 4: 3 groups per row, the last one of 2 columns.
    const groupRef = absmeanReference(data, (i) => Math.floor(i / 10) * 3 + Math.floor((i % 10) / 4), 18);
    expect(perGroup.scales.shape).toEqual([6, 3]);
    expect(perGroup.scales.toFlatArray()).toEqual(groupRef.scales);
    expect(perGroup.values.toFlatArray()).toEqual(groupRef.values);
  });

  it('dequantizes as value × scale (the scale is the multiplier, not its inverse)', () => {
    using w = BitNetTensor.fromArray([[0.4, -0.05, -0.9], [0.2, 0.0, -0.2]]);
    using q = quantize158(w, { scale: 0.25 });
    expect(q.values.toArray()).toEqual([[1, 0, -1], [1, 0, -1]]);
    using d = dequantize158(q);
    expect(d.toArray()).toEqual([[0.25, 0, -0.25], [0.25, 0, -0.25]]);
    using rowScales = BitNetTensor.fromArray([0.5, 0.1]);
    using q2 = quantize158(w, { granularity: 'row', scale: rowScales });
    expect(q2.values.toArray()).toEqual([[1, 0, -1], [1, 0, -1]]);
    expect(q2.scales.toFlatArray()).toEqual([0.5, Math.fround(0.1)]);
  });

  it('reads any view and float dtype in logical order', () => {
    const data = randomValues(12, 2);
    using w = BitNetTensor.fromArray(data, [3, 4]);
    using t = w.transpose(0, 1); // [4, 3], non-contiguous
    using copy = t.contiguous(); // a copy: t is not contiguous
    using a = quantize158(t, { granularity: 'row' });
    using b = quantize158(copy, { granularity: 'row' });
    expect(a.values.toFlatArray()).toEqual(b.values.toFlatArray());
    expect(a.scales.toFlatArray()).toEqual(b.scales.toFlatArray());
    using half = w.to('F16');
    using h = quantize158(half);
    const ref = absmeanReference(half.toFlatArray(), () => 0, 1);
    expect(h.values.toFlatArray()).toEqual(ref.values);
  });

  it('rejects NaN/Inf, 0-d, integer and disposed inputs with typed errors', () => {
    using nan = BitNetTensor.fromArray([[1, NaN]]);
    const e = errorOf(() => quantize158(nan));
    expect(code(e)).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(String(e)).toContain('row 0, column 1 is NaN');
    using inf = BitNetTensor.fromArray([Infinity, 1]);
    expect(code(errorOf(() => quantize158(inf)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    using scalar = BitNetTensor.full([], 1);
    expect(code(errorOf(() => quantize158(scalar)))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    using ints = BitNetTensor.fromArray([1, 2], [2], 'I32');
    expect(code(errorOf(() => quantize158(ints)))).toBe('ERR_BITNET_DTYPE');
    const gone = BitNetTensor.fromArray([1, 2]);
    gone.dispose();
    expect(code(errorOf(() => quantize158(gone)))).toBe('ERR_BITNET_DISPOSED');
    using w = BitNetTensor.fromArray([[1, 2]]);
    expect(code(errorOf(() => quantize158(w, { granularity: 'row', scale: Float32Array.of(1, 2) })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    expect(code(errorOf(() => quantize158(w, { scale: -1 })))).toBe('ERR_BITNET_OUT_OF_RANGE');
  });

  it('1-bit sign quantization: sign(W − mean W), scale mean|W|', () => {
    using w = BitNetTensor.fromArray([[0.4, -0.2], [0.1, 0.5]]);
    using q = quantize1Bit(w);
    // mean = 0.2: 0.4 → +1, -0.2 → -1, 0.1 → -1, 0.5 → +1; scale = 1.2 / 4.
    expect(q.values.toArray()).toEqual([[1, -1], [-1, 1]]);
    expect(q.scales.item()).toBe(Math.fround(0.3));
    using perRow = quantize1Bit(w, { granularity: 'row' });
    expect(perRow.values.toArray()).toEqual([[1, -1], [-1, 1]]);
    expect(perRow.scales.toFlatArray()).toEqual([Math.fround(0.3), Math.fround(0.3)]);
  });

  it('dispose frees both tensors and later use throws DisposedError', () => {
    using w = BitNetTensor.fromArray([[1, -1]]);
    const q = quantize158(w);
    const values = q.values;
    q.dispose();
    q.dispose();
    expect(values.isDisposed).toBe(true);
    expect(code(errorOf(() => q.values))).toBe('ERR_BITNET_DISPOSED');
    expect(code(errorOf(() => q.dequantize()))).toBe('ERR_BITNET_DISPOSED');
  });
});

describe('activation quantization on tensors', () => {
  it('quantizes per token over any leading axes and dequantizes within half a step', () => {
    const data = randomValues(2 * 3 * 17, 3, 5);
    data.fill(0, 17, 34); // an all-zero token
    using x = BitNetTensor.fromArray(data, [2, 3, 17]);
    using q = quantizeActivations(x);
    expect(q.values.shape).toEqual([2, 3, 17]);
    expect(q.scales.shape).toEqual([2, 3]);
    const ref = emulatedActivations(data, 6, 17);
    expect(q.values.toFlatArray()).toEqual(ref.values);
    expect(q.scales.toFlatArray()).toEqual(ref.scales);
    using back = dequantizeActivations(q);
    const b = back.toFlatArray();
    data.forEach((v, i) => expect(Math.abs(b[i]! - Math.fround(v))).toBeLessThanOrEqual(ref.scales[Math.floor(i / 17)]! / 2 + 1e-7));
  });

  it('rejects NaN with the token and column', () => {
    using x = BitNetTensor.fromArray([[1, 2], [3, NaN]]);
    const e = errorOf(() => quantizeActivations(x));
    expect(code(e)).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(String(e)).toContain('token 1, column 1');
  });
});

describe('packed ternary tensors', () => {
  function ternary(rows: number, columns: number, seed: number): TernaryTensor {
    using w = BitNetTensor.fromArray(randomValues(rows * columns, seed), [rows, columns]);
    return quantize158(w, { granularity: 'row' });
  }

  it('TQ2_0 bytes follow the documented layout (hand-computed from the values)', () => {
    using q = ternary(2, 512, 4);
    using packed = packTernary(q, 'tq2_0');
    expect(packed.dtype).toBe(BitNetDType.TQ2_0);
    using t = packed.toTensor();
    expect(t.dtype).toBe(BitNetDType.TQ2_0);
    expect(t.shape).toEqual([2, 512]);
    expect(t.byteSize).toBe(2 * 2 * 66);
    const bytes = t.rawBytes().subarray(0, t.byteSize);
    const values = q.values.toFlatArray(), scales = q.scales.toFlatArray();
    for (let r = 0; r < 2; r++)
      for (let b = 0; b < 2; b++) {
        const base = (r * 2 + b) * 66;
        for (let c = 0; c < 2; c++)
          for (let m = 0; m < 32; m++) {
            let expected = 0;
            for (let s = 0; s < 4; s++) expected |= (values[r * 512 + b * 256 + 128 * c + m + 32 * s]! + 1) << (2 * s);
            expect(bytes[base + 32 * c + m]).toBe(expected);
          }
        expect(bytes[base + 64]! | (bytes[base + 65]! << 8)).toBe(numberToF16(scales[r]!));
      }
  });

  it('converts exactly between i2_r4, TQ2_0 and TQ1_0 and through tensors of their dtypes', () => {
    using q = ternary(9, 768, 5);
    using i2 = q.pack();
    expect(i2.layout).toBe('i2_r4');
    expect(i2.dtype).toBe(BitNetDType.I2);
    using tq2 = convertTernary(i2, 'tq2_0');
    using tq1 = tq2.convert('tq1_0');
    using back = tq1.convert('i2_r4');
    const values = q.values.toFlatArray();
    for (const p of [i2, tq2, tq1, back]) {
      using u = unpackTernary(p);
      expect(u.values.toFlatArray()).toEqual(values);
    }
    // i2_r4 keeps float32 row scales; ggml blocks hold them as fp16.
    const fp16 = q.scales.toFlatArray().map((s) => f16ToNumber(numberToF16(s)));
    expect(back.rowScales).toEqual(Float32Array.from(fp16));
    expect(i2.rowScales).toEqual(q.scales.toTypedArray());
    using u2 = tq2.unpack();
    expect(u2.granularity).toBe('group');
    expect(u2.scales.shape).toEqual([9, 3]);
    // Through tensors: I2 (padded shape) and TQ1_0.
    using i2t = i2.toTensor();
    expect(i2t.dtype).toBe(BitNetDType.I2);
    expect(i2t.shape).toEqual([12, 768]);
    using i2again = PackedTernaryTensor.fromTensor(i2t, { rows: 9, columns: 768, scales: i2.rowScales });
    expect(i2again.packed.data).toEqual(i2.packed.data);
    using tq1t = tq1.toTensor();
    using tq1again = PackedTernaryTensor.fromTensor(tq1t);
    expect(tq1again.packed.data).toEqual(tq1.packed.data);
    using asU8 = BitNetTensor.fromBytes(tq2.packed.data, [tq2.byteLength], 'U8');
    using tq2again = PackedTernaryTensor.fromTensor(asU8, { layout: 'tq2_0', rows: 9, columns: 768 });
    using d1 = tq2again.dequantize();
    expect(d1.toFlatArray()).toEqual(values.map((v, i) => Math.fround(v * fp16[Math.floor(i / 768)]!) + 0));
  });

  it('packs odd shapes in i2_r4 (k not a multiple of 256, one row)', () => {
    for (const [rows, columns] of [[1, 1], [1, 300], [5, 257], [3, 1000]] as const) {
      using q = ternary(rows, columns, rows * columns);
      using p = q.pack();
      using u = p.unpack();
      expect(u.values.toFlatArray()).toEqual(q.values.toFlatArray());
      using d = p.dequantize();
      using e = q.dequantize();
      expect(d.toFlatArray()).toEqual(e.toFlatArray());
    }
  });

  it('rejects wrong dtypes, shapes and corrupt bytes with typed errors', () => {
    using q = ternary(4, 300, 6);
    expect(code(errorOf(() => q.pack('tq2_0')))).toBe('ERR_BITNET_UNSUPPORTED');
    expect(code(errorOf(() => q.pack('q4_0' as 'tq2_0')))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    using f = BitNetTensor.zeros([4, 256]);
    expect(code(errorOf(() => PackedTernaryTensor.fromTensor(f)))).toBe('ERR_BITNET_DTYPE');
    using short = BitNetTensor.zeros([100], { dtype: 'U8' });
    expect(code(errorOf(() => PackedTernaryTensor.fromTensor(short, { layout: 'tq2_0', rows: 1, columns: 256 })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    // TQ2_0 code 3 (value 2) does not exist.
    const bytes = new Uint8Array(66).fill(0xff);
    using bad = BitNetTensor.fromBytes(bytes, [1, 256], 'TQ2_0');
    const e = errorOf(() => PackedTernaryTensor.fromTensor(bad));
    expect(code(e)).toMatch(/^ERR_BITNET_/);
    using i2 = q.pack();
    using i2t = i2.toTensor();
    expect(code(errorOf(() => PackedTernaryTensor.fromTensor(i2t, { rows: 4, columns: 300 })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    expect(code(errorOf(() => PackedTernaryTensor.fromTensor(i2t, { rows: 5, columns: 300, scales: new Float32Array(5) })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
  });

  it('dispose frees the native memory; use after dispose throws', () => {
    using q = ternary(4, 256, 7);
    const p = q.pack('tq1_0');
    p.dispose();
    p[Symbol.dispose]();
    expect(p.disposed).toBe(true);
    expect(code(errorOf(() => p.toTensor()))).toBe('ERR_BITNET_DISPOSED');
    expect(code(errorOf(() => p.convert('i2_r4')))).toBe('ERR_BITNET_DISPOSED');
  });
});

describe('packed views and argument checks', () => {
  it('PackedTernaryTensor.fromTensor reads a row view of TQ2_0/TQ1_0 bytes as that row', () => {
    for (const layout of ['tq2_0', 'tq1_0'] as const) {
      using w = BitNetTensor.fromArray(randomValues(6 * 512, 21), [6, 512]);
      using q = quantize158(w, { granularity: 'row' });
      using packed = q.pack(layout);
      using bytes = packed.toTensor();
      // Reference: value × fp16(row scale), from the unpacked tensor values (independent of the view).
      const values = q.values.toFlatArray(), scales = q.scales.toFlatArray();
      for (const r of [1, 4]) {
        using row = bytes.narrow(0, r, 1);
        using one = PackedTernaryTensor.fromTensor(row);
        using d = one.dequantize();
        const scale = f16ToNumber(numberToF16(scales[r]!));
        expect(d.toFlatArray()).toEqual(values.slice(r * 512, (r + 1) * 512).map((v) => Math.fround(v * scale) + 0));
      }
      using flat = bytes.view([6 * 512]);
      using inside = flat.narrow(0, 100, 256); // starts inside a block
      using mid = inside.unsqueeze(0);
      expect(code(errorOf(() => PackedTernaryTensor.fromTensor(mid)))).toBe('ERR_BITNET_DTYPE');
    }
  });

  it('an I2 view must start on a tile of 4 rows; one that does reads those rows', () => {
    using w = BitNetTensor.fromArray(randomValues(8 * 512, 22), [8, 512]);
    using q = quantize158(w, { granularity: 'row' });
    using packed = q.pack('i2_r4');
    using i2 = packed.toTensor(); // [8, 512]
    const scales = packed.rowScales!;
    using tile = i2.narrow(0, 4, 4);
    using second = PackedTernaryTensor.fromTensor(tile, { rows: 4, columns: 512, scales: scales.slice(4, 8) });
    using u = second.unpack();
    expect(u.values.toFlatArray()).toEqual(q.values.toFlatArray().slice(4 * 512));
    using shifted = i2.narrow(0, 2, 4); // rows 2..5 splice two tiles
    const e = errorOf(() => PackedTernaryTensor.fromTensor(shifted, { rows: 4, columns: 512, scales: scales.slice(2, 6) }));
    expect(code(e)).toBe('ERR_BITNET_SHAPE_MISMATCH');
    expect(String(e)).toContain('must start on a tile of 4 rows × 512 columns');
  });

  it('quantize158 checks the shape of a scale tensor, not only its element count', () => {
    using w = BitNetTensor.fromArray(randomValues(2 * 3 * 512, 23), [2, 3, 512]);
    using wrong = BitNetTensor.fromArray([0.5, 0.25, 0.125, 1, 2, 4], [2, 3]); // 6 elements, as [rows] = [6] needs
    const e = errorOf(() => quantize158(w, { granularity: 'row', scale: wrong }));
    expect(code(e)).toBe('ERR_BITNET_SHAPE_MISMATCH');
    expect(String(e)).toContain('scale tensor has shape [2, 3]; the scales of these weights have shape [6]');
    using grouped = BitNetTensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 6]);
    expect(code(errorOf(() => quantize158(w, { granularity: 'group', groupSize: 256, scale: grouped })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    // One per-tensor scale: [] or [1] alike; [1, 1] names a shape of its own.
    using scalar = BitNetTensor.fromArray([0.5], [1]);
    using perTensor = quantize158(w, { scale: scalar });
    expect(perTensor.scales.toFlatArray()).toEqual([0.5]);
    using square = BitNetTensor.fromArray([0.5], [1, 1]);
    expect(code(errorOf(() => quantize158(w, { scale: square })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    // The right shape is used as given: value = clamp(round(w / scale)), scale stored as is.
    using right = BitNetTensor.fromArray([0.5, 0.25, 0.125, 1, 2, 4], [6]);
    using q = quantize158(w, { granularity: 'row', scale: right });
    expect(q.scales.toFlatArray()).toEqual([0.5, 0.25, 0.125, 1, 2, 4]);
    const data = w.toFlatArray();
    expect(q.values.toFlatArray()).toEqual(data.map((v, i) => Math.max(-1, Math.min(1, roundHalfEven(v / [0.5, 0.25, 0.125, 1, 2, 4][Math.floor(i / 512)]!))) + 0));
  });

  it('TernaryTensor.fromTernaryWeights(null) is a typed error', () => {
    for (const bad of [null, undefined, 5]) expect(code(errorOf(() => TernaryTensor.fromTernaryWeights(bad as never)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
  });
});
