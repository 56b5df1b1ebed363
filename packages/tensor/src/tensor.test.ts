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

/** The error fn throws (failing the test when it does not throw). */
function errorOf(fn: () => unknown): { code?: string; message: string; name: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string; name: string };
  }
  throw new Error('expected a throw');
}

describe('creation edge cases', () => {
  it('fromBytes copies the bytes of any ArrayBuffer or ArrayBufferView, and rejects anything else with a typed error', () => {
    // Reference bytes built with DataView (little-endian), independent of typed-array copying.
    const expectBytes = (t: BitNetTensor, values: number[]) => {
      const reference = new DataView(new ArrayBuffer(values.length * 4));
      values.forEach((v, i) => reference.setFloat32(i * 4, v, true));
      expect([...t.rawBytes().subarray(0, t.byteSize)]).toEqual([...new Uint8Array(reference.buffer)]);
      expect(t.toFlatArray()).toEqual(values);
    };
    const made: BitNetTensor[] = [];
    const k = (t: BitNetTensor) => (made.push(t), t);
    expectBytes(k(BitNetTensor.fromBytes(new Float32Array([1.5, -2]), [2], 'F32')), [1.5, -2]);
    expectBytes(k(BitNetTensor.fromBytes(new Float32Array([2.5]).buffer, [1], 'F32')), [2.5]);
    expectBytes(k(BitNetTensor.fromBytes(new Float32Array([9, 3.25, 4]).subarray(1), [2], 'F32')), [3.25, 4]);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat32(0, 7, true);
    view.setFloat32(4, -0.5, true);
    expectBytes(k(BitNetTensor.fromBytes(view, [2], 'F32')), [7, -0.5]);
    // An Int16Array's bytes read as I16 give the same numbers back.
    expect(k(BitNetTensor.fromBytes(new Int16Array([300, -5]), [2], 'I16')).toFlatArray()).toEqual([300, -5]);
    const before = live();
    for (const bad of [null, undefined, 42, [1, 2, 3, 4], 'abcd']) {
      const error = errorOf(() => BitNetTensor.fromBytes(bad as unknown as Uint8Array, [1], 'F32'));
      expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      expect(error.message).toMatch(/^\[fromBytes\] bytes must be an ArrayBuffer or an ArrayBufferView/);
    }
    expect(live()).toBe(before);
    for (const t of made) t.dispose();
  });

  it('fromArray encodes typed arrays whose class matches the storage array (F16/BF16 from Uint16Array, Bool from Uint8Array)', () => {
    using h = BitNetTensor.fromArray(new Uint16Array([1, 2, 0]), [3], 'F16');
    expect([...h.toTypedArray()]).toEqual([0x3c00, 0x4000, 0x0000]); // IEEE binary16 bits of 1, 2, 0
    using b = BitNetTensor.fromArray(new Uint16Array([1, 2]), [2], 'BF16');
    expect([...b.toTypedArray()]).toEqual([0x3f80, 0x4000]); // bfloat16 bits of 1, 2
    using mask = BitNetTensor.fromArray(new Uint8Array([0, 2, 255, 1]), [4], 'Bool');
    expect([...mask.toTypedArray()]).toEqual([0, 1, 1, 1]);
    expect(mask.toArray()).toEqual([false, true, true, true]);
    // Integer storage still takes same-class arrays as they are.
    using u8 = BitNetTensor.fromArray(new Uint8Array([0, 2, 255]), [3], 'U8');
    expect(u8.toFlatArray()).toEqual([0, 2, 255]);
    using i16 = BitNetTensor.fromArray(new Int16Array([-32768, 7]), [2], 'I16');
    expect(i16.toFlatArray()).toEqual([-32768, 7]);
  });

  it('fromArray rejects BigInt arrays and DataViews with a typed error', () => {
    const before = live();
    for (const data of [new BigInt64Array([1n]), new BigUint64Array([1n]), new DataView(new ArrayBuffer(4))]) {
      const error = errorOf(() => BitNetTensor.fromArray(data as unknown as Float32Array));
      expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      expect(error.message).toMatch(/^\[fromArray\] data must hold numbers/);
    }
    expect(live()).toBe(before);
  });

  it('full/ones with a packed dtype fail with ERR_BITNET_DTYPE and hold no pool memory', () => {
    const before = live();
    for (const dtype of ['TQ2_0', 'TQ1_0', 'I2'] as const) {
      expect(errorOf(() => BitNetTensor.ones([256], { dtype })).code).toBe('ERR_BITNET_DTYPE');
      expect(errorOf(() => BitNetTensor.full([256], 0, { dtype })).code).toBe('ERR_BITNET_DTYPE');
      expect(errorOf(() => BitNetTensor.arange(256, undefined, 1, { dtype })).code).toBe('ERR_BITNET_DTYPE');
      expect(errorOf(() => BitNetTensor.random([256], { dtype, seed: 1 })).code).toBe('ERR_BITNET_DTYPE');
    }
    expect(live()).toBe(before);
  });

  it('huge arange/random sizes fail with a typed error from the pool, not a RangeError from JS', () => {
    const before = live();
    for (const fn of [() => BitNetTensor.arange(0, 1e12), () => BitNetTensor.random([2 ** 40], { seed: 1 }), () => BitNetTensor.random([2 ** 20, 2 ** 20], { seed: 1, distribution: 'normal' })]) {
      const error = errorOf(fn);
      expect(error.code).toBe('ERR_BITNET_OUT_OF_MEMORY');
    }
    expect(errorOf(() => BitNetTensor.arange(0, 1e300)).code).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(live()).toBe(before);
  });

  it('random keeps its values per seed (written straight into the tensor) and validates its options', () => {
    // The generator's first raw uniforms (32-bit xoshiro128** outputs / 2^32) for seeds 7 and 9, recorded
    // before random() was rewritten to write into pool memory: the values per seed must not change.
    const raw: Record<number, number[]> = {
      7: [0.23382771760225296, 0.5122324188705534, 0.4489145821426064, 0.17271522153168917, 0.5656696686055511],
      9: [0.30188278621062636, 0.9033967349678278, 0.7955456869676709, 0.49009784730151296, 0.9153182047884911, 0.6730760044883937],
    };
    const reference = (seed: number, n: number): number[] => raw[seed]!.slice(0, n);
    const u = reference(7, 5);
    using uniform = BitNetTensor.random([5], { seed: 7, low: -2, high: 6 });
    expect(uniform.toFlatArray()).toEqual(u.map((v) => Math.fround(-2 + 8 * v)));
    const g = reference(9, 6);
    const normals: number[] = [];
    for (let i = 0; i < 6; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - g[i]!));
      normals.push(Math.fround(1 + 2 * r * Math.cos(2 * Math.PI * g[i + 1]!)), Math.fround(1 + 2 * r * Math.sin(2 * Math.PI * g[i + 1]!)));
    }
    using normal = BitNetTensor.random([5], { seed: 9, distribution: 'normal', mean: 1, std: 2 });
    expect(normal.toFlatArray()).toEqual(normals.slice(0, 5));
    using half = BitNetTensor.random([3], { seed: 7, dtype: 'I32', low: 0, high: 100 });
    expect(half.toFlatArray()).toEqual(u.slice(0, 3).map((v) => Math.trunc(100 * v)));
    const before = live();
    expect(errorOf(() => BitNetTensor.random([2], { distribution: 'foo' as 'uniform' })).code).toBe('ERR_BITNET_INVALID_ARGUMENT');
    const reversed = errorOf(() => BitNetTensor.random([2], { low: 2, high: 1 }));
    expect(reversed.code).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(reversed.message).toBe('[random] low 2 is greater than high 1');
    expect(errorOf(() => BitNetTensor.random([2], { low: NaN })).code).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(errorOf(() => BitNetTensor.random([2], { distribution: 'normal', std: -1 })).code).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(live()).toBe(before);
  });

  it('a pool object without allocate/deallocate is a typed ERR_BITNET_INVALID_ARGUMENT', () => {
    for (const bad of [{}, { allocate: 1, deallocate: 2 }]) {
      const error = errorOf(() => BitNetTensor.zeros([2], { pool: bad as unknown as LocalPool }));
      expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      expect(error.message).toMatch(/pool must be a memory pool with allocate\(\) and deallocate\(\)/);
    }
  });
});

