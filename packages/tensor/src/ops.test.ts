import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BitNetTensor, CpuTensorBackend, add, argmax, argmin, clamp, div, eq, exp, ge, gelu, gt, layerNorm, le, log, logSoftmax, lt, matmul,
  matmulAsync, max, maximum, mean, min, minimum, mul, ne, neg, pow, registerTensorBackend, relu, rmsNorm, rsqrt, setDefaultTensorPool,
  sigmoid, silu, softmax, sqrt, sub, sum, tanh, variance, where, abs,
} from './index.js';
import { HybridMemoryPool } from '@bitnet/memory';
import { broadcastIndex, closeTo, makeTensor, randomValues, readStrided, rng, testTiers, unravel } from './testing/reference.js';

const pool = new HybridMemoryPool();
const layouts = ['contiguous', 'transposed', 'strided'] as const;
const f = Math.fround;

beforeAll(() => setDefaultTensorPool(pool));
afterAll(() => registerTensorBackend(new CpuTensorBackend()));

/** Runs fn and disposes every tensor created in it that it did not return. */
function using<T>(fn: (keep: (t: BitNetTensor) => BitNetTensor) => T): T {
  const made: BitNetTensor[] = [];
  try {
    return fn((t) => (made.push(t), t));
  } finally {
    for (const t of made) t.dispose();
  }
}

function refBinary(a: number[], as: number[], b: number[], bs: number[], out: number[], fn: (x: number, y: number) => number): number[] {
  const n = out.reduce((p, d) => p * d, 1);
  const result: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, out);
    result.push(fn(a[broadcastIndex(idx, as)]!, b[broadcastIndex(idx, bs)]!));
  }
  return result;
}

const shapePairs: [number[], number[]][] = [
  [[7], [7]],
  [[3, 1, 5], [4, 1]],
  [[2, 3, 4], [4]],
  [[1], [6, 5]],
  [[0, 3], [3]],
  [[5, 0], [1, 1]],
  [[65, 70], [70]], // large enough to run on several threads, odd sizes for tails
  [[2, 1, 33], [2, 17, 1]],
];

