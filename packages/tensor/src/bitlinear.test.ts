import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDefaultPool } from '@bitnet/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitLinear, BitNetTensor, PackedTernaryTensor, deserializeSafetensors, serializeSafetensors, ternaryKernelTiers, type BitLinearGradients } from './index.js';
import { rng } from './testing/reference.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitnet-bitlinear-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const tiers = ternaryKernelTiers().supported;

function randomArray(n: number, seed: number, amplitude = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * amplitude);
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

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The documented int8 quantizer, float32 emulated with Math.fround. */
function activationReference(x: ArrayLike<number>, rows: number, columns: number) {
  const values = new Int8Array(rows * columns), scales = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let absmax = 0;
    for (let c = 0; c < columns; c++) absmax = Math.max(absmax, Math.abs(x[n * columns + c]!));
    if (absmax === 0) continue;
    const inverse = Math.fround(127 / absmax);
    scales[n] = Math.fround(absmax / 127);
    for (let c = 0; c < columns; c++) values[n * columns + c] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(x[n * columns + c]! * inverse))));
  }
  return { values, scales };
}

/** Absmean ternary weights in float64 (per-tensor scale stored as float32, as the layer does). */
function weightReference(w: Float32Array, rows: number, columns: number) {
  let sum = 0;
  for (const v of w) sum += Math.abs(v);
  const scale = Math.fround(Math.max(sum / w.length, 1e-5));
  const values = Int8Array.from(w, (v) => Math.max(-1, Math.min(1, roundHalfEven(v / scale))));
  return { values, scale, rows, columns };
}

function rmsNormReference(x: ArrayLike<number>, gamma: ArrayLike<number>, tokens: number, K: number, eps: number): Float64Array {
  const out = new Float64Array(tokens * K);
  for (let t = 0; t < tokens; t++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[t * K + k]! ** 2;
    const r = 1 / Math.sqrt(s / K + eps);
    for (let k = 0; k < K; k++) out[t * K + k] = x[t * K + k]! * r * gamma[k]!;
  }
  return out;
}

