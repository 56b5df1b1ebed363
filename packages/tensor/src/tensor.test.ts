import { HybridMemoryPool } from '@bitnet/memory';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BitNetDType, BitNetTensor, CpuTensorBackend, TensorMetadata, add, getTensorBackend, matmul, registerTensorBackend, setDefaultTensorPool,
  unregisterTensorBackend, type TensorBackend,
} from './index.js';
import { LocalPool } from './testing/local-pool.js';
import { readStrided } from './testing/reference.js';

const pool = new HybridMemoryPool();
beforeAll(() => setDefaultTensorPool(pool));

const live = () => pool.getMetrics().currentAllocated;

describe('creation and reading', () => {
  it('zeros, ones, full, arange, fromArray, item, toArray', () => {
    const z = BitNetTensor.zeros([2, 3]);
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    const o = BitNetTensor.ones([2], { dtype: 'I32' });
    expect(o.toArray()).toEqual([1, 1]);
    expect(o.dtype).toBe(BitNetDType.I32);
    const full = BitNetTensor.full([2, 2], 0.1, { dtype: 'F16' });
    expect(full.toFlatArray()).toEqual([0.0999755859375, 0.0999755859375, 0.0999755859375, 0.0999755859375]);
    const r = BitNetTensor.arange(1, 2, 0.25);
    expect(r.toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    const b = BitNetTensor.fromArray([[true, false]]);
    expect(b.dtype.name).toBe('Bool');
    expect(b.toArray()).toEqual([[true, false]]);
    const s = BitNetTensor.fromArray([300, -300, 2.9, NaN], [4], 'I8');
    expect(s.toArray()).toEqual([127, -128, 2, 0]);
    using scalar = BitNetTensor.full([], 7);
    expect(scalar.item()).toBe(7);
    expect(() => BitNetTensor.fromArray([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => BitNetTensor.fromArray([1, 2, 3], [2, 2])).toThrow('[fromArray] 3 values do not fill shape [2, 2] (4 elements)');
    for (const t of [z, o, full, r, b, s]) t.dispose();
  });

  it('random is reproducible per seed and in range', () => {
    const a = BitNetTensor.random([1000], { seed: 42 });
    const b = BitNetTensor.random([1000], { seed: 42 });
    const c = BitNetTensor.random([1000], { seed: 43 });
    expect(a.toFlatArray()).toEqual(b.toFlatArray());
    expect(a.toFlatArray()).not.toEqual(c.toFlatArray());
    expect(a.toFlatArray().every((v) => v >= 0 && v < 1)).toBe(true);
    const n = BitNetTensor.random([20000], { seed: 1, distribution: 'normal', mean: 2, std: 3 });
    const values = n.toFlatArray();
    const mean = values.reduce((p, v) => p + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((p, v) => p + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean - 2)).toBeLessThan(0.1);
    expect(Math.abs(sd - 3)).toBeLessThan(0.1);
    for (const t of [a, b, c, n]) t.dispose();
  });

  it('metadata: strides, contiguity, byte size', () => {
    const m = new TensorMetadata([2, 3, 4], BitNetDType.F16);
    expect(m.strides).toEqual([12, 4, 1]);
    expect(m.numel).toBe(24);
    expect(m.byteSize).toBe(48);
    expect(m.isContiguous).toBe(true);
    expect(m.with({ strides: [1, 2, 6] }).isContiguous).toBe(false);
    expect(BitNetDType.TQ2_0.byteLength(512)).toBe(132);
    expect(() => BitNetDType.TQ2_0.byteLength(100)).toThrow(/whole blocks of 256/);
  });
});

describe('views share storage', () => {
  it('reshape/view/transpose/permute/slice/narrow/select/squeeze/unsqueeze/expand/flatten', () => {
    // Every view is its own handle on the storage: keep them all and dispose them at the end.
    const made: BitNetTensor[] = [];
    const k = <T extends BitNetTensor>(t: T): T => (made.push(t), t);
    const arange = k(BitNetTensor.arange(24));
    const base = k(arange.reshape([2, 3, 4]));
    const values = (t: BitNetTensor) => readStrided(k(t));
    expect(values(base.transpose(0, 2))).toEqual([0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23]);
    expect(k(base.permute([2, 0, 1])).shape).toEqual([4, 2, 3]);
    expect(values(base.slice(1, [null, null, -1], [-1, -4, -2]))).toEqual([23, 21, 19, 17, 15, 13]);
    expect(values(base.slice(null, [1, 3], [1, null, 2]))).toEqual([5, 7, 9, 11, 17, 19, 21, 23]);
    expect(k(base.slice(null, [5, 9])).shape).toEqual([2, 0, 4]);
    expect(values(k(base.narrow(2, -2, 2)).select(1, 0))).toEqual([2, 3, 14, 15]);
    const row = k(k(k(base.select(0, 1)).unsqueeze(0)).unsqueeze(-1));
    expect(row.shape).toEqual([1, 3, 4, 1]);
    expect(k(row.squeeze()).shape).toEqual([3, 4]);
    const col = k(BitNetTensor.fromArray([1, 2, 3], [3, 1]));
    expect(values(col.expand([2, 3, 2]))).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(k(col.broadcastTo([3, 4])).strides).toEqual([1, 0]);
    expect(k(base.flatten(1)).shape).toEqual([2, 12]);
    expect(k(base.view([6, -1])).shape).toEqual([6, 4]);
    const t = k(base.transpose(1, 2));
    expect(() => t.view([24])).toThrow(/cannot be reshaped to \[24\] without a copy; use reshape\(\)/);
    expect(values(t.reshape([24]))).toEqual(values(t));
    const copy = k(t.contiguous());
    expect(readStrided(copy)).toEqual(readStrided(t));
    expect(copy.isContiguous).toBe(true);
    expect(() => base.select(1, 3)).toThrow('[select] index 3 is out of range for axis 1 of size 3 (shape [2, 3, 4])');
    expect(() => base.squeeze(0)).toThrow(/axis 0 of shape \[2, 3, 4\] has size 2, not 1/);
    expect(() => col.expand([3, 2, 2])).toThrow(/cannot broadcast shape \[3, 1\] to \[3, 2, 2\]/);
    expect(() => base.reshape([5, 5])).toThrow('[reshape] cannot reshape [2, 3, 4] (24 elements) to [5, 5] (25 elements)');
    const before = live();
    for (const view of made) view.dispose();
    expect(live()).toBeLessThan(before); // the last handle freed the storage
  });

  it('reference counting: views keep storage alive; the last dispose frees the block', () => {
    const before = live();
    const a = BitNetTensor.fromArray([1, 2, 3, 4], [2, 2]);
    const v = a.transpose();
    expect(a.storage.referenceCount).toBe(2);
    a.dispose();
    expect(readStrided(v)).toEqual([1, 3, 2, 4]);
    expect(live()).toBeGreaterThan(before);
    expect(() => a.toArray()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    v[Symbol.dispose]();
    expect(live()).toBe(before);
    v.dispose(); // idempotent
  });

  it('using declarations dispose at scope end', () => {
    const before = live();
    {
      using t = BitNetTensor.zeros([16]);
      expect(t.numel).toBe(16);
    }
    expect(live()).toBe(before);
  });
});

describe('dtype promotion and casting', () => {
  it('follows the documented rules', () => {
    const f16 = BitNetTensor.fromArray([1, 2], [2], 'F16');
    const bf16 = BitNetTensor.fromArray([1, 2], [2], 'BF16');
    const i32 = BitNetTensor.fromArray([1, 2], [2], 'I32');
    const out = [add(f16, f16), add(f16, bf16), add(f16, i32), add(i32, i32), add(i32, 0.5), add(f16, 0.5)];
    expect(out.map((t) => t.dtype.name)).toEqual(['F16', 'F32', 'F16', 'F32', 'F32', 'F16']);
    expect(out[4]!.toArray()).toEqual([1.5, 2.5]);
    const i8 = f16.to('I8');
    expect(i8.toArray()).toEqual([1, 2]);
    const left = f16.unsqueeze(0), right = bf16.unsqueeze(1);
    const product = matmul(left, right);
    expect(product.dtype.name).toBe('F32');
    for (const t of [f16, bf16, i32, ...out, i8, left, right, product]) t.dispose();
  });
});

describe('backend registry', () => {
  it('mixed devices fail with ERR_BITNET_DEVICE_MISMATCH; unknown devices name the missing backend', () => {
    const local = new LocalPool();
    const cpu = BitNetTensor.zeros([2], { pool: local });
    const other = BitNetTensor.zeros([2], { pool: local, device: 'fake:0' });
    expect(() => add(cpu, other)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DEVICE_MISMATCH' }));
    expect(() => add(other, other)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE' }));
    // A registered backend for that kind receives the op.
    const seen: string[] = [];
    const cpuBackend = getTensorBackend('cpu');
    const fake: TensorBackend = new Proxy(cpuBackend, {
      get(target, key) {
        if (key === 'device') return 'fake';
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? (...args: unknown[]) => (seen.push(String(key)), value.apply(target, args)) : value;
      },
    });
    registerTensorBackend(fake);
    try {
      const sum = add(other, other);
      expect(seen).toContain('binary');
      sum.dispose();
    } finally {
      unregisterTensorBackend('fake');
    }
    cpu.dispose();
    other.dispose();
    expect(local.liveCount).toBe(0);
    registerTensorBackend(new CpuTensorBackend());
  });
});

describe('native bounds checks', () => {
  it('a strided operand reaching outside its buffer is rejected before any kernel runs', async () => {
    const { getNative } = await import('@bitnet/native');
    const out = new Float32Array(6), a = new Float32Array(6), b = new Float32Array(6);
    expect(() => getNative().tensorBinary(0, [2, 3], out, 0, [3, 1], a, 0, [4, 1], b, 0, [3, 1])).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: expect.stringContaining('[tensorBinary] a with shape [2, 3], strides [4, 1] at byte 0 reaches outside its 24-byte buffer') }),
    );
    expect(() => getNative().tensorBinary(0, [2, 3], out, 0, [3, 1], a, 4, [-3, 1], b, 0, [3, 1])).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => getNative().tensorMatmul([], 2, 2, 2, a, 0, [2, 1], b, 0, [2, 1], out, 20)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => getNative().tensorUnary(99, [1], out, 0, [1], a, 0, [1], 0, 0)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
  });
});