for (const tier of testTiers()) {
  describe(`ops on the ${tier} tier`, () => {
    beforeAll(() => registerTensorBackend(new CpuTensorBackend({ tier })));
    const next = rng(tier.length * 7919);

    const binaries: [string, (a: BitNetTensor, b: BitNetTensor) => BitNetTensor, (x: number, y: number) => number, number][] = [
      ['add', add, (x, y) => f(x + y), 0],
      ['sub', sub, (x, y) => f(x - y), 0],
      ['mul', mul, (x, y) => f(x * y), 0],
      ['div', div, (x, y) => f(x / y), 0],
      ['maximum', maximum, (x, y) => Math.max(x, y), 0],
      ['minimum', minimum, (x, y) => Math.min(x, y), 0],
      ['pow', (a, b) => { const x = abs(a); try { return pow(x, b); } finally { x.dispose(); } }, (x, y) => Math.abs(x) ** y, 2e-6],
    ];
    for (const [name, op, ref, rtol] of binaries) {
      it(`${name}: broadcasting, strided views, zero-size (float64 reference)`, () => {
        for (const [sa, sb] of shapePairs) {
          for (const layout of layouts) {
            using((keep) => {
              const va = randomValues(sa.reduce((p, d) => p * d, 1), next);
              const vb = randomValues(sb.reduce((p, d) => p * d, 1), next);
              const a = keep(makeTensor(va, sa, layout));
              const b = keep(makeTensor(vb, sb, layout === 'transposed' ? 'strided' : layout));
              const out = keep(op(a, b));
              const want = refBinary(va, sa, vb, sb, [...out.shape], name === 'pow' ? (x, y) => ref(x, y) : ref);
              closeTo(readStrided(out), want, rtol, rtol ? 1e-30 : 0, `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)} ${layout}`);
            });
          }
        }
      });
    }

    it('NaN propagates through maximum/minimum from either side', () => {
      using((keep) => {
        const a = keep(BitNetTensor.fromArray([NaN, 1, 2, NaN]));
        const b = keep(BitNetTensor.fromArray([1, NaN, 3, NaN]));
        expect(readStrided(keep(maximum(a, b))).map(Number.isNaN)).toEqual([true, true, false, true]);
        expect(readStrided(keep(minimum(a, b))).map(Number.isNaN)).toEqual([true, true, false, true]);
      });
    });

    it('comparisons give Bool with broadcasting', () => {
      const cases: [string, (a: BitNetTensor, b: BitNetTensor | number) => BitNetTensor, (x: number, y: number) => boolean][] = [
        ['eq', eq, (x, y) => x === y], ['ne', ne, (x, y) => x !== y], ['lt', lt, (x, y) => x < y],
        ['le', le, (x, y) => x <= y], ['gt', gt, (x, y) => x > y], ['ge', ge, (x, y) => x >= y],
      ];
      for (const [name, op, ref] of cases) {
        using((keep) => {
          const va = [1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 3].map(f);
          const vb = [3, NaN, 9].map(f);
          const a = keep(makeTensor(va, [6, 3], 'transposed'));
          const b = keep(BitNetTensor.fromArray(vb, [3]));
          const out = keep(op(a, b));
          expect(out.dtype.name).toBe('Bool');
          expect(readStrided(out), name).toEqual(refBinary(va, [6, 3], vb, [3], [6, 3], (x, y) => (ref(x, y) ? 1 : 0)));
        });
      }
    });

    const unaries: [string, (a: BitNetTensor) => BitNetTensor, (x: number) => number, number, number, [number, number]][] = [
      ['neg', neg, (x) => -x, 0, 0, [-5, 5]],
      ['abs', abs, Math.abs, 0, 0, [-5, 5]],
      ['sqrt', sqrt, Math.sqrt, 1e-7, 0, [0, 50]],
      ['rsqrt', rsqrt, (x) => 1 / Math.sqrt(x), 2e-7, 0, [0.01, 50]],
      ['exp', exp, Math.exp, 3e-7, 1e-37, [-90, 88]],
      ['log', log, Math.log, 3e-7, 1e-7, [1e-30, 1e6]],
      ['relu', relu, (x) => Math.max(0, x), 0, 0, [-5, 5]],
      ['sigmoid', sigmoid, (x) => 1 / (1 + Math.exp(-x)), 5e-7, 1e-30, [-40, 40]],
      ['silu', silu, (x) => x / (1 + Math.exp(-x)), 5e-7, 1e-30, [-40, 40]],
      ['tanh', tanh, Math.tanh, 5e-7, 1e-30, [-12, 12]],
      ['gelu', (a) => gelu(a), (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), 2e-6, 1e-7, [-8, 8]],
      ['geluTanh', (a) => gelu(a, 'tanh'), (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 2e-6, 2e-7, [-8, 8]],
      ['clamp', (a) => clamp(a, -1, 2), (x) => Math.min(2, Math.max(-1, x)), 0, 0, [-5, 5]],
    ];
    for (const [name, op, ref, rtol, atol, [low, high]] of unaries) {
      it(`${name} on strided views against float64`, () => {
        for (const shape of [[37], [3, 0], [40, 1100], [5, 7, 3]]) {
          for (const layout of layouts) {
            using((keep) => {
              const values = randomValues(shape.reduce((p, d) => p * d, 1), next, low, high);
              const a = keep(makeTensor(values, shape, layout));
              const out = keep(op(a));
              closeTo(readStrided(out), values.map(ref), rtol, atol, `${name} ${JSON.stringify(shape)} ${layout}`);
            });
          }
        }
      });
    }

    it('special values: exp/log/tanh/sigmoid/relu on ±Inf, NaN, 0, subnormal', () => {
      using((keep) => {
        const special = [Infinity, -Infinity, NaN, 0, -0, 1e-40, -1e-40, 100, -100];
        const a = keep(BitNetTensor.fromArray(special));
        closeTo(readStrided(keep(exp(a))), special.map((x) => f(Math.exp(x))), 3e-7, 1e-44, 'exp');
        closeTo(readStrided(keep(log(a))), special.map((x) => Math.log(f(x))), 3e-7, 0, 'log');
        closeTo(readStrided(keep(tanh(a))), special.map(Math.tanh), 5e-7, 1e-44, 'tanh');
        closeTo(readStrided(keep(sigmoid(a))), special.map((x) => 1 / (1 + Math.exp(-x))), 5e-7, 1e-37, 'sigmoid'); // exp(100) overflows float32: sigmoid(-100) flushes to 0
        closeTo(readStrided(keep(relu(a))), special.map((x) => (Number.isNaN(x) ? NaN : Math.max(0, f(x)))), 0, 0, 'relu');
      });
    });

    it('where with a broadcast condition', () => {
      using((keep) => {
        const cond = keep(BitNetTensor.fromArray([[true], [false], [true]]));
        const a = keep(makeTensor([1, 2, 3, 4].map(f), [4], 'strided'));
        const out = keep(where(cond, a, -1));
        expect(out.toArray()).toEqual([[1, 2, 3, 4], [-1, -1, -1, -1], [1, 2, 3, 4]]);
      });
    });

    const reduceShapes: [number[], number[] | undefined][] = [
      [[5, 7], [1]], [[5, 7], [0]], [[5, 7], undefined], [[3, 4, 5], [0, 2]], [[3, 4, 5], [1]],
      [[2, 0, 3], [1]], [[2, 0, 3], [0]], [[300, 150], [0]], [[300, 150], [1]], [[70000], [0]], [[4, 3, 2, 5], [0, 3]],
    ];
    const reducers: [string, (a: BitNetTensor, axes?: number[], keep?: boolean) => BitNetTensor, (v: number[]) => number, number][] = [
      ['sum', sum, (v) => v.reduce((p, x) => p + x, 0), 1e-5],
      ['mean', mean, (v) => v.reduce((p, x) => p + x, 0) / v.length, 1e-5],
      ['max', max, (v) => Math.max(...v), 0],
      ['min', min, (v) => Math.min(...v), 0],
      ['var', (a, axes, k) => variance(a, axes, k), (v) => { const m = v.reduce((p, x) => p + x, 0) / v.length; return v.reduce((p, x) => p + (x - m) ** 2, 0) / v.length; }, 1e-5],
    ];
    for (const [name, op, ref, rtol] of reducers) {
      it(`${name} over any axes, strided, keepDims, zero-size`, () => {
        for (const [shape, axes] of reduceShapes) {
          const count = shape.reduce((p, d) => p * d, 1);
          const reduced = (axes ?? shape.map((_, i) => i)).reduce((p, a) => p * shape[a]!, 1);
          if (reduced === 0 && (name === 'max' || name === 'min')) continue;
          for (const layout of layouts) {
            using((keep) => {
              const values = randomValues(count, next);
              const a = keep(makeTensor(values, shape, layout));
              const out = keep(op(a, axes, true));
              const axisList = axes ?? shape.map((_, i) => i);
              expect(out.shape).toEqual(shape.map((d, i) => (axisList.includes(i) ? 1 : d)));
              const want: number[] = [];
              const outCount = out.numel;
              const groups: number[][] = Array.from({ length: outCount }, () => []);
              for (let i = 0; i < count; i++) {
                const idx = unravel(i, shape);
                const o = idx.map((v, d) => (axisList.includes(d) ? 0 : v));
                groups[broadcastIndex(o, out.shape)]!.push(values[i]!);
              }
              for (const g of groups) want.push(g.length === 0 ? (name === 'sum' ? 0 : NaN) : ref(g));
              closeTo(readStrided(out), want, rtol, rtol * 10, `${name} ${JSON.stringify(shape)} ${JSON.stringify(axes)} ${layout}`);
            });
          }
        }
      });
    }

    it('argmax/argmin: first occurrence, NaN wins, flattened when no axis', () => {
      using((keep) => {
        const values = [3, 9, 9, 1, 1, 7, 2, 5, 0, 4, 8, 6];
        const a = keep(makeTensor(values, [3, 4], 'transposed'));
        expect(keep(argmax(a, 1)).toArray()).toEqual([1, 1, 2]);
        expect(keep(argmin(a, 0)).toArray()).toEqual([2, 2, 1, 0]);
        expect(keep(argmax(a)).item()).toBe(1);
        expect(keep(argmin(a)).item()).toBe(8);
        expect(keep(argmax(a, 0)).dtype.name).toBe('I32');
        const big = randomValues(50000, next);
        big[31337] = 10;
        expect(keep(argmax(keep(BitNetTensor.fromArray(big)))).item()).toBe(31337);
        const withNaN = keep(BitNetTensor.fromArray([1, NaN, 5, NaN]));
        expect(keep(argmax(withNaN)).item()).toBe(1);
        expect(Number.isNaN(keep(max(withNaN)).item())).toBe(true);
      });
    });

    it('softmax / logSoftmax along any axis', () => {
      for (const [shape, axis] of [[[4, 9], -1], [[4, 9], 0], [[3, 5, 40], 1], [[2, 1000], -1], [[3, 0], 0]] as [number[], number][]) {
        for (const layout of layouts) {
          using((keep) => {
            const values = randomValues(shape.reduce((p, d) => p * d, 1), next, -20, 20);
            const a = keep(makeTensor(values, shape, layout));
            const ax = axis < 0 ? axis + shape.length : axis;
            const want: number[] = new Array(values.length), wantLog: number[] = new Array(values.length);
            const groups = new Map<string, number[]>();
            values.forEach((_, i) => {
              const idx = unravel(i, shape);
              idx[ax] = 0;
              const key = idx.join(',');
              groups.set(key, [...(groups.get(key) ?? []), i]);
            });
            for (const members of groups.values()) {
              const m = Math.max(...members.map((i) => values[i]!));
              const s = members.reduce((p, i) => p + Math.exp(values[i]! - m), 0);
              for (const i of members) {
                want[i] = Math.exp(values[i]! - m) / s;
                wantLog[i] = values[i]! - m - Math.log(s);
              }
            }
            closeTo(readStrided(keep(softmax(a, axis))), want, 2e-6, 1e-9, `softmax ${JSON.stringify(shape)} ${axis} ${layout}`);
            closeTo(readStrided(keep(logSoftmax(a, axis))), wantLog, 2e-6, 2e-6, `logSoftmax ${JSON.stringify(shape)} ${axis} ${layout}`);
          });
        }
      }
    });

    it('rmsNorm and layerNorm with and without weight/bias', () => {
      for (const shape of [[3, 17], [2, 2, 300], [1, 4096]]) {
        for (const layout of layouts) {
          using((keep) => {
            const n = shape[shape.length - 1]!;
            const values = randomValues(shape.reduce((p, d) => p * d, 1), next, -4, 6);
            const wv = randomValues(n, next), bv = randomValues(n, next);
            const x = keep(makeTensor(values, shape, layout));
            const w = keep(BitNetTensor.fromArray(wv)), b = keep(BitNetTensor.fromArray(bv));
            const rows = values.length / n;
            const wantRms: number[] = [], wantRmsW: number[] = [], wantLn: number[] = [], wantLnWB: number[] = [];
            for (let r = 0; r < rows; r++) {
              const row = values.slice(r * n, (r + 1) * n);
              const ms = row.reduce((p, v) => p + v * v, 0) / n;
              const mu = row.reduce((p, v) => p + v, 0) / n;
              const vr = row.reduce((p, v) => p + (v - mu) ** 2, 0) / n;
              row.forEach((v, j) => {
                wantRms.push(v / Math.sqrt(ms + 1e-6));
                wantRmsW.push((v / Math.sqrt(ms + 1e-6)) * wv[j]!);
                wantLn.push((v - mu) / Math.sqrt(vr + 1e-5));
                wantLnWB.push(((v - mu) / Math.sqrt(vr + 1e-5)) * wv[j]! + bv[j]!);
              });
            }
            closeTo(readStrided(keep(rmsNorm(x))), wantRms, 3e-6, 3e-6, 'rmsNorm');
            closeTo(readStrided(keep(rmsNorm(x, w))), wantRmsW, 3e-6, 3e-6, 'rmsNorm weight');
            closeTo(readStrided(keep(layerNorm(x))), wantLn, 3e-6, 3e-6, 'layerNorm');
            closeTo(readStrided(keep(layerNorm(x, w, b))), wantLnWB, 3e-6, 3e-6, 'layerNorm weight bias');
          });
        }
      }
    });

    it('large magnitudes: logSoftmax, norms and sums stay exact where float32 lanes would overflow or lose the row', () => {
      // Each row at lengths below, at and past the vector widths (8, 16) and one 4096-element block.
      for (const n of [2, 7, 16, 17, 33, 4097]) {
        using((keep) => {
          // logSoftmax of a row at a large constant c: every entry is exactly −log n, whatever c is.
          for (const c of [1e3, 1e5, 1e8, -3e37]) {
            const got = readStrided(keep(logSoftmax(keep(BitNetTensor.full([n], c)))));
            closeTo(got, new Array<number>(n).fill(-Math.log(n)), 1e-6, 0, `logSoftmax of ${n} × ${c}`);
          }
          // A row with one huge entry (its square overflows float32) and small ones; float64 reference.
          const row = Array.from({ length: n }, (_, j) => (j === 0 ? 1e20 : j + 1));
          const x = keep(BitNetTensor.fromArray(row));
          const f = (v: number) => Math.fround(v);
          const ms = row.reduce((p, v) => p + f(v) * f(v), 0) / n;
          closeTo(readStrided(keep(rmsNorm(x))), row.map((v) => f(v) / Math.sqrt(ms + 1e-6)), 3e-6, 1e-30, `rmsNorm huge ${n}`);
          const mu = row.reduce((p, v) => p + f(v), 0) / n;
          const vr = row.reduce((p, v) => p + (f(v) - mu) ** 2, 0) / n;
          closeTo(readStrided(keep(layerNorm(x))), row.map((v) => (f(v) - mu) / Math.sqrt(vr + 1e-5)), 3e-6, 1e-6, `layerNorm huge ${n}`);
          // ±5e18 rows: Σx² = n · 2.5e37 overflows float32 lanes from n = 14; the result is ±1.
          const signs = Array.from({ length: n }, (_, j) => (j % 2 ? 5e18 : -5e18));
          closeTo(readStrided(keep(rmsNorm(keep(BitNetTensor.fromArray(signs))))), signs.map(Math.sign), 1e-6, 0, `rmsNorm ±5e18 ${n}`);
          // Sums whose running float32 total overflows though the sum does not (exact in double: multiples of one float).
          const big = Array.from({ length: 2 * n - 1 }, (_, j) => (j < n ? 3e38 : -3e38));
          expect(keep(sum(keep(BitNetTensor.fromArray(big)))).item()).toBe(Math.fround(3e38));
          if (n < 100) expect(keep(sum(keep(BitNetTensor.fromArray([...big, -3e38, 5])))).item()).toBe(5); // one thread: exact
          expect(keep(mean(keep(BitNetTensor.full([n], 3e38)))).item()).toBe(Math.fround(3e38));
        });
      }
    });

    it('gelu and gelu-tanh keep their relative accuracy in the negative tail (no 1 + erf / 1 + tanh cancellation)', () => {
      // float64 erfc(z) for z ≥ 2 by its continued fraction: e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3⁄2/(z + …)))).
      const erfc = (z: number) => {
        let tail = z;
        for (let k = 80; k >= 1; k--) tail = z + k / 2 / tail;
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / tail;
      };
      const xs = Array.from({ length: 71 }, (_, i) => -3 - i * 0.1); // −3 … −10
      using((keep) => {
        const x = keep(BitNetTensor.fromArray(xs));
        const f = xs.map((v) => Math.fround(v));
        closeTo(readStrided(keep(gelu(x))), f.map((v) => 0.5 * v * erfc(-v / Math.SQRT2)), 2e-5, 0, 'gelu tail');
        const tanhForm = f.slice(0, 61).map((v) => v * (1 / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))));
        closeTo(readStrided(keep(gelu(x, 'tanh'))).slice(0, 61), tanhForm, 2e-5, 0, 'gelu tanh tail');
      });
    });

    it('exp is finite up to the largest float below ln(FLT_MAX) and Inf past it', () => {
      const xs = [88.72, 88.7228, 88.72281646728516, 88.72283172607422, 88.72283935546875, 89, -103.9, -104];
      using((keep) => {
        const got = readStrided(keep(exp(keep(BitNetTensor.fromArray(Array.from({ length: 24 }, (_, i) => xs[i % xs.length]!))))));
        const want = Array.from({ length: 24 }, (_, i) => Math.fround(Math.exp(Math.fround(xs[i % xs.length]!))));
        closeTo(got, want, 3e-6, 1e-44, 'exp near the float32 limits');
      });
    });

    it('var with a correction of at least the count: +Inf, or NaN when every value is equal (numpy, torch)', () => {
      using((keep) => {
        const x = keep(BitNetTensor.fromArray([5, 7]));
        expect(keep(variance(x, undefined, false, 2)).item()).toBe(Infinity);
        expect(keep(variance(x, undefined, false, 3)).item()).toBe(Infinity);
        expect(keep(variance(x, undefined, false, 1)).item()).toBe(2);
        expect(keep(variance(keep(BitNetTensor.fromArray([5, 5])), undefined, false, 2)).item()).toBeNaN();
      });
    });

    it('matmul: batched, broadcast batch, transposed/strided operands, vectors, k = 0', () => {
      const cases: [number[], number[]][] = [
        [[5, 3], [3, 4]], [[1, 70], [70, 33]], [[2, 70], [70, 130]], [[37, 300], [300, 45]], [[130, 64], [64, 140]],
        [[2, 3, 13, 20], [20, 9]], [[4, 1, 6, 7], [3, 7, 5]], [[7], [7, 5]], [[6, 7], [7]], [[7], [7]], [[4, 0], [0, 3]], [[0, 5], [5, 2]],
      ];
      for (const [sa, sb] of cases) {
        for (const layout of layouts) {
          using((keep) => {
            const va = randomValues(sa.reduce((p, d) => p * d, 1), next, -1, 1);
            const vb = randomValues(sb.reduce((p, d) => p * d, 1), next, -1, 1);
            const a = keep(makeTensor(va, sa, layout));
            const b = keep(makeTensor(vb, sb, layout === 'strided' ? 'transposed' : layout));
            const out = keep(matmul(a, b));
            // Reference with numpy semantics.
            const a2 = sa.length === 1 ? [1, sa[0]!] : sa, b2 = sb.length === 1 ? [sb[0]!, 1] : sb;
            const m = a2[a2.length - 2]!, k = a2[a2.length - 1]!, n = b2[b2.length - 1]!;
            const ba = a2.slice(0, -2), bb = b2.slice(0, -2);
            const nb = Math.max(ba.length, bb.length);
            const batch = Array.from({ length: nb }, (_, i) => Math.max(ba[ba.length - nb + i] ?? 1, bb[bb.length - nb + i] ?? 1));
            const batchCount = batch.reduce((p, d) => p * d, 1);
            const want: number[] = [];
            for (let bi = 0; bi < batchCount; bi++) {
              const idx = unravel(bi, batch);
              const oa = broadcastIndex(idx, ba) * m * k, ob = broadcastIndex(idx, bb) * k * n;
              for (let i = 0; i < m; i++)
                for (let j = 0; j < n; j++) {
                  let s = 0;
                  for (let p = 0; p < k; p++) s += va[oa + i * k + p]! * vb[ob + p * n + j]!;
                  want.push(s);
                }
            }
            const expectedShape = [...batch, ...(sa.length === 1 ? [] : [m]), ...(sb.length === 1 ? [] : [n])];
            expect(out.shape).toEqual(expectedShape);
            closeTo(readStrided(out), want, 1e-5, 2e-6 * Math.sqrt(k + 1), `matmul ${JSON.stringify(sa)} x ${JSON.stringify(sb)} ${layout}`);
          });
        }
      }
    });
  });
}