describe('BitLinear forward', () => {
  // [outFeatures, inFeatures, leading shape of x]
  const cases: [number, number, number[]][] = [
    [1, 1, [1]],
    [5, 7, [3]],
    [1, 300, [17]],
    [33, 256, [1]],
    [64, 1000, [2, 3]],
    [40, 257, [17]],
    [256, 2560, [32]],
  ];
  for (const [out, inF, lead] of cases) {
    it(`equals the documented int8 × ternary → float32 computation exactly on every tier: ${out}×${inF}, x ${JSON.stringify(lead)}`, async () => {
      const wData = randomArray(out * inF, out * 7 + inF, 0.1);
      const bData = randomArray(out, 3, 0.5);
      using w = BitNetTensor.fromArray(wData, [out, inF]);
      using b = BitNetTensor.fromArray(bData, [out]);
      using layer = BitLinear.fromFloatWeights(w, b);
      const tokens = lead.reduce((a, c) => a * c, 1);
      const xData = randomArray(tokens * inF, 11 + inF, 3);
      using x = BitNetTensor.fromArray(xData, [...lead, inF]);
      // Reference: the float64 forward with the quantizers of the paper (the
      // activation one emulating float32 exactly as documented) and the
      // documented float32 epilogue fround(fround(dot) · fround(sw · sx)) + bias.
      const ref = weightReference(wData, out, inF);
      const q = activationReference(xData, tokens, inF);
      const expected = new Float32Array(tokens * out);
      for (let n = 0; n < tokens; n++)
        for (let r = 0; r < out; r++) {
          let dot = 0;
          for (let k = 0; k < inF; k++) dot += ref.values[r * inF + k]! * q.values[n * inF + k]!;
          expected[n * out + r] = Math.fround(Math.fround(dot) * Math.fround(ref.scale * q.scales[n]!)) + bData[r]!;
        }
      for (const tier of tiers) {
        using y = layer.forward(x, { tier, threads: 2 });
        expect(y.shape).toEqual([...lead, out]);
        expect(y.toTypedArray()).toEqual(expected);
      }
      using ya = await layer.forwardAsync(x);
      expect(ya.toTypedArray()).toEqual(expected);
    });
  }

  it('is within the stated bound of the float64 product with the unquantized activations', () => {
    // |y − W̃·x| = |Σ_k W̃_k (x̃_k − x_k)| ≤ s_w · nnz(row) · s_x / 2 (each x̃ is within half a step),
    // plus float32 rounding of the epilogue (relative 2^-22 is ample).
    const out = 48, inF = 2560, tokens = 5;
    const wData = randomArray(out * inF, 5, 0.05);
    using w = BitNetTensor.fromArray(wData, [out, inF]);
    using layer = BitLinear.fromFloatWeights(w);
    const xData = randomArray(tokens * inF, 6, 2);
    using x = BitNetTensor.fromArray(xData, [tokens, inF]);
    using y = layer.forward(x);
    const got = y.toTypedArray();
    const ref = weightReference(wData, out, inF);
    const xs = activationReference(xData, tokens, inF).scales;
    let worst = 0;
    for (let n = 0; n < tokens; n++)
      for (let r = 0; r < out; r++) {
        let exact = 0, nnz = 0, magnitude = 0;
        for (let k = 0; k < inF; k++) {
          const v = ref.values[r * inF + k]!;
          exact += v * ref.scale * xData[n * inF + k]!;
          nnz += v !== 0 ? 1 : 0;
          magnitude += Math.abs(v * ref.scale * xData[n * inF + k]!);
        }
        const bound = ref.scale * nnz * xs[n]! / 2 + 2 ** -22 * magnitude;
        const error = Math.abs(got[n * out + r]! - exact);
        expect(error).toBeLessThanOrEqual(bound);
        worst = Math.max(worst, error / bound);
      }
    // Rounding errors are random, so they cancel: far below the worst case.
    expect(worst).toBeLessThan(0.2);
  });

  it('applies SubLN (RMSNorm) before activation quantization, within the bound of a float64 reference', () => {
    const out = 24, inF = 700, tokens = 3;
    const wData = randomArray(out * inF, 8, 0.05);
    const gamma = Float32Array.from(randomArray(inF, 9, 0.5), (v) => 1 + v);
    using w = BitNetTensor.fromArray(wData, [out, inF]);
    using g = BitNetTensor.fromArray(gamma, [inF]);
    using layer = BitLinear.fromFloatWeights(w, null, { normWeight: g, normEpsilon: 1e-5 });
    expect(layer.subLayerNorm).toBe(true);
    const xData = randomArray(tokens * inF, 10, 4);
    using x = BitNetTensor.fromArray(xData, [tokens, inF]);
    using y = layer.forward(x);
    const got = y.toTypedArray();
    const n64 = rmsNormReference(xData, gamma, tokens, inF, 1e-5);
    const ref = weightReference(wData, out, inF);
    const xs = activationReference(Float32Array.from(n64), tokens, inF).scales;
    for (let n = 0; n < tokens; n++)
      for (let r = 0; r < out; r++) {
        let exact = 0, nnz = 0, magnitude = 0;
        for (let k = 0; k < inF; k++) {
          const v = ref.values[r * inF + k]!;
          exact += v * ref.scale * n64[n * inF + k]!;
          nnz += v !== 0 ? 1 : 0;
          magnitude += Math.abs(v * ref.scale * n64[n * inF + k]!);
        }
        // Quantization (half a step per weight) plus the float32 RMSNorm (relative 1e-5 covers it).
        expect(Math.abs(got[n * out + r]! - exact)).toBeLessThanOrEqual(ref.scale * nnz * xs[n]! * 0.5 * (1 + 1e-4) + 1e-5 * magnitude);
      }
  });

  it('takes F16 and non-contiguous inputs, and an empty batch', () => {
    using layer = new BitLinear({ inFeatures: 40, outFeatures: 6, bias: true, seed: 1 });
    using base = BitNetTensor.fromArray(randomArray(40 * 3, 12), [40, 3]);
    using xt = base.transpose(0, 1); // [3, 40] strided
    using xc = xt.contiguous(); // a copy: xt is strided
    using a = layer.forward(xt);
    using b = layer.forward(xc);
    expect(a.toTypedArray()).toEqual(b.toTypedArray());
    using half = xc.to('F16');
    using h = layer.forward(half);
    using h32 = half.to('F32');
    using hr = layer.forward(h32);
    expect(h.toTypedArray()).toEqual(hr.toTypedArray());
    using empty = BitNetTensor.zeros([0, 40]);
    using e = layer.forward(empty);
    expect(e.shape).toEqual([0, 6]);
    // A contiguous view that starts inside its storage (rows 1..2 of 3), into an out that does too.
    using rows = xc.narrow(0, 1, 2); // contiguous: whole rows of a contiguous tensor
    using rowsCopy = rows.clone();
    using outBase = BitNetTensor.zeros([3, 6]);
    using outRows = outBase.narrow(0, 1, 2);
    expect(rows.offset).toBe(40);
    expect(layer.forward(rows, { out: outRows })).toBe(outRows);
    using fromCopy = layer.forward(rowsCopy);
    expect(outRows.toTypedArray()).toEqual(fromCopy.toTypedArray());
    expect(Array.from(outBase.toTypedArray().subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(fromCopy.toTypedArray()).toEqual(a.toTypedArray().subarray(6, 18));
  });

  it('writes into options.out and returns it', async () => {
    using layer = new BitLinear({ inFeatures: 300, outFeatures: 9, bias: true, seed: 6 });
    using x = BitNetTensor.fromArray(randomArray(2 * 300, 15), [2, 300]);
    using expected = layer.forward(x);
    using out = BitNetTensor.zeros([2, 9]);
    expect(layer.forward(x, { out })).toBe(out);
    expect(out.toTypedArray()).toEqual(expected.toTypedArray());
    out.rawBytes().fill(0);
    expect(await layer.forwardAsync(x, { out })).toBe(out);
    expect(out.toTypedArray()).toEqual(expected.toTypedArray());
    using wrong = BitNetTensor.zeros([2, 8]);
    expect(code(errorOf(() => layer.forward(x, { out: wrong })))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    using half = BitNetTensor.zeros([2, 9], { dtype: 'F16' });
    expect(code(errorOf(() => layer.forward(x, { out: half })))).toBe('ERR_BITNET_DTYPE');
    layer.train();
    expect(code(errorOf(() => layer.forward(x, { out })))).toBe('ERR_BITNET_INVALID_ARGUMENT');
  });

  it('rejects bad inputs with typed errors and keeps working afterwards', () => {
    using layer = new BitLinear({ inFeatures: 8, outFeatures: 4, seed: 2 });
    using good = BitNetTensor.fromArray(randomArray(16, 13), [2, 8]);
    using before = layer.forward(good);
    using wrongShape = BitNetTensor.zeros([2, 7]);
    expect(code(errorOf(() => layer.forward(wrongShape)))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    using ints = BitNetTensor.zeros([2, 8], { dtype: 'I32' });
    expect(code(errorOf(() => layer.forward(ints)))).toBe('ERR_BITNET_DTYPE');
    using nan = BitNetTensor.fromArray([1, 2, 3, NaN, 5, 6, 7, 8], [1, 8]);
    const pool = getDefaultPool(); // the tensors' default pool
    expect(nan.pool).toBe(pool);
    const allocated = pool.getMetrics().currentAllocated;
    const e = errorOf(() => layer.forward(nan));
    expect(code(e)).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(String(e)).toContain('column 3');
    // The failed call frees the output it allocated and leaves a given out untouched.
    expect(pool.getMetrics().currentAllocated).toBe(allocated);
    using out = BitNetTensor.full([1, 4], 7);
    expect(code(errorOf(() => layer.forward(nan, { out })))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(Array.from(out.toTypedArray())).toEqual([7, 7, 7, 7]);
    expect(pool.getMetrics().currentAllocated).toBe(allocated + out.storage.byteLength);
    expect(code(errorOf(() => layer.forward('x' as unknown as BitNetTensor)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    using after = layer.forward(good);
    expect(after.toTypedArray()).toEqual(before.toTypedArray());
    expect(code(errorOf(() => new BitLinear({ inFeatures: 0, outFeatures: 2 })))).toBe('ERR_BITNET_OUT_OF_RANGE');
    using nanW = BitNetTensor.fromArray([[1, Infinity]]);
    expect(code(errorOf(() => BitLinear.fromFloatWeights(nanW)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    using w = BitNetTensor.zeros([3, 2]);
    using badBias = BitNetTensor.zeros([2]);
    expect(code(errorOf(() => BitLinear.fromFloatWeights(w, badBias)))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    using w3 = BitNetTensor.zeros([3, 2, 1]);
    expect(code(errorOf(() => BitLinear.fromFloatWeights(w3)))).toBe('ERR_BITNET_SHAPE_MISMATCH');
  });

  it('dispose frees the weights; use after dispose throws DisposedError; a pending forwardAsync completes', async () => {
    const layer = new BitLinear({ inFeatures: 512, outFeatures: 64, seed: 3 });
    using x = BitNetTensor.fromArray(randomArray(4 * 512, 14), [4, 512]);
    using sync = layer.forward(x);
    const pending = layer.forwardAsync(x);
    layer[Symbol.dispose]();
    using y = await pending;
    expect(y.toTypedArray()).toEqual(sync.toTypedArray());
    layer.dispose();
    expect(layer.disposed).toBe(true);
    for (const call of [() => layer.forward(x), () => layer.backward(x), () => layer.packedWeight(), () => layer.serialize(), () => layer.latentWeight()])
      expect(errorOf(call)).toMatchObject({ code: 'ERR_BITNET_DISPOSED', name: 'DisposedError' });
    await expect(layer.forwardAsync(x)).rejects.toMatchObject({ code: 'ERR_BITNET_DISPOSED' });
  });
});

/** Float64 STE gradients of L = Σ g ⊙ y for the layer's forward. */
function steReference(args: { x: Float32Array; gy: Float32Array; wValues: Int8Array; wScale: number; gamma: Float32Array | null; eps: number; tokens: number; K: number; N: number }) {
  const { x, gy, wValues, wScale, gamma, eps, tokens, K, N } = args;
  const n = gamma ? rmsNormReference(x, gamma, tokens, K, eps) : Float64Array.from(x);
  // The layer quantizes the float32 RMSNorm output; the reference quantizes its float64 one.
  const q = activationReference(Float32Array.from(n), tokens, K);
  const dW = new Float64Array(N * K), db = new Float64Array(N), dn = new Float64Array(tokens * K);
  for (let t = 0; t < tokens; t++)
    for (let o = 0; o < N; o++) {
      const g = gy[t * N + o]!;
      db[o] += g;
      for (let k = 0; k < K; k++) {
        dW[o * K + k] += g * q.values[t * K + k]! * q.scales[t]!;
        dn[t * K + k] += g * wValues[o * K + k]! * wScale;
      }
    }
  if (!gamma) return { dx: dn, dW, db, dg: null };
  const dx = new Float64Array(tokens * K), dg = new Float64Array(K);
  for (let t = 0; t < tokens; t++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[t * K + k]! ** 2;
    const r = 1 / Math.sqrt(s / K + eps);
    let dot = 0;
    for (let k = 0; k < K; k++) dot += gamma[k]! * dn[t * K + k]! * x[t * K + k]!;
    for (let k = 0; k < K; k++) {
      dg[k] += dn[t * K + k]! * x[t * K + k]! * r;
      dx[t * K + k] = r * gamma[k]! * dn[t * K + k]! - (x[t * K + k]! * r ** 3 * dot) / K;
    }
  }
  return { dx, dW, db, dg };
}

function expectClose(got: BitNetTensor | null, want: Float64Array | null, relative: number) {
  expect(got === null).toBe(want === null);
  if (!got || !want) return;
  const values = got.toFlatArray();
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  values.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(relative * scale + 1e-12));
}

describe('BitLinear backward (straight-through estimator)', () => {
  it("equals PyTorch autograd of BitNet b1.58's BitLinear (SubLN, int8 absmax activations, absmean ternary weights, x + (quant(x) − x).detach())", async () => {
    // Outputs written by testing/fixtures/bitlinear-torch.py (torch 2.11, float64 with float32 quantization decisions).
    const fixture = JSON.parse(await fs.readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures', 'bitlinear-torch.json'), 'utf8')) as {
      cases: Array<{ name: string; K: number; N: number; T: number; eps: number; w: number[]; bias: number[] | null; gamma: number[] | null; x: number[]; g: number[]; torch: Record<'y' | 'dx' | 'dw', number[]> & { db: number[] | null; dgamma: number[] | null } }>;
    };
    const relative = (ours: number[], theirs: number[]) => {
      let difference = 0, norm = 0;
      for (let i = 0; i < theirs.length; i++) {
        difference += (ours[i]! - theirs[i]!) ** 2;
        norm += theirs[i]! ** 2;
      }
      expect(ours.length).toBe(theirs.length);
      return Math.sqrt(difference / norm);
    };
    expect(fixture.cases.map((c) => c.name)).toEqual(['subln-bias', 'plain']);
    for (const c of fixture.cases) {
      using w = BitNetTensor.fromArray(c.w, [c.N, c.K]);
      using bias = c.bias ? BitNetTensor.fromArray(c.bias, [c.N]) : null;
      using gamma = c.gamma ? BitNetTensor.fromArray(c.gamma, [c.K]) : null;
      using layer = BitLinear.fromFloatWeights(w, bias, gamma ? { normWeight: gamma, subLayerNorm: true, normEpsilon: c.eps } : {}).train();
      using x = BitNetTensor.fromArray(c.x, [c.T, c.K]);
      using g = BitNetTensor.fromArray(c.g, [c.T, c.N]);
      using y = layer.forward(x);
      using grads = layer.backward(g);
      // float32 against float64: ~1e-7 here; a wrong formula or convention is off by far more.
      expect(relative(y.toFlatArray(), c.torch.y)).toBeLessThan(1e-6);
      expect(relative(grads.input.toFlatArray(), c.torch.dx)).toBeLessThan(1e-6);
      expect(relative(grads.weight.toFlatArray(), c.torch.dw)).toBeLessThan(1e-6);
      if (c.torch.db) expect(relative(grads.bias!.toFlatArray(), c.torch.db)).toBeLessThan(1e-6);
      if (c.torch.dgamma) expect(relative(grads.normWeight!.toFlatArray(), c.torch.dgamma)).toBeLessThan(1e-6);
    }
  });

  it('the float64 STE formulas equal finite differences of the surrogate with frozen quantization offsets', () => {
    // STE means: y = (n(x) + c_a) · (W + c_w)ᵀ + b with c_a = quant(n) − n and c_w = quant(W) − W
    // held constant. Its exact gradient (central differences in float64) must equal the formulas.
    const tokens = 2, K = 5, N = 3, eps = 1e-5;
    const x = randomArray(tokens * K, 21, 2), gy = randomArray(tokens * N, 22), gamma = Float32Array.from(randomArray(K, 23, 0.3), (v) => 1 + v);
    const wValues = Int8Array.from(randomArray(N * K, 24), (v) => Math.round(v)), wScale = 0.3;
    const n0 = rmsNormReference(x, gamma, tokens, K, eps);
    const q = activationReference(Float32Array.from(n0), tokens, K);
    const offsets = Float64Array.from(n0, (v, i) => q.values[i]! * q.scales[Math.floor(i / K)]! - v);
    const loss = (xs: ArrayLike<number>, gs: ArrayLike<number>) => {
      const n = rmsNormReference(xs, gs, tokens, K, eps);
      let L = 0;
      for (let t = 0; t < tokens; t++)
        for (let o = 0; o < N; o++) {
          let y = 0;
          for (let k = 0; k < K; k++) y += (n[t * K + k]! + offsets[t * K + k]!) * wValues[o * K + k]! * wScale;
          L += gy[t * N + o]! * y;
        }
      return L;
    };
    const ref = steReference({ x, gy, wValues, wScale, gamma, eps, tokens, K, N });
    const h = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const plus = Float64Array.from(x), minus = Float64Array.from(x);
      plus[i] += h;
      minus[i] -= h;
      expect((loss(plus, gamma) - loss(minus, gamma)) / (2 * h)).toBeCloseTo(ref.dx[i]!, 6);
    }
    for (let k = 0; k < K; k++) {
      const plus = Float64Array.from(gamma), minus = Float64Array.from(gamma);
      plus[k] += h;
      minus[k] -= h;
      expect((loss(x, plus) - loss(x, minus)) / (2 * h)).toBeCloseTo(ref.dg![k]!, 6);
    }
  });

  for (const subLayerNorm of [false, true])
    it(`matches the float64 STE formulas${subLayerNorm ? ' with SubLN' : ''}`, () => {
      const tokens = 6, K = 300, N = 20;
      const wData = randomArray(N * K, 31, 0.1);
      using w = BitNetTensor.fromArray(wData, [N, K]);
      using b = BitNetTensor.fromArray(randomArray(N, 32), [N]);
      const gamma = subLayerNorm ? Float32Array.from(randomArray(K, 33, 0.3), (v) => 1 + v) : null;
      using g = gamma ? BitNetTensor.fromArray(gamma, [K]) : null;
      using layer = BitLinear.fromFloatWeights(w, b, { normWeight: g ?? undefined }).train();
      const xData = randomArray(tokens * K, 34, 2);
      using x = BitNetTensor.fromArray(xData, [2, 3, K]);
      using y = layer.forward(x);
      const gy = randomArray(tokens * N, 35);
      using gyT = BitNetTensor.fromArray(gy, [2, 3, N]);
      using grads = layer.backward(gyT);
      const ref = weightReference(wData, N, K);
      const want = steReference({ x: xData, gy, wValues: ref.values, wScale: ref.scale, gamma, eps: 1e-5, tokens, K, N });
      expect(grads.input.shape).toEqual([2, 3, K]);
      expect(grads.weight.shape).toEqual([N, K]);
      // Float32 sums over ≤ 300 terms: relative 1e-5 of the largest entry. With SubLN the layer
      // quantizes a float32 RMSNorm output, so a rare activation rounds to the other int8 step:
      // dL/dW moves by one step there, which 2e-3 of the largest entry covers.
      expectClose(grads.input, want.dx, 1e-5);
      expectClose(grads.weight, want.dW, subLayerNorm ? 2e-3 : 1e-5);
      expectClose(grads.bias, want.db, 1e-6);
      expectClose(grads.normWeight, want.dg, 1e-5);
      // One backward per forward.
      expect(code(errorOf(() => layer.backward(gyT)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    });

  it('rejects backward without a training forward or with a wrong gradient shape', () => {
    using layer = new BitLinear({ inFeatures: 4, outFeatures: 2, seed: 4 });
    using x = BitNetTensor.fromArray(randomArray(8, 36), [2, 4]);
    using y = layer.forward(x); // eval mode: nothing saved
    expect(code(errorOf(() => layer.backward(y)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    layer.train();
    using y2 = layer.forward(x);
    using wrong = BitNetTensor.zeros([2, 3]);
    expect(code(errorOf(() => layer.backward(wrong)))).toBe('ERR_BITNET_SHAPE_MISMATCH');
    using grads = layer.backward(y2); // the failed call kept the context
    expect(grads.input.shape).toEqual([2, 4]);
  });

  it('trains: SGD on a random linear map reduces the loss measurably', () => {
    const K = 64, N = 16, tokens = 64;
    // The target is a ternary map (reachable by the layer) plus a bias.
    const r = rng(41);
    const target = Float64Array.from({ length: N * K }, () => (Math.floor(r() * 3) - 1) * 0.05);
    const targetBias = randomArray(N, 42, 0.2);
    const xData = randomArray(tokens * K, 43, 1);
    const yData = new Float32Array(tokens * N);
    for (let t = 0; t < tokens; t++)
      for (let o = 0; o < N; o++) {
        let s = targetBias[o]!;
        for (let k = 0; k < K; k++) s += target[o * K + k]! * xData[t * K + k]!;
        yData[t * N + o] = s;
      }
    using x = BitNetTensor.fromArray(xData, [tokens, K]);
    using layer = new BitLinear({ inFeatures: K, outFeatures: N, bias: true, subLayerNorm: true, seed: 44 }).train();
    const lossAndGrad = () => {
      using y = layer.forward(x);
      const yv = y.toTypedArray() as Float32Array;
      let loss = 0;
      const g = new Float32Array(yv.length);
      for (let i = 0; i < yv.length; i++) {
        const d = yv[i]! - yData[i]!;
        loss += (d * d) / yv.length;
        g[i] = (2 * d) / yv.length;
      }
      return { loss, g };
    };
    const initial = lossAndGrad().loss;
    let last = initial;
    for (let step = 0; step < 300; step++) {
      const { loss, g } = lossAndGrad();
      last = loss;
      using gy = BitNetTensor.fromArray(g, [tokens, N]);
      using grads: BitLinearGradients = layer.backward(gy);
      layer.sgdStep(grads, 0.05);
    }
    expect(initial).toBeGreaterThan(0.05);
    expect(last).toBeLessThan(initial * 0.15); // measured here: 0.203 → 0.017
  });

  it('backward after a forwardAsync refuses weights that an sgdStep changed while the forward ran', async () => {
    using layer = new BitLinear({ inFeatures: 256, outFeatures: 64, seed: 8 }).train();
    using x = BitNetTensor.fromArray(randomArray(2 * 256, 81), [2, 256]);
    using g = BitNetTensor.ones([2, 64]);
    using y0 = layer.forward(x);
    using grads = layer.backward(g);
    // The forward ran on the old weights: gradients against the new ones would be silently wrong.
    const pending = layer.forwardAsync(x);
    layer.sgdStep(grads, 0.5);
    using y = await pending;
    expect(y.shape).toEqual([2, 64]);
    expect(code(errorOf(() => layer.backward(g)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    // Without a step in between, the async forward's context is good.
    using y2 = await layer.forwardAsync(x);
    using again = layer.backward(g);
    expect(again.input.shape).toEqual([2, 256]);
  });

  it('a failed sgdStep changes nothing', () => {
    using layer = new BitLinear({ inFeatures: 8, outFeatures: 4, bias: true, seed: 5 }).train();
    using x = BitNetTensor.fromArray(randomArray(16, 51), [2, 8]);
    using y = layer.forward(x);
    using grads = layer.backward(y);
    const nanWeight = BitNetTensor.fromArray(new Float32Array(32).fill(NaN), [4, 8]);
    using _nan = nanWeight;
    using before = layer.forward(x);
    const latent = layer.latentWeight()!;
    expect(code(errorOf(() => layer.sgdStep({ ...grads, weight: nanWeight }, 0.1)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(code(errorOf(() => layer.sgdStep({ ...grads, bias: null }, 0.1)))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(code(errorOf(() => layer.sgdStep(grads, -1)))).toBe('ERR_BITNET_OUT_OF_RANGE');
    using after = layer.forward(x);
    expect(after.toTypedArray()).toEqual(before.toTypedArray());
    using latentAfter = layer.latentWeight()!;
    expect(latentAfter.toTypedArray()).toEqual(latent.toTypedArray());
    latent.dispose();
  });
});

/** A map that disposes the tensors it replaces or deletes. */
class OwningMap extends Map<string, BitNetTensor> {
  override set(key: string, value: BitNetTensor): this {
    if (this.get(key) !== value) this.get(key)?.dispose();
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.get(key)?.dispose();
    return super.delete(key);
  }
}

describe('BitLinear safetensors', () => {
  function layerWithEverything() {
    using w = BitNetTensor.fromArray(randomArray(20 * 512, 61, 0.1), [20, 512]);
    using b = BitNetTensor.fromArray(randomArray(20, 62), [20]);
    using g = BitNetTensor.fromArray(Float32Array.from(randomArray(512, 63, 0.2), (v) => 1 + v), [512]);
    return BitLinear.fromFloatWeights(w, b, { normWeight: g, granularity: 'row' });
  }

  it('save → load (file and memory) gives an identical forward', async () => {
    using layer = layerWithEverything();
    using x = BitNetTensor.fromArray(randomArray(3 * 512, 64, 2), [3, 512]);
    using y = layer.forward(x);
    const file = path.join(dir, 'layer.safetensors');
    await layer.save(file, { metadata: { note: 'test' } });
    using loaded = await BitLinear.load(file);
    expect([loaded.inFeatures, loaded.outFeatures, loaded.hasBias, loaded.subLayerNorm, loaded.granularity]).toEqual([512, 20, true, true, 'row']);
    using y2 = loaded.forward(x);
    expect(y2.toTypedArray()).toEqual(y.toTypedArray());
    using fromMemory = BitLinear.deserialize(layer.serialize());
    using y3 = fromMemory.forward(x);
    expect(y3.toTypedArray()).toEqual(y.toTypedArray());
    // Without latent weights the loaded layer has none; with them training resumes where it was.
    expect(loaded.latentWeight()).toBeNull();
    using withLatent = BitLinear.deserialize(layer.serialize({ includeLatent: true }));
    using l1 = withLatent.latentWeight()!;
    using l0 = layer.latentWeight()!;
    expect(l1.toTypedArray()).toEqual(l0.toTypedArray());
  });

  it('stores ggml TQ2_0 / TQ1_0: the loaded forward equals the forward with fp16-rounded scales', () => {
    using layer = layerWithEverything();
    using x = BitNetTensor.fromArray(randomArray(2 * 512, 65, 2), [2, 512]);
    for (const layout of ['tq2_0', 'tq1_0'] as const) {
      const { tensors, metadata } = deserializeSafetensors(layer.serialize({ layout }));
      expect(metadata.layout).toBe(layout);
      expect(tensors.get('weight')!.byteSize).toBe(20 * 2 * (layout === 'tq2_0' ? 66 : 54));
      for (const t of tensors.values()) t.dispose();
      using loaded = BitLinear.deserialize(layer.serialize({ layout }));
      using packed = layer.packedWeight(layout);
      using b = layer.bias();
      using g = layer.normWeight();
      using viaPacked = BitLinear.fromPacked(packed, { bias: b, normWeight: g });
      using y1 = loaded.forward(x);
      using y2 = viaPacked.forward(x);
      expect(y1.toTypedArray()).toEqual(y2.toTypedArray());
    }
  });

  it('rejects wrong file contents with ERR_BITNET_FILE_FORMAT and leaks nothing', async () => {
    using layer = layerWithEverything();
    const good = deserializeSafetensors(layer.serialize());
    const rebuild = (edit: (t: Map<string, BitNetTensor>, m: Record<string, string>) => void) => {
      const tensors = new OwningMap([...good.tensors].map(([k, v]) => [k, v.clone()]));
      const metadata = { ...good.metadata };
      edit(tensors, metadata);
      try {
        return serializeSafetensors(tensors, metadata);
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
    };
    const cases: [string, Uint8Array][] = [
      ['not a layer', rebuild((_, m) => delete m.format)],
      ['bad version', rebuild((_, m) => (m.format_version = '2'))],
      ['bad in_features', rebuild((_, m) => (m.in_features = '511'))],
      ['bad flag', rebuild((_, m) => (m.bias = 'yes'))],
      ['missing bias', rebuild((t) => t.delete('bias'))],
      ['extra tensor', rebuild((t) => t.set('extra', BitNetTensor.zeros([1])))],
      ['wrong scale dtype', rebuild((t) => t.set('weight_scale', BitNetTensor.zeros([20], { dtype: 'F16' })))],
      ['NaN bias', rebuild((t) => t.set('bias', BitNetTensor.full([20], NaN)))],
      ['corrupt codes', rebuild((t) => t.set('weight', BitNetTensor.full([t.get('weight')!.numel], 255, { dtype: 'U8' })))],
      ['layout mismatch', rebuild((_, m) => (m.layout = 'tq2_0'))],
    ];
    for (const [name, bytes] of cases) {
      const error = errorOf(() => BitLinear.deserialize(bytes));
      expect({ name, code: code(error) }).toEqual({ name, code: 'ERR_BITNET_FILE_FORMAT' });
    }
    const garbage = path.join(dir, 'garbage.safetensors');
    await fs.writeFile(garbage, new Uint8Array(5));
    await expect(BitLinear.load(garbage)).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT' });
    await expect(BitLinear.load(path.join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_NOT_FOUND' });
    for (const t of good.tensors.values()) t.dispose();
  });

  it('a packed layer converts between layouts and through PackedTernaryTensor tensors exactly', () => {
    using layer = layerWithEverything();
    using i2 = layer.packedWeight();
    using tensor = i2.toTensor();
    using again = PackedTernaryTensor.fromTensor(tensor, { rows: 20, columns: 512, scales: i2.rowScales });
    using bias = layer.bias();
    using norm = layer.normWeight();
    using rebuilt = BitLinear.fromPacked(again, { bias, normWeight: norm });
    using x = BitNetTensor.fromArray(randomArray(512, 66), [1, 512]);
    using a = layer.forward(x);
    using b = rebuilt.forward(x);
    expect(b.toTypedArray()).toEqual(a.toTypedArray());
  });
});

describe('BitLinear with group scales', () => {
  /** Absmean per (row, group of columns) in float64, stored as float32, as quantize158 documents. */
  function groupWeightReference(w: Float32Array, rows: number, columns: number, groupSize: number) {
    const groups = Math.ceil(columns / groupSize);
    const scales = new Float64Array(rows * groups);
    const values = new Int8Array(rows * columns);
    for (let r = 0; r < rows; r++)
      for (let g = 0; g < groups; g++) {
        const from = g * groupSize, to = Math.min(columns, from + groupSize);
        let sum = 0;
        for (let c = from; c < to; c++) sum += Math.abs(w[r * columns + c]!);
        const scale = Math.fround(Math.max(sum / (to - from), 1e-5));
        scales[r * groups + g] = scale;
        for (let c = from; c < to; c++) values[r * columns + c] = Math.max(-1, Math.min(1, roundHalfEven(w[r * columns + c]! / scale)));
      }
    return { values, scales, groups };
  }

  /** Weights whose magnitude changes from group to group, so the group scales really differ. */
  function uneven(rows: number, columns: number, seed: number): Float32Array {
    const w = randomArray(rows * columns, seed, 0.05);
    for (let i = 0; i < w.length; i++) w[i] = w[i]! * (1 + Math.floor((i % columns) / 256));
    return w;
  }

  for (const [out, inF, groupSize, tokens] of [[24, 1024, 256, 5], [10, 700, 512, 3], [9, 2560, 1024, 1]] as const) {
    it(`equals the documented grouped computation exactly on every tier: ${out}×${inF}, groups of ${groupSize}`, async () => {
      const wData = uneven(out, inF, out + inF);
      const bData = randomArray(out, 5, 0.5);
      using w = BitNetTensor.fromArray(wData, [out, inF]);
      using b = BitNetTensor.fromArray(bData, [out]);
      using layer = BitLinear.fromFloatWeights(w, b, { granularity: 'group', groupSize });
      expect([layer.granularity, layer.groupSize]).toEqual(['group', groupSize]);
      using packed = layer.packedWeight();
      expect(packed.groupSize).toBe(groupSize);
      const xData = randomArray(tokens * inF, 7 + inF, 3);
      using x = BitNetTensor.fromArray(xData, [tokens, inF]);
      // (Σ_g fround(dot_g) · scale_g summed in float32 in group order) · xScale + bias, in float32.
      const ref = groupWeightReference(wData, out, inF, groupSize);
      const q = activationReference(xData, tokens, inF);
      const expected = new Float32Array(tokens * out);
      for (let n = 0; n < tokens; n++)
        for (let r = 0; r < out; r++) {
          let sum = 0;
          for (let g = 0; g < ref.groups; g++) {
            let dot = 0;
            for (let k = g * groupSize; k < Math.min(inF, (g + 1) * groupSize); k++) dot += ref.values[r * inF + k]! * q.values[n * inF + k]!;
            sum = Math.fround(sum + Math.fround(Math.fround(dot) * ref.scales[r * ref.groups + g]!));
          }
          expected[n * out + r] = Math.fround(Math.fround(sum * q.scales[n]!) + bData[r]!);
        }
      for (const tier of tiers) {
        using y = layer.forward(x, { tier, threads: 2 });
        expect(y.toTypedArray()).toEqual(expected);
      }
      using ya = await layer.forwardAsync(x);
      expect(ya.toTypedArray()).toEqual(expected);
      // The dequantized weights are value × its group's scale.
      using dq = layer.dequantizedWeight();
      const d = dq.toTypedArray();
      for (let i = 0; i < d.length; i += 97) expect(d[i]).toBe(Math.fround(ref.values[i]! * ref.scales[Math.floor(i / inF) * ref.groups + Math.floor((i % inF) / groupSize)]!));
    });
  }

  it('backward uses the group-scaled weights (dL/dx = dL/dy · W̃)', () => {
    const tokens = 4, K = 768, N = 12;
    const wData = uneven(N, K, 41);
    using w = BitNetTensor.fromArray(wData, [N, K]);
    using layer = BitLinear.fromFloatWeights(w, null, { granularity: 'group', groupSize: 256 }).train();
    using x = BitNetTensor.fromArray(randomArray(tokens * K, 42, 2), [tokens, K]);
    using y = layer.forward(x);
    const gy = randomArray(tokens * N, 43);
    using gyT = BitNetTensor.fromArray(gy, [tokens, N]);
    using grads = layer.backward(gyT);
    const ref = groupWeightReference(wData, N, K, 256);
    const dx = new Float64Array(tokens * K);
    for (let t = 0; t < tokens; t++)
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let o = 0; o < N; o++) s += gy[t * N + o]! * ref.values[o * K + k]! * ref.scales[o * ref.groups + Math.floor(k / 256)]!;
        dx[t * K + k] = s;
      }
    expectClose(grads.input, dx, 1e-5);
    // A training step requantizes per group again.
    layer.sgdStep(grads, 0.01);
    using packed = layer.packedWeight();
    expect(packed.groupSize).toBe(256);
  });

  it('ggml TQ2_0 blocks with different scales in a row load, run, save and load again', async () => {
    const out = 8, inF = 1024;
    using w = BitNetTensor.fromArray(uneven(out, inF, 51), [out, inF]);
    using source = BitLinear.fromFloatWeights(w, null, { granularity: 'group', groupSize: 256 });
    using tq2 = source.packedWeight('tq2_0');
    using layer = BitLinear.fromPacked(tq2);
    expect([layer.granularity, layer.groupSize]).toEqual(['group', 256]);
    using x = BitNetTensor.fromArray(randomArray(2 * inF, 52, 2), [2, inF]);
    using y = layer.forward(x);
    // Same forward as the source with its scales rounded to fp16 (what TQ2_0 stores).
    using dq = tq2.dequantize();
    const got = y.toTypedArray();
    const weights = dq.toTypedArray();
    const xs = x.toTypedArray();
    const q = activationReference(xs, 2, inF);
    for (let n = 0; n < 2; n++)
      for (let r = 0; r < out; r++) {
        let exact = 0, bound = 0;
        for (let k = 0; k < inF; k++) {
          exact += weights[r * inF + k]! * xs[n * inF + k]!;
          bound += Math.abs(weights[r * inF + k]!) * q.scales[n]! / 2;
        }
        expect(Math.abs(got[n * out + r]! - exact)).toBeLessThanOrEqual(bound);
      }
    for (const layout of ['i2_r4', 'tq2_0', 'tq1_0'] as const) {
      const file = path.join(dir, `grouped-${layout}.safetensors`);
      await layer.save(file, { layout });
      using loaded = await BitLinear.load(file);
      expect([loaded.granularity, loaded.groupSize]).toEqual(['group', 256]);
      using y2 = loaded.forward(x);
      expect(y2.toTypedArray()).toEqual(got);
    }
    const { metadata, tensors } = deserializeSafetensors(layer.serialize());
    expect([metadata.group_size, metadata.weight_group_size]).toEqual(['256', '256']);
    expect(tensors.get('weight_scale')!.shape).toEqual([out, 4]);
    for (const t of tensors.values()) t.dispose();
  });

  it('rejects group sizes the kernels cannot apply, and bad grouped files', () => {
    expect(code(errorOf(() => new BitLinear({ inFeatures: 512, outFeatures: 2, granularity: 'group', groupSize: 128 })))).toBe('ERR_BITNET_UNSUPPORTED');
    expect(code(errorOf(() => new BitLinear({ inFeatures: 512, outFeatures: 2, granularity: 'row', groupSize: 256 })))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    using w = BitNetTensor.fromArray(uneven(4, 512, 61), [4, 512]);
    using layer = BitLinear.fromFloatWeights(w, null, { granularity: 'group' });
    const good = deserializeSafetensors(layer.serialize());
    const variants: Array<[string, (m: Record<string, string>) => void]> = [
      ['no weight_group_size', (m) => delete m.weight_group_size],
      ['other weight_group_size', (m) => (m.weight_group_size = '512')],
      ['no group_size', (m) => delete m.group_size],
      ['group_size without group granularity', (m) => (m.granularity = 'row')],
    ];
    for (const [name, edit] of variants) {
      const metadata = { ...good.metadata };
      edit(metadata);
      const error = errorOf(() => BitLinear.deserialize(serializeSafetensors(good.tensors, metadata)));
      expect({ name, code: code(error) }).toEqual({ name, code: 'ERR_BITNET_FILE_FORMAT' });
    }
    for (const t of good.tensors.values()) t.dispose();
  });
});

describe('BitLinear file errors and sizes', () => {
  it('a NaN/Inf fp16 block scale in tq2_0/tq1_0 weights, or a group_size that is no multiple of 256, is ERR_BITNET_FILE_FORMAT naming the source', async () => {
    using w = BitNetTensor.fromArray(randomArray(2 * 256, 71), [2, 256]);
    using layer = BitLinear.fromFloatWeights(w);
    for (const [layout, blockBytes] of [['tq2_0', 66], ['tq1_0', 54]] as const) {
      for (const bits of [0x7e00, 0x7c00, 0xfc00]) { // NaN, +Inf, -Inf
        const { tensors, metadata } = deserializeSafetensors(layer.serialize({ layout }));
        const bytes = tensors.get('weight')!.rawBytes();
        // Each block ends with its fp16 scale (little-endian); spoil the second row's.
        bytes[2 * blockBytes - 2] = bits & 0xff;
        bytes[2 * blockBytes - 1] = bits >> 8;
        const file = serializeSafetensors(tensors, metadata);
        const error = errorOf(() => BitLinear.deserialize(file)) as Error;
        expect({ layout, bits, code: code(error) }).toEqual({ layout, bits, code: 'ERR_BITNET_FILE_FORMAT' });
        expect(error.message).toMatch(/^\[BitLinear\.deserialize\] buffer: /);
        const onDisk = path.join(dir, `bad-scale-${layout}.safetensors`);
        await fs.writeFile(onDisk, file);
        await expect(BitLinear.load(onDisk)).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining(`[BitLinear.load] bad-scale-${layout}.safetensors: `) });
        for (const t of tensors.values()) t.dispose();
      }
    }
    const { tensors, metadata } = deserializeSafetensors(layer.serialize());
    for (const groupSize of ['100', '128', '300']) {
      const error = errorOf(() => BitLinear.deserialize(serializeSafetensors(tensors, { ...metadata, granularity: 'group', group_size: groupSize }))) as Error;
      expect({ groupSize, code: code(error) }).toEqual({ groupSize, code: 'ERR_BITNET_FILE_FORMAT' });
      expect(error.message).toContain(`buffer: metadata group_size ${groupSize} is not a multiple of 256`);
    }
    for (const t of tensors.values()) t.dispose();
  });

  it('a tensor of a dtype the reader cannot hold (I64) makes the file foreign: ERR_BITNET_FILE_FORMAT', async () => {
    using w = BitNetTensor.fromArray(randomArray(2 * 256, 72), [2, 256]);
    using layer = BitLinear.fromFloatWeights(w);
    const file = layer.serialize();
    // Append an I64 entry by hand (our writer has no I64): header + 8 data bytes.
    const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, unknown>;
    const dataBytes = file.byteLength - 8 - n;
    header.position_ids = { dtype: 'I64', shape: [1], data_offsets: [dataBytes, dataBytes + 8] };
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const bytes = new Uint8Array(8 + json.length + dataBytes + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(new TextEncoder().encode(json), 8);
    bytes.set(file.subarray(8 + n), 8 + json.length);
    const error = errorOf(() => BitLinear.deserialize(bytes)) as Error;
    expect(code(error)).toBe('ERR_BITNET_FILE_FORMAT');
    expect(error.message).toBe('[BitLinear.deserialize] buffer: unexpected tensor "position_ids" of dtype I64');
    const onDisk = path.join(dir, 'foreign-i64.safetensors');
    await fs.writeFile(onDisk, bytes);
    await expect(BitLinear.load(onDisk)).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining('foreign-i64.safetensors: unexpected tensor "position_ids"') });
  });

  it('a layer too large for the pool, or a bad pool, fails with a typed error', () => {
    const before = getDefaultPool().getMetrics().currentAllocated;
    expect(code(errorOf(() => new BitLinear({ inFeatures: 2 ** 20, outFeatures: 2 ** 20, seed: 1 })))).toBe('ERR_BITNET_OUT_OF_MEMORY');
    expect(code(errorOf(() => new BitLinear({ inFeatures: 4, outFeatures: 2, pool: {} as never })))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(getDefaultPool().getMetrics().currentAllocated).toBe(before);
  });
});