describe('view argument checks', () => {
  it('slice/expand with non-array specs or shapes fail with typed errors', () => {
    using x = BitNetTensor.ones([2, 3]);
    for (const spec of [{}, 1n, 'ab', true]) {
      const error = errorOf(() => x.slice(spec as unknown as number));
      expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      expect(error.message).toMatch(/^\[slice\] spec 0 must be an index, null or \[start, end, step\]/);
    }
    for (const shape of [null, 'ab', 3, { length: 2 }]) {
      const error = errorOf(() => x.expand(shape as unknown as number[]));
      expect(error.code).toBe('ERR_BITNET_INVALID_ARGUMENT');
      expect(error.message).toMatch(/^\[expand\] shape must be an array/);
    }
    expect(x.storage.referenceCount).toBe(1); // no view was left behind
  });
});

describe('views of packed dtypes', () => {
  it('a contiguous view on whole TQ2_0/TQ1_0 blocks reads its own bytes', async () => {
    const { quantize158 } = await import('./index.js');
    for (const layout of ['tq2_0', 'tq1_0'] as const) {
      using w = BitNetTensor.random([8, 512], { seed: 3, low: -1, high: 1 });
      using q = quantize158(w, { granularity: 'row' });
      using packed = q.pack(layout);
      using bytes = packed.toTensor();
      const rowBytes = bytes.byteSize / 8; // blocks are row-major: 2 blocks per row
      const all = bytes.rawBytes();
      for (const r of [1, 5, 7]) {
        using row = bytes.select(0, r);
        using copy = row.clone();
        expect([...copy.rawBytes().subarray(0, copy.byteSize)]).toEqual([...all.subarray(r * rowBytes, (r + 1) * rowBytes)]);
      }
      using rows = bytes.narrow(0, 2, 3);
      using copy = rows.clone();
      expect([...copy.rawBytes().subarray(0, copy.byteSize)]).toEqual([...all.subarray(2 * rowBytes, 5 * rowBytes)]);
      // Second block of row 0 (offset 256 elements = one block).
      using flat = bytes.view([8 * 512]);
      using block = flat.narrow(0, 256, 256);
      using blockCopy = block.clone();
      expect([...blockCopy.rawBytes().subarray(0, blockCopy.byteSize)]).toEqual([...all.subarray(rowBytes / 2, rowBytes)]);
    }
  });

  it('views that do not cover whole blocks, or are strided, are refused with ERR_BITNET_DTYPE and leak nothing', async () => {
    const { quantize158 } = await import('./index.js');
    using w = BitNetTensor.random([2, 512], { seed: 4, low: -1, high: 1 });
    using q = quantize158(w);
    using packed = q.pack('tq2_0');
    using bytes = packed.toTensor();
    const before = live();
    using flat = bytes.view([1024]);
    using inside = flat.narrow(0, 128, 256); // starts mid-block
    const error = errorOf(() => inside.clone());
    expect(error.code).toBe('ERR_BITNET_DTYPE');
    expect(error.message).toMatch(/does not cover whole blocks of 256 elements/);
    using strided = bytes.narrow(1, 256, 256); // [2, 256] with row stride 512
    expect(errorOf(() => strided.clone()).code).toBe('ERR_BITNET_DTYPE');
    using transposed = bytes.transpose();
    expect(errorOf(() => transposed.location('test')).code).toBe('ERR_BITNET_DTYPE');
    flat.dispose();
    inside.dispose();
    strided.dispose();
    transposed.dispose();
    expect(live()).toBe(before);
  });
});