describe('matmul errors and async', () => {
  it('rejects mismatched inner sizes with both shapes in the message', () => {
    using((keep) => {
      const a = keep(BitNetTensor.zeros([2, 3])), b = keep(BitNetTensor.zeros([4, 5]));
      expect(() => matmul(a, b)).toThrow(/\[matmul\] shapes \[2, 3\] and \[4, 5\] do not chain: inner sizes 3 and 4 differ/);
      try {
        matmul(a, b);
      } catch (error) {
        expect((error as { code: string }).code).toBe('ERR_BITNET_SHAPE_MISMATCH');
      }
    });
  });

  it('matmulAsync equals matmul and keeps inputs alive when disposed early', async () => {
    const next = rng(5);
    const a = BitNetTensor.fromArray(randomValues(64 * 80, next), [64, 80]);
    const b = BitNetTensor.fromArray(randomValues(80 * 96, next), [80, 96]);
    const sync = matmul(a, b);
    const pending = matmulAsync(a, b);
    a.dispose();
    b.dispose();
    const result = await pending;
    expect(readStrided(result)).toEqual(readStrided(sync));
    result.dispose();
    sync.dispose();
  });

  it('broadcast errors name the shapes', () => {
    using((keep) => {
      const a = keep(BitNetTensor.zeros([2, 3])), b = keep(BitNetTensor.zeros([4]));
      expect(() => add(a, b)).toThrow('[add] shapes [2, 3] and [4] cannot be broadcast: axis -1 has 3 and 4');
    });
  });

  it('leaves no pool blocks behind', () => {
    expect(pool.getMetrics().currentAllocated).toBe(0);
  });
});

