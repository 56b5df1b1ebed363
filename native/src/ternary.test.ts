import { describe, expect, it } from 'vitest';
import {
  PackedTernary,
  convertTernary,
  denseMatmulF32,
  denseMatmulF32Async,
  dequantize158,
  dequantizeActivations,
  getNative,
  packTernary,
  packedTernaryBytes,
  quantize158,
  quantize1Bit,
  quantizeActivations,
  ternaryKernelTiers,
  ternaryMatmul,
  ternaryMatmulAsync,
  ternaryMatmulInt8,
  unpackTernary,
  type TernaryTier,
  type TernaryWeights,
} from './index.js';

// Deterministic pseudo-random numbers (tests must not flake).
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomTernary(rows: number, columns: number, seed: number, scale = 0.02): TernaryWeights {
  const r = rng(seed);
  const values = new Int8Array(rows * columns);
  for (let i = 0; i < values.length; i++) values[i] = Math.floor(r() * 3) - 1;
  const scales = new Float32Array(rows);
  for (let i = 0; i < rows; i++) scales[i] = scale * (1 + r());
  return { rows, columns, values, scales, granularity: 'row', groupSize: null };
}

function randomInt8(length: number, seed: number): Int8Array {
  const r = rng(seed);
  const out = new Int8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(r() * 255) - 127;
  return out;
}

function randomFloats(length: number, seed: number, amplitude = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (r() * 2 - 1) * amplitude;
  return out;
}

/** Exact integer reference, independent of every native kernel. */
function intReference(w: TernaryWeights, xq: Int8Array, batch: number): Int32Array {
  const out = new Int32Array(batch * w.rows);
  for (let n = 0; n < batch; n++)
    for (let r = 0; r < w.rows; r++) {
      let sum = 0;
      for (let c = 0; c < w.columns; c++) sum += w.values[r * w.columns + c] * xq[n * w.columns + c];
      out[n * w.rows + r] = sum;
    }
  return out;
}

/** The documented activation quantizer, emulating float32 with Math.fround. */
function activationReference(x: Float32Array, rows: number, columns: number) {
  const values = new Int8Array(rows * columns);
  const scales = new Float32Array(rows);
  for (let n = 0; n < rows; n++) {
    let absmax = 0;
    for (let c = 0; c < columns; c++) absmax = Math.max(absmax, Math.abs(x[n * columns + c]));
    if (absmax === 0) continue;
    const inverse = Math.fround(127 / absmax);
    scales[n] = Math.fround(absmax / 127);
    for (let c = 0; c < columns; c++) {
      const v = Math.fround(x[n * columns + c] * inverse);
      let q = Math.round(v);
      if (Math.abs(v % 1) === 0.5 && q % 2 !== 0) q -= 1; // half to even
      values[n * columns + c] = Math.max(-127, Math.min(127, q));
    }
  }
  return { values, scales };
}

const tiers: TernaryTier[] = ternaryKernelTiers().supported;