describe('zero-element views past the end of their block', () => {
  it('an empty strided view of a packed dtype clones to an empty tensor', () => {
    for (const dtype of ['TQ2_0', 'TQ1_0', 'I2'] as const) {
      const shape = dtype === 'I2' ? [4, 256] : [2, 256];
      using t = BitNetTensor.fromBytes(new Uint8Array(BitNetDType.fromName(dtype).byteLength(shape[0]! * shape[1]!)), shape, dtype);
      using rows = t.narrow(0, 0, 0);
      using view = rows.slice(null, [null, null, 2]);
      expect(view.isContiguous).toBe(false);
      using copy = view.clone();
      expect({ dtype, shape: copy.shape, numel: copy.numel }).toEqual({ dtype, shape: [0, 128], numel: 0 });
    }
  });
  it('have a location inside their buffer, so JS views and native calls over them work', async () => {
    const { quantizeActivations, quantize158 } = await import('./index.js');
    // LocalPool gives each block its own buffer of exactly max(size, 1) bytes.
    const local = new LocalPool();
    const base = BitNetTensor.zeros([2, 3, 0], { pool: local });
    const empty = base.select(0, 1); // offset 3 elements = byte 12 of a 1-byte buffer
    expect(empty.offset).toBe(3);
    const at = empty.location('test');
    expect(at.byteOffset).toBeLessThanOrEqual(at.buffer.byteLength);
    expect(new Float32Array(at.buffer, at.byteOffset, 0).length).toBe(0);
    // Per-token int8 activations of 3 tokens × 0 features: absmax 0 → scale 0.
    const q = quantizeActivations(empty);
    expect(q.values.shape).toEqual([3, 0]);
    expect(q.scales.toFlatArray()).toEqual([0, 0, 0]);
    const w = quantize158(empty);
    expect(w.values.shape).toEqual([3, 0]);
    const halfBase = BitNetTensor.zeros([2, 0], { dtype: 'F16', pool: local });
    const halves = halfBase.select(0, 1);
    const wide = halves.to('F32');
    expect(wide.shape).toEqual([0]);
    expect(wide.toFlatArray()).toEqual([]);
    for (const t of [q, w, wide, halves, halfBase, empty, base]) t.dispose();
    expect(local.liveCount).toBe(0);
  });
});