/** erf to ~1e-15 (Abramowitz–Stegun 7.1.28 is too coarse; use a series / continued fraction). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax, sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let frac = 0;
  for (let n = 60; n >= 1; n--) frac = (n / 2) / (ax + frac);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  return Math.sign(x) * (1 - erfc);
}

describe('zero-element views with a non-zero offset', () => {
  it('every op returns an empty (or, for matmul with k = 0, a zero) result', () => {
    using((keep) => {
      // select(0, 1) of [2, 0] has offset ≥ 1 although it has no elements.
      const empties = (['F32', 'F16', 'BF16', 'I32'] as const).map((dtype) => keep(keep(BitNetTensor.zeros([2, 0], { dtype })).select(0, 1)));
      for (const e of empties) {
        expect(e.offset).toBeGreaterThan(0);
        expect(keep(e.to('F32')).shape).toEqual([0]);
        expect(keep(e.to('F16')).shape).toEqual([0]);
        expect(keep(e.to('BF16')).shape).toEqual([0]);
        expect(keep(e.to('I8')).shape).toEqual([0]);
        expect(keep(add(e, 1)).shape).toEqual([0]);
        expect(keep(mul(e, e)).shape).toEqual([0]);
        expect(keep(lt(e, 0)).shape).toEqual([0]);
        expect(keep(exp(e)).shape).toEqual([0]);
        expect(keep(where(keep(eq(e, 0)), e, 2)).shape).toEqual([0]);
        expect(keep(sum(e)).item()).toBe(0);
        expect(keep(e.clone()).shape).toEqual([0]);
      }
      const f = empties[0]!;
      expect(keep(softmax(f)).shape).toEqual([0]);
      expect(keep(logSoftmax(keep(keep(BitNetTensor.zeros([0, 3])).slice(null, [null, null, -1])), 0)).shape).toEqual([0, 3]);
      expect(keep(softmax(keep(keep(BitNetTensor.zeros([0, 3])).slice(null, [null, null, -1])), 0)).shape).toEqual([0, 3]);
      expect(keep(rmsNorm(f)).shape).toEqual([0]);
      expect(keep(layerNorm(f)).shape).toEqual([0]);
      const rows = keep(keep(BitNetTensor.zeros([3, 2, 4], { dtype: 'F16' })).narrow(1, 1, 0)); // [3, 0, 4], offset 4
      expect(keep(rmsNorm(rows)).shape).toEqual([3, 0, 4]);
      expect(keep(matmul(keep(BitNetTensor.ones([3, 4], { dtype: 'F16' })), keep(keep(BitNetTensor.zeros([4, 0], { dtype: 'F16' })).slice(null, [null, null, -1])))).shape).toEqual([3, 0]);
      // k = 0: the product is all zeros (an empty sum), whatever the operands' offsets.
      const a = keep(keep(BitNetTensor.zeros([2, 3, 0])).select(0, 1));
      const b = keep(keep(BitNetTensor.zeros([2, 0, 4])).select(0, 1));
      expect(a.offset).toBe(3);
      expect(b.offset).toBe(4);
      expect(keep(matmul(a, b)).toArray()).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
    });
  });
});

describe('argument checks', () => {
  const errorOf = (fn: () => unknown): { code?: string; message: string } => {
    try {
      fn();
    } catch (error) {
      return error as { code?: string; message: string };
    }
    throw new Error('expected a throw');
  };

  it('rmsNorm/layerNorm need a finite eps ≥ 0', () => {
    using((keep) => {
      const x = keep(BitNetTensor.fromArray([[3, 4], [0, 0]]));
      for (const eps of [-1e-6, NaN, Infinity, '1e-5']) {
        for (const [name, fn] of [['rmsNorm', () => rmsNorm(x, null, eps as number)], ['layerNorm', () => layerNorm(x, null, null, eps as number)]] as const) {
          const error = errorOf(fn);
          expect(error.code).toBe('ERR_BITNET_OUT_OF_RANGE');
          expect(error.message).toMatch(new RegExp(`^\\[${name}\\] eps must be a finite number ≥ 0`));
        }
      }
      // eps = 0 is the plain formula: x / sqrt(mean(x²)) = [3, 4] / sqrt(12.5).
      const r = keep(rmsNorm(keep(x.select(0, 0)), null, 0));
      closeTo(r.toFlatArray(), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], 1e-6, 0, 'rmsNorm eps 0');
    });
  });

  it('where takes two numbers: condition ? a : b as F32 of the condition\'s shape', () => {
    using((keep) => {
      const condValues = [[1, 0, -2], [0, 0.5, 0]];
      const cond = keep(BitNetTensor.fromArray(condValues));
      const r = keep(where(cond, 1, -1));
      expect(r.dtype.name).toBe('F32');
      expect(r.toArray()).toEqual(condValues.map((row) => row.map((v) => (v !== 0 ? 1 : -1))));
      const mask = keep(BitNetTensor.fromArray([true, false]));
      expect(keep(where(mask, 2.5, 7)).toArray()).toEqual([2.5, 7]);
    });
  });

  it('reduction axes that are neither a number nor an array are a typed error', () => {
    using((keep) => {
      const x = keep(BitNetTensor.ones([2, 3]));
      for (const axes of [{}, 'a', true]) {
        const error = errorOf(() => sum(x, axes as unknown as number));
        expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
        expect(error.message).toMatch(/^\[sum\] axes must be an axis number or an array of them/);
        expect(errorOf(() => mean(x, axes as unknown as number)).code).toBe('ERR_BITNET_INVALID_ARGUMENT');
        expect(errorOf(() => argmax(x, axes as unknown as number)).code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      }
    });
  });
});