describe('quantize158', () => {
  it('follows the absmean formula on a hand-computed tensor', () => {
    // mean|W| = (0.5 + 1 + 0.1 + 2) / 4 = 0.9; W / 0.9 = 0.556, -1.111, 0.111, 2.222
    const q = quantize158(Float32Array.of(0.5, -1.0, 0.1, 2.0), 2, 2);
    expect(Array.from(q.values)).toEqual([1, -1, 0, 1]);
    expect(q.scales[0]).toBe(Math.fround(0.9));
    expect(q.granularity).toBe('tensor');
    expect(Array.from(dequantize158(q))).toEqual([Math.fround(0.9), -Math.fround(0.9), 0, Math.fround(0.9)]);
  });

  it('matches a float64 reference per tensor, row and group', () => {
    const rows = 6, columns = 40;
    const w = randomFloats(rows * columns, 7, 0.3);
    for (const [granularity, groupSize] of [['tensor', null], ['row', null], ['group', 16]] as const) {
      const q = quantize158(w, rows, columns, { granularity, groupSize: groupSize ?? undefined });
      const groupOf = (r: number, c: number) =>
        granularity === 'tensor' ? 0 : granularity === 'row' ? r : r * Math.ceil(columns / 16) + Math.floor(c / 16);
      const sums = new Map<number, [number, number]>();
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns; c++) {
          const g = groupOf(r, c);
          const [s, n] = sums.get(g) ?? [0, 0];
          sums.set(g, [s + Math.abs(w[r * columns + c]), n + 1]);
        }
      expect(q.scales.length).toBe(sums.size);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns; c++) {
          const [s, n] = sums.get(groupOf(r, c))!;
          const scale = Math.fround(s / n);
          expect(q.scales[groupOf(r, c)]).toBe(scale);
          const expected = Math.max(-1, Math.min(1, Math.round(w[r * columns + c] / scale))) + 0; // no -0
          expect(q.values[r * columns + c]).toBe(expected);
        }
    }
  });

  it('clamps the scale at epsilon for an all-zero tensor and honours a given scale', () => {
    const zero = quantize158(new Float32Array(8), 2, 4);
    expect(zero.scales[0]).toBe(Math.fround(1e-5));
    expect(Array.from(zero.values)).toEqual(new Array(8).fill(0));
    const fixed = quantize158(Float32Array.of(0.3, -0.2, 0.04, 0.6), 1, 4, { scale: 0.25 });
    expect(Array.from(fixed.values)).toEqual([1, -1, 0, 1]);
    expect(fixed.scales[0]).toBe(0.25);
  });

  it('rounds half to even', () => {
    // 0.5 / 1 → 0 (even), 1.5 → 2 → clamp 1, -0.5 → -0
    const q = quantize158(Float64Array.of(0.5, 1.5, -0.5, 1), 1, 4, { scale: 1 });
    expect(Array.from(q.values)).toEqual([0, 1, 0, 1]);
  });

  it('rejects NaN/Inf weights, bad shapes and dtypes with typed errors', () => {
    expect(() => quantize158(Float32Array.of(1, NaN), 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringContaining('column 1 is NaN') }));
    expect(() => quantize158(Float32Array.of(Infinity, 1), 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => quantize158(new Float32Array(5), 2, 2)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    expect(() => quantize158(new Int8Array(4) as unknown as Float32Array, 2, 2)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DTYPE' }));
    expect(() => quantize158(new Float32Array(4), 2, 2, { granularity: 'group', groupSize: 0 })).toThrow(RangeError);
    expect(() => quantize158(new Float32Array(4), 2, 2, { granularity: 'row', scale: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
  });
});

describe('quantize1Bit', () => {
  it('is sign(W - mean W) with scale mean|W|', () => {
    // mean = (0.4 - 0.2 + 0.1 + 0.5) / 4 = 0.2; mean|W| = 0.3
    const q = quantize1Bit(Float32Array.of(0.4, -0.2, 0.1, 0.5), 1, 4);
    expect(Array.from(q.values)).toEqual([1, -1, -1, 1]);
    expect(q.scales[0]).toBeCloseTo(0.3, 6);
    const perRow = quantize1Bit(Float32Array.of(1, 3, -1, -3), 2, 2, { granularity: 'row' });
    expect(Array.from(perRow.values)).toEqual([-1, 1, 1, -1]);
    expect(Array.from(perRow.scales)).toEqual([2, 2]);
  });
});

describe('activation quantization', () => {
  it('equals the documented float32 formula, and dequantizes within half a step', () => {
    const rows = 3, columns = 77;
    const x = randomFloats(rows * columns, 11, 4);
    x.fill(0, columns, 2 * columns); // an all-zero token
    const q = quantizeActivations(x, rows, columns);
    const ref = activationReference(x, rows, columns);
    expect(q.values).toEqual(ref.values);
    expect(q.scales).toEqual(ref.scales);
    expect(q.scales[1]).toBe(0);
    const back = dequantizeActivations(q);
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(q.scales[Math.floor(i / columns)] * 0.5 + 1e-7);
  });

  it('quantizes tokens too small for 127 / absmax in float32 (below ~3.7e-37, subnormals included)', () => {
    // 127 / absmax overflows to Infinity there (0 · Infinity is NaN): the codes must still be the formula's.
    const x = Float32Array.of(1e-37, -1e-37, 0, 3e-38, 1e-40, 0, -3e-41, 2e-41);
    const q = quantizeActivations(x, 2, 4);
    for (let n = 0; n < 2; n++) {
      const row = Array.from(x.subarray(4 * n, 4 * n + 4));
      const absmax = Math.max(...row.map(Math.abs));
      expect(Array.from(q.values.subarray(4 * n, 4 * n + 4))).toEqual(row.map((v) => Math.round((v * 127) / absmax)));
      expect(q.scales[n]).toBe(Math.fround(absmax / 127));
    }
    expect(Array.from(q.values.subarray(0, 4))).toEqual([127, -127, 0, 38]);
  });

  it('rejects NaN and Inf with the token and column', () => {
    const x = new Float32Array(6);
    x[4] = NaN;
    expect(() => quantizeActivations(x, 2, 3)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringContaining('token 1, column 1 is NaN') }));
    x[4] = -Infinity;
    expect(() => quantizeActivations(x, 2, 3)).toThrow(RangeError);
  });
});

describe('packed layouts', () => {
  it('TQ2_0 matches a hand-computed block', () => {
    const values = new Int8Array(256);
    values[0] = 1; // byte 0 bits 0-1 → code 2
    values[32] = -1; // byte 0 bits 2-3 → code 0
    values[64] = 1; // byte 0 bits 4-5 → code 2
    values[128] = -1; // byte 32 bits 0-1 → code 0
    const packed = packTernary({ rows: 1, columns: 256, values, scales: Float32Array.of(1), granularity: 'tensor', groupSize: null }, 'tq2_0');
    const expected = new Uint8Array(66).fill(0x55);
    expected[0] = 0x62; // 2 | 0 << 2 | 2 << 4 | 1 << 6
    expected[32] = 0x54; // 0 | 1 << 2 | 1 << 4 | 1 << 6
    expected[64] = 0x00; // fp16 1.0 = 0x3c00, little-endian
    expected[65] = 0x3c;
    expect(packed.data).toEqual(expected);
  });

  it('TQ1_0 matches a hand-computed block', () => {
    const values = new Int8Array(256);
    values[0] = 1; // qs[0], most significant trit: 2·81 + 27 + 9 + 3 + 1 = 202 → ceil(202·256/243) = 213
    values[160] = -1; // qs[32], top trit 0: 40 → ceil(40·256/243) = 43
    values[255] = 1; // qh[3] (255 = 240 + 3 + 4·3), 4th trit: (27 + 9 + 3 + 2)·3 = 123 → 130
    const packed = packTernary({ rows: 1, columns: 256, values, scales: Float32Array.of(0.5), granularity: 'tensor', groupSize: null }, 'tq1_0');
    const expected = new Uint8Array(54);
    expected.fill(0x80, 0, 48); // 11111₃ = 121 → ceil(121·256/243) = 128
    expected.fill(0x7f, 48, 52); // 1111₃·3 = 120 → ceil(120·256/243) = 127
    expected[0] = 213;
    expected[32] = 43;
    expected[51] = 130;
    expected[52] = 0x00; // fp16 0.5 = 0x3800
    expected[53] = 0x38;
    expect(packed.data).toEqual(expected);
    expect(packedTernaryBytes('tq1_0', 3, 512)).toBe(3 * 2 * 54);
  });

  it('i2_r4 places row blocks in tiles of 4 rows', () => {
    // 5 rows × 300 columns: 2 tiles × 2 blocks × 4 rows × 64 bytes.
    const w = randomTernary(5, 300, 3);
    const packed = packTernary(w);
    expect(packed.data.length).toBe(2 * 2 * 4 * 64);
    // Row 4 (tile 1, row 0), block 1, byte 0 = elements 256, 288, 320, 352 (only 256 and 288 exist).
    const code = (c: number) => (c < 300 ? w.values[4 * 300 + c] + 1 : 1);
    expect(packed.data[((1 * 2 + 1) * 4 + 0) * 64]).toBe(code(256) | (code(288) << 2) | (code(320) << 4) | (code(352) << 6));
    // Padding row 7 is all zero weights (code 1).
    expect(packed.data[((1 * 2 + 0) * 4 + 3) * 64 + 5]).toBe(0x55);
    // Row 2 block 0 equals the TQ2_0 code bytes of that row.
    const tq = packTernary({ ...w, values: w.values.slice(0, 5 * 256), columns: 256, scales: w.scales }, 'tq2_0');
    const i2 = packTernary({ ...w, values: w.values.slice(0, 5 * 256), columns: 256, scales: w.scales });
    expect(i2.data.subarray(2 * 64, 3 * 64)).toEqual(tq.data.subarray(2 * 66, 2 * 66 + 64));
  });

  it('round-trips exactly between all layouts', () => {
    const w = randomTernary(9, 768, 5);
    w.scales = w.scales.map((s) => Math.fround(s)); // fp16 loses scale bits; codes never change
    const i2 = packTernary(w);
    const back = unpackTernary(i2);
    expect(back.values).toEqual(w.values);
    expect(back.scales).toEqual(w.scales);
    const tq2 = convertTernary(i2, 'tq2_0');
    const tq1 = convertTernary(tq2, 'tq1_0');
    const tq2again = convertTernary(tq1, 'tq2_0');
    expect(tq2again.data).toEqual(tq2.data);
    expect(unpackTernary(tq1).values).toEqual(w.values);
    const i2again = convertTernary(tq1, 'i2_r4');
    expect(i2again.data).toEqual(i2.data);
    // Scales went through fp16: equal to the fp16 rounding of the originals.
    const halves = getNative().float32ToFloat16Bits as (v: Float32Array) => Uint16Array;
    const h = halves(w.scales);
    const tqScales = unpackTernary(tq2).scales;
    for (let r = 0; r < w.rows; r++) {
      expect(tqScales[r * 3]).toBe(tqScales[r * 3 + 2]);
      expect(halves(Float32Array.of(tqScales[r * 3]))[0]).toBe(h[r]);
      expect(Math.abs(tqScales[r * 3] - w.scales[r]) / w.scales[r]).toBeLessThanOrEqual(2 ** -11);
    }
  });

  it('round-trips odd shapes in i2_r4 (k not a multiple of 256, m = 1, empty)', () => {
    for (const [rows, columns] of [[1, 1], [1, 257], [3, 5], [4, 1000], [0, 7], [2, 0]]) {
      const w = randomTernary(rows, columns, rows * 31 + columns);
      const back = unpackTernary(packTernary(w));
      expect(back.values).toEqual(w.values);
    }
  });

  it('rejects bad values, unsupported shapes and corrupt data with typed errors', () => {
    const w = randomTernary(2, 256, 1);
    w.values[300] = 2;
    expect(() => packTernary(w)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringContaining('got 2 at row 1, column 44') }));
    expect(() => packTernary(randomTernary(2, 300, 1), 'tq2_0')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    const corrupt = packTernary(randomTernary(1, 256, 2), 'tq2_0').data.slice();
    corrupt[3] = 0xff; // code 3
    expect(() => PackedTernary.fromBytes('tq2_0', 1, 256, corrupt)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT' }));
    expect(() => PackedTernary.fromBytes('tq2_0', 1, 256, corrupt.subarray(1))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    const grouped: TernaryWeights = { ...randomTernary(1, 512, 3), granularity: 'group', groupSize: 256, scales: Float32Array.of(1, 2) };
    expect(packTernary(grouped).groupSize).toBe(256);
    expect(() => packTernary(grouped, 'tq2_0')).not.toThrow();
    expect(() => packTernary({ ...grouped, groupSize: 128, scales: new Float32Array(4).fill(1) }, 'tq2_0')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    // Scales that differ inside a 256-column block cannot be an i2_r4 group.
    expect(() => packTernary({ ...grouped, groupSize: 128, scales: Float32Array.of(1, 2, 1, 2) })).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED', message: expect.stringContaining('row 0 has group scales 1 and 2 in groups of 128 columns') }),
    );
  });

  it('refuses block scales fp16 cannot hold to 2^-11 unless the block is all zeros (ggml d = 0 there); exact fp16 subnormals pack', () => {
    for (const layout of ['tq2_0', 'tq1_0'] as const) {
      const w: TernaryWeights = { ...randomTernary(1, 512, 5), granularity: 'tensor', groupSize: null, scales: Float32Array.of(5e-8) };
      // Stored as fp16 5e-8 would come back 14% off (and 3e-8 as 0): an error, not a silently wrong layer.
      expect(() => packTernary(w, layout)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: expect.stringContaining('block scale 5.00000006e-08 at row 0, block 0 would be stored as 5.96046448e-08') }));
      expect(() => packTernary({ ...w, scales: Float32Array.of(65520) }, layout)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: expect.stringContaining('does not fit fp16') }));
      // Exact fp16 values pack exactly, subnormals included (ggml writes d = 0x01f7 for a block of absmax ≈ 3e-5);
      // the smallest normal fp16 and up keep the documented bound; 65510 rounds to 65504 (within 2^-11).
      for (const [scale, stored] of [[0x01f7 * 2 ** -24, 0x01f7 * 2 ** -24], [2 ** -24, 2 ** -24], [6.103515625e-5, 6.103515625e-5], [65510, 65504]]) {
        const packed = packTernary({ ...w, scales: Float32Array.of(scale!) }, layout);
        expect(unpackTernary(packed).scales[0]).toBe(stored);
        packed.dispose();
      }
      // quantize158 gives an all-zero tensor the scale 1e-5: its blocks never use it, so they pack, with d = 0 as ggml.
      const zeros = quantize158(new Float32Array(512), 1, 512);
      expect(zeros.scales[0]).toBeCloseTo(1e-5, 10);
      const packed = packTernary(zeros, layout);
      expect(unpackTernary(packed).values).toEqual(new Int8Array(512));
      const blockBytes = layout === 'tq2_0' ? 66 : 54;
      for (const block of [0, 1]) expect([packed.data[block * blockBytes + blockBytes - 2], packed.data[block * blockBytes + blockBytes - 1]]).toEqual([0, 0]);
      packed.dispose();
      // A used block next to an all-zero one: the zero block's d is 0, the used block's is its scale.
      const half = { ...w, scales: Float32Array.of(0.25), values: w.values.slice() };
      half.values.fill(0, 0, 256);
      const mixed = packTernary(half, layout);
      expect([mixed.data[blockBytes - 2], mixed.data[blockBytes - 1]]).toEqual([0, 0]);
      expect(mixed.data[2 * blockBytes - 1]! << 8 | mixed.data[2 * blockBytes - 2]!).toBe(0x3400); // fp16 0.25
      mixed.dispose();
    }
  });

  it('reports NaN or infinite fp16 block scales when the bytes are read', () => {
    const good = packTernary(randomTernary(2, 256, 6), 'tq2_0');
    for (const [bits, what] of [[0x7e00, 'NaN'], [0x7c00, 'infinite'], [0xfc00, 'infinite']] as const) {
      const bytes = good.data.slice();
      bytes[66 + 64] = bits & 0xff; // row 1's block: its fp16 scale after 64 code bytes
      bytes[66 + 65] = bits >> 8;
      expect(() => PackedTernary.fromBytes('tq2_0', 2, 256, bytes)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT', message: `[unpackTernary] block scale at row 1, block 0 is ${what}` }));
    }
    const tq1 = convertTernary(good, 'tq1_0');
    const bytes = tq1.data.slice();
    bytes[52] = 0x00; // row 0's fp16 scale after 48 + 4 code bytes
    bytes[53] = 0x7e;
    expect(() => PackedTernary.fromBytes('tq1_0', 2, 256, bytes)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT', message: '[unpackTernary] block scale at row 0, block 0 is NaN' }));
    good.dispose();
    tq1.dispose();
  });

  it('accepts group scales that agree per row, ignoring all-zero groups (ggml d = 0)', () => {
    const w = randomTernary(1, 512, 9);
    w.values.fill(0, 256);
    const grouped: TernaryWeights = { ...w, granularity: 'group', groupSize: 256, scales: Float32Array.of(0.5, 0) };
    const packed = packTernary(grouped);
    expect(packed.scales).toEqual(Float32Array.of(0.5));
  });

  it('dispose frees the memory and later use throws DisposedError', () => {
    const packed = packTernary(randomTernary(4, 256, 4));
    packed[Symbol.dispose]();
    expect(packed.disposed).toBe(true);
    expect(() => packed.data).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    expect(() => ternaryMatmul(packed, new Float32Array(256), 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    packed.dispose(); // idempotent
  });
});

describe('ternary kernels', () => {
  const shapes: Array<[rows: number, columns: number, batch: number]> = [
    [1, 1, 1],
    [5, 300, 3],
    [4, 256, 1],
    [33, 1000, 9],
    [7, 513, 13],
    [64, 2560, 8],
    [1, 70000, 2],
    [130, 256, 33],
    [300, 512, 20],
  ];

  it('runs on the tiers this CPU supports', () => {
    expect(tiers).toContain('generic');
    if (process.env.BITNET_CPU_ISA === 'generic') expect(ternaryKernelTiers().selected).toBe('generic');
  });

  for (const [rows, columns, batch] of shapes) {
    it(`every tier is bit-exact with the integer reference: ${rows}×${columns}, batch ${batch}`, () => {
      const w = randomTernary(rows, columns, rows + columns + batch);
      const packed = packTernary(w);
      const xq = randomInt8(batch * columns, batch * 7 + 1);
      xq[0] = -128; // the extreme int8 value must not saturate any path
      const expected = intReference(w, xq, batch);
      for (const tier of tiers)
        for (const threads of [1, 2]) expect(ternaryMatmulInt8(packed, xq, batch, { tier, threads })).toEqual(expected);
    });
  }

  it('extreme values never saturate an int16 or int8 stage on any tier', () => {
    const rows = 8, columns = 4096;
    for (const [weight, activation] of [[1, -128], [1, 127], [-1, -128], [-1, 127]] as const) {
      const w: TernaryWeights = { rows, columns, values: new Int8Array(rows * columns).fill(weight), scales: new Float32Array(rows).fill(1), granularity: 'row', groupSize: null };
      const packed = packTernary(w);
      const xq = new Int8Array(3 * columns).fill(activation);
      const expected = new Int32Array(3 * rows).fill(weight * activation * columns);
      for (const tier of tiers) expect(ternaryMatmulInt8(packed, xq, 3, { tier })).toEqual(expected);
    }
  });

  for (const [rows, columns, batch] of [[37, 700, 5], [9, 2048, 40]] as const) {
    it(`the float forward equals the documented int32 → float32 epilogue on every tier: ${rows}×${columns}, batch ${batch}`, () => {
      const w = randomTernary(rows, columns, 21);
      const packed = packTernary(w);
      const x = randomFloats(batch * columns, 22, 3);
      const bias = randomFloats(rows, 23, 0.5);
      const q = activationReference(x, batch, columns);
      const dots = intReference(w, q.values, batch);
      const expected = new Float32Array(batch * rows);
      for (let n = 0; n < batch; n++)
        for (let r = 0; r < rows; r++)
          expected[n * rows + r] = Math.fround(Math.fround(Math.fround(dots[n * rows + r]) * Math.fround(w.scales[r] * q.scales[n])) + bias[r]);
      for (const tier of tiers) expect(ternaryMatmul(packed, x, batch, { bias, tier, threads: 2 })).toEqual(expected);
    });
  }

  it('every tier rounds activation ties to even, in the SIMD body and the tail alike', () => {
    // absmax 127 makes the quantizer's multiplier exactly 1, so q = roundHalfEven(x); with identity
    // weights of scale 1 and xScale = 1 the output is q itself.
    const n = 100; // 96 in 16- and 32-wide steps, 4 in the tail
    const values = new Int8Array(n * n);
    for (let i = 0; i < n; i++) values[i * n + i] = 1;
    const packed = packTernary({ rows: n, columns: n, values, scales: new Float32Array(n).fill(1), granularity: 'row', groupSize: null });
    const x = new Float32Array(n);
    const ties = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 3.5, -4.5];
    for (let i = 0; i < n; i++) x[i] = ties[i % ties.length]! + (i % 7 === 0 ? 0.25 : 0);
    x[13] = 127; // the absmax
    x[99] = -126.5; // a tie in the tail
    const expected = Float32Array.from(activationReference(x, 1, n).values);
    // By hand: 0.75 → 1, -0.5 → 0, 1.5 → 2, 2.5 → 2, -2.5 → -2, 126.5 → 126, -126.5 → -126.
    expect([expected[0], expected[1], expected[2], expected[4], expected[5], expected[6], expected[99]]).toEqual([1, 0, 2, 2, -2, 126, -126]);
    for (const tier of tiers) expect(ternaryMatmul(packed, x, 1, { tier })).toEqual(expected);
    expect(quantizeActivations(x, 1, n).values).toEqual(activationReference(x, 1, n).values);
  });

  it('names the bad token when a large batch is quantized on several threads', () => {
    const packed = packTernary(randomTernary(4, 1024, 71));
    const x = randomFloats(70 * 1024, 72);
    x[69 * 1024 + 3] = Infinity;
    expect(() => ternaryMatmul(packed, x, 70, { threads: 2 })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringContaining('token 69, column 3 is infinite') }));
  });

  it('the forward is within the stated tolerance of a float64 reference', () => {
    // |y - W·x| ≤ Σ_k |w_k| · |x_k - x̂_k| ≤ scale_w · k · (scale_x / 2), plus float32 rounding.
    const rows = 16, columns = 2560, batch = 4;
    const w = randomTernary(rows, columns, 41);
    const packed = packTernary(w);
    const x = randomFloats(batch * columns, 42, 2);
    const y = ternaryMatmul(packed, x, batch);
    const xs = quantizeActivations(x, batch, columns).scales;
    for (let n = 0; n < batch; n++)
      for (let r = 0; r < rows; r++) {
        let ref = 0;
        for (let c = 0; c < columns; c++) ref += w.values[r * columns + c] * w.scales[r] * x[n * columns + c];
        const bound = w.scales[r] * columns * xs[n] * 0.5;
        expect(Math.abs(y[n * rows + r] - ref)).toBeLessThanOrEqual(bound + 1e-5 * Math.abs(ref));
        // The error is typically far below the worst case: random rounding errors cancel.
        expect(Math.abs(y[n * rows + r] - ref)).toBeLessThanOrEqual(bound / 8);
      }
  });

  it('writes into `out`, handles batch 0, and the async form matches the sync one', async () => {
    const w = randomTernary(12, 512, 51);
    const packed = packTernary(w);
    const x = randomFloats(3 * 512, 52);
    const sync = ternaryMatmul(packed, x, 3);
    const out = new Float32Array(36);
    expect(ternaryMatmul(packed, x, 3, { out })).toBe(out);
    expect(out).toEqual(sync);
    expect(ternaryMatmul(packed, new Float32Array(0), 0).length).toBe(0);
    const pending = ternaryMatmulAsync(packed, x, 3);
    packed.dispose(); // waits for the running call before freeing
    expect(await pending).toEqual(sync);
    expect(() => packed.data).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
  });

  it('concurrent async calls (pool busy → inline) all match the sync result', async () => {
    const packed = packTernary(randomTernary(260, 1024, 81));
    const inputs = Array.from({ length: 8 }, (_, i) => randomFloats((1 + i) * 1024, 90 + i));
    const expected = inputs.map((x, i) => ternaryMatmul(packed, x, 1 + i));
    const results = await Promise.all(inputs.map((x, i) => ternaryMatmulAsync(packed, x, 1 + i, { threads: 2 })));
    results.forEach((y, i) => expect(y).toEqual(expected[i]));
  });

  it('rejects bad kernel arguments with typed errors', async () => {
    const packed = packTernary(randomTernary(4, 256, 61));
    expect(() => ternaryMatmul(packed, new Float32Array(255), 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    expect(() => ternaryMatmul(packed, new Float64Array(256) as unknown as Float32Array, 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DTYPE' }));
    expect(() => ternaryMatmul(packed, new Float32Array(256), 1, { bias: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    expect(() => ternaryMatmul(packed, new Float32Array(256), 1, { out: new Float32Array(5) })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    expect(() => ternaryMatmul(packed, new Float32Array(256), 1, { tier: 'mmx' as TernaryTier })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const nan = new Float32Array(256);
    nan[7] = NaN;
    expect(() => ternaryMatmul(packed, nan, 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    await expect(ternaryMatmulAsync(packed, nan, 1)).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    const tq = packTernary(randomTernary(4, 256, 62), 'tq2_0');
    expect(() => ternaryMatmul(tq, new Float32Array(256), 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DTYPE' }));
    if (!tiers.includes('neon')) expect(() => ternaryMatmulInt8(packed, new Int8Array(256), 1, { tier: 'neon' })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
  });
});

describe('group-scaled i2_r4', () => {
  function groupedTernary(rows: number, columns: number, groupSize: number, seed: number): TernaryWeights {
    const w = randomTernary(rows, columns, seed);
    const r = rng(seed + 1);
    const scales = new Float32Array(rows * Math.ceil(columns / groupSize));
    for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(0.01 + r() * 0.05);
    return { ...w, scales, granularity: 'group', groupSize };
  }

  /** The weights of columns [from, to) as their own row-scaled matrix. */
  function columnSlice(w: TernaryWeights, from: number, to: number): TernaryWeights {
    const values = new Int8Array(w.rows * (to - from));
    for (let row = 0; row < w.rows; row++) values.set(w.values.subarray(row * w.columns + from, row * w.columns + to), row * (to - from));
    return { rows: w.rows, columns: to - from, values, scales: new Float32Array(w.rows).fill(1), granularity: 'row', groupSize: null };
  }

  it('stores each group as its own i2_r4 matrix, one after the other', () => {
    for (const [rows, columns, groupSize] of [[5, 700, 512], [9, 1024, 256], [4, 300, 256]] as const) {
      const w = groupedTernary(rows, columns, groupSize, rows * columns);
      const packed = packTernary(w);
      expect(packed.groupSize).toBe(groupSize);
      expect(packed.scales).toEqual(w.scales);
      expect(packed.data.length).toBe(packedTernaryBytes('i2_r4', rows, columns));
      let offset = 0;
      for (let from = 0; from < columns; from += groupSize) {
        const plain = packTernary(columnSlice(w, from, Math.min(columns, from + groupSize)));
        expect(packed.data.subarray(offset, offset + plain.data.length)).toEqual(plain.data);
        offset += plain.data.length;
      }
      expect(offset).toBe(packed.data.length);
      expect(unpackTernary(packed)).toEqual({ ...w, scales: Float32Array.from(w.scales) });
    }
  });

  it('converts ggml blocks whose scales differ inside a row exactly, both ways', () => {
    const w = groupedTernary(6, 1024, 256, 17);
    const halves = getNative().float32ToFloat16Bits as (v: Float32Array) => Uint16Array;
    // fp16-representable scales, so TQ2_0/TQ1_0 keep them exactly.
    const h = halves(w.scales);
    for (let i = 0; i < h.length; i++) {
      const e = (h[i] >> 10) & 31, m = h[i] & 1023;
      w.scales[i] = (e ? (1 + m / 1024) * 2 ** (e - 15) : (m / 1024) * 2 ** -14) * (h[i] & 0x8000 ? -1 : 1);
    }
    for (const layout of ['tq2_0', 'tq1_0'] as const) {
      const tq = packTernary(w, layout);
      const i2 = convertTernary(tq, 'i2_r4');
      expect(i2.groupSize).toBe(256);
      expect(unpackTernary(i2)).toEqual(unpackTernary(tq));
      expect(convertTernary(i2, layout).data).toEqual(tq.data);
      const bytes = PackedTernary.fromBytes('i2_r4', w.rows, w.columns, i2.data, i2.scales, 256);
      expect(unpackTernary(bytes)).toEqual(unpackTernary(tq));
    }
  });

  const shapes: Array<[rows: number, columns: number, groupSize: number, batch: number]> = [
    [4, 512, 256, 1],
    [7, 700, 512, 3],
    [33, 2560, 256, 1],
    [33, 2560, 1024, 9],
    [130, 1000, 256, 33],
  ];
  for (const [rows, columns, groupSize, batch] of shapes) {
    it(`every tier matches the int and float references: ${rows}×${columns}, groups of ${groupSize}, batch ${batch}`, () => {
      const w = groupedTernary(rows, columns, groupSize, rows + columns + batch);
      const packed = packTernary(w);
      const xq = randomInt8(batch * columns, batch + 5);
      xq[0] = -128;
      const wholeDots = intReference(w, xq, batch);
      for (const tier of tiers)
        for (const threads of [1, 2]) expect(ternaryMatmulInt8(packed, xq, batch, { tier, threads })).toEqual(wholeDots);
      // Float: (Σ_g float(dot_g) · scale[r][g], in group order) · xScale + bias, in float32.
      const x = randomFloats(batch * columns, batch + 6, 2);
      const bias = randomFloats(rows, batch + 7, 0.5);
      const q = activationReference(x, batch, columns);
      const groups = Math.ceil(columns / groupSize);
      const expected = new Float32Array(batch * rows);
      const groupDots = [];
      for (let g = 0; g < groups; g++) {
        const from = g * groupSize, to = Math.min(columns, from + groupSize);
        const slice = columnSlice(w, from, to);
        const xs = new Int8Array(batch * (to - from));
        for (let n = 0; n < batch; n++) xs.set(q.values.subarray(n * columns + from, n * columns + to), n * (to - from));
        groupDots.push(intReference(slice, xs, batch));
      }
      for (let n = 0; n < batch; n++)
        for (let r = 0; r < rows; r++) {
          let sum = 0;
          for (let g = 0; g < groups; g++) sum = Math.fround(sum + Math.fround(Math.fround(groupDots[g][n * rows + r]) * w.scales[r * groups + g]));
          expected[n * rows + r] = Math.fround(Math.fround(sum * q.scales[n]) + bias[r]);
        }
      for (const tier of tiers)
        for (const threads of [1, 2]) expect(ternaryMatmul(packed, x, batch, { bias, tier, threads })).toEqual(expected);
    });
  }

  it('quantize158 per group runs through the kernels within the stated tolerance of a float64 reference', async () => {
    const rows = 24, columns = 1536, batch = 3;
    const latent = randomFloats(rows * columns, 91, 0.05);
    for (let r = 0; r < rows; r++) for (let c = 768; c < columns; c++) latent[r * columns + c] *= 8; // scales differ by group
    const w = quantize158(latent, rows, columns, { granularity: 'group', groupSize: 256 });
    const packed = packTernary(w);
    expect(packed.groupSize).toBe(256);
    const x = randomFloats(batch * columns, 92, 2);
    const y = ternaryMatmul(packed, x, batch);
    expect(await ternaryMatmulAsync(packed, x, batch)).toEqual(y);
    const xs = quantizeActivations(x, batch, columns).scales;
    const dequantized = dequantize158(w);
    for (let n = 0; n < batch; n++)
      for (let r = 0; r < rows; r++) {
        let ref = 0, bound = 0;
        for (let c = 0; c < columns; c++) {
          ref += dequantized[r * columns + c] * x[n * columns + c];
          bound += Math.abs(dequantized[r * columns + c]) * xs[n] * 0.5;
        }
        expect(Math.abs(y[n * rows + r] - ref)).toBeLessThanOrEqual(bound / 4 + 1e-5 * Math.abs(ref));
      }
  });

  it('rejects bad group scales and sizes with typed errors', () => {
    const w = groupedTernary(4, 512, 256, 3);
    const packed = packTernary(w);
    expect(() => PackedTernary.fromBytes('i2_r4', 4, 512, packed.data, packed.scales)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    expect(() => PackedTernary.fromBytes('i2_r4', 4, 512, packed.data, packed.scales, 384)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED', message: expect.stringContaining('got 384') }));
    expect(() => PackedTernary.fromBytes('tq2_0', 4, 512, packTernary(w, 'tq2_0').data, null, 256)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const native = getNative() as unknown as { ternaryMatmul: (...args: unknown[]) => unknown };
    expect(() => native.ternaryMatmul(packed.data, packed.scales, 4, 512, new Float32Array(512), 1, null, null, 0, undefined, 128)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    expect(() => native.ternaryMatmul(packed.data, packed.scales, 4, 512, new Float32Array(512), 1, null, null, 0, undefined, 512)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_SHAPE_MISMATCH' }));
    // No columns: nothing to scale, the result is the bias.
    const empty = packTernary({ rows: 3, columns: 0, values: new Int8Array(0), scales: new Float32Array(0), granularity: 'group', groupSize: 256 });
    expect(ternaryMatmul(empty, new Float32Array(0), 2, { bias: Float32Array.of(1, 2, 3) })).toEqual(Float32Array.of(1, 2, 3, 1, 2, 3));
    expect(native.ternaryMatmul(new Uint8Array(0), new Float32Array(0), 3, 0, new Float32Array(0), 2, Float32Array.of(1, 2, 3), null, 0, undefined, 256)).toEqual(Float32Array.of(1, 2, 3, 1, 2, 3));
  });
});

describe('denseMatmulF32', () => {
  it('matches a float64 reference on every tier, sync and async', async () => {
    for (const [rows, columns, batch] of [[1, 1, 1], [7, 33, 5], [64, 1000, 9]] as const) {
      const w = randomFloats(rows * columns, rows + columns);
      const x = randomFloats(batch * columns, batch);
      for (const tier of tiers) {
        const y = denseMatmulF32(w, rows, columns, x, batch, { tier, threads: 2 });
        for (let n = 0; n < batch; n++)
          for (let r = 0; r < rows; r++) {
            let ref = 0, magnitude = 0;
            for (let c = 0; c < columns; c++) {
              ref += w[r * columns + c] * x[n * columns + c];
              magnitude += Math.abs(w[r * columns + c] * x[n * columns + c]);
            }
            expect(Math.abs(y[n * rows + r] - ref)).toBeLessThanOrEqual(magnitude * columns * 2 ** -24 + 1e-30);
          }
      }
      expect(await denseMatmulF32Async(w, rows, columns, x, batch)).toEqual(denseMatmulF32(w, rows, columns, x, batch));
    }
  });

  it('rejects bad arguments of the async form through its promise, and null options mean none', async () => {
    const call = denseMatmulF32Async(new Float32Array(4), 2, 2, new Float32Array(3), 1);
    expect(call).toBeInstanceOf(Promise);
    await expect(call).rejects.toMatchObject({ code: 'ERR_BITNET_SHAPE_MISMATCH' });
    const w = Float32Array.of(1, 2, 3, 4);
    expect(denseMatmulF32(w, 2, 2, Float32Array.of(1, 1), 1, null as never)).toEqual(Float32Array.of(3, 7));
    expect(() => denseMatmulF32(w, 2, 2, Float32Array.of(1, 1), 1, 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[denseMatmulF32] options must be an object, got 5' }));
    const q = quantize158(new Float32Array(256).fill(1), 1, 256, null as never);
    const packed = packTernary(q);
    expect(ternaryMatmul(packed, new Float32Array(256).fill(1), 1, null as never)[0]).toBeCloseTo(256, 3);
    await expect(ternaryMatmulAsync(packed, new Float32Array(256), 1, 'fast' as never)).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    packed.dispose();
  });
});
