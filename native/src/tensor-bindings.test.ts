// The tensor bindings' own checks, called directly (the tensor package never
// passes such arguments): sizes that wrap around 64 bits, empty runs, and the
// one- and two-row matmul path's accuracy.
import { describe, expect, it } from 'vitest';
import { getNative } from './index.js';

const native = getNative();
const small = () => new Float32Array(4);

describe('tensor bindings', () => {
  it('refuses shapes and strides whose reach wraps around 64 bits (they passed the bounds check, then the kernel ran wild)', () => {
    // stride 2^52 × (shape − 1) 2^12 = 2^64, which is 0 in 64 bits: "fits" a 16-byte buffer.
    const wrap = [2 ** 12 + 1];
    expect(() => native.tensorUnary(0, wrap, small(), 0, [2 ** 52], small(), 0, [2 ** 52], 0, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: '[tensorUnary] out with shape [4097], strides [4503599627370496] at byte 0 reaches outside its 16-byte buffer' }),
    );
    expect(() => native.tensorCopy(4, wrap, small(), 0, [1], small(), 0, [2 ** 52])).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    // Negative strides that wrap the other way.
    expect(() => native.tensorCopy(4, [3, 2 ** 12 + 1], small(), 0, [0, 0], small(), 12, [2 ** 52, -(2 ** 52)])).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    // rows × n = 2^64 → 0 bytes needed.
    expect(() => native.tensorSoftmax(small(), 0, small(), 0, 2 ** 32, 2 ** 32, false)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: '[tensorSoftmax] x of 4294967296 × 4294967296 elements is too large' }),
    );
    expect(() => native.tensorRmsNorm(small(), 0, null, 0, small(), 0, 2 ** 32, 2 ** 32, 1e-5)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    // k = 0 leaves A and B empty; C's batch × m × n = 2^64.
    expect(() => native.tensorMatmul([], 2 ** 32, 2 ** 32, 0, small(), 0, [0, 0], small(), 0, [0, 0], small(), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: '[tensorMatmul] c of 4294967296 × 4294967296 elements is too large' }),
    );
    // A broadcast input (stride 0) is small at any extent; its outputs are not.
    expect(() => native.tensorReduce(0, [2 ** 31, 2 ** 31, 2], small(), 0, [0, 0, 0], [2], small(), 0, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: expect.stringContaining('too many outputs') }),
    );
  });

  it('accepts an empty run wherever it starts (an empty view may begin past its buffer)', () => {
    const bytes = new Uint8Array(1);
    expect(() => native.tensorConvert('f32->f16', bytes, 2, bytes, 2, 0)).not.toThrow();
    expect(() => native.tensorSoftmax(small(), 64, small(), 64, 0, 3, false)).not.toThrow();
    expect(() => native.tensorConvert('f32->f16', small(), 12, new Uint16Array(2), 0, 2)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: '[tensorConvert] input needs 8 bytes at byte 12 of a 16-byte buffer' }),
    );
  });

  it('sums the depth of a one- or two-row matmul in blocks, as the packed path does: same row, same result, whatever m is', () => {
    // Random non-negative data, k = 2^18: one running float32 sum drifts ~k·2^-24; blocks of kc keep it ~1e-6.
    const k = 2 ** 18, n = 3;
    let seed = 12345;
    const next = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const a = new Float32Array(3 * k).map(next);
    const b = new Float32Array(k * n).map(next);
    const reference = new Float64Array(n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) reference[j] += a[p] * b[p * n + j];
    const rowOf = (m: number) => {
      const c = new Float32Array(m * n);
      native.tensorMatmul([], m, n, k, a, 0, [k, 1], b, 0, [n, 1], c, 0, 1);
      return c.subarray(0, n);
    };
    const one = rowOf(1), two = rowOf(2), three = rowOf(3);
    for (let j = 0; j < n; j++) {
      expect(Math.abs(one[j] - reference[j]) / reference[j]).toBeLessThan(1e-5);
      expect(Math.abs(one[j] - three[j]) / reference[j]).toBeLessThan(1e-5);
      expect(two[j]).toBe(one[j]);
    }
    // All ones past 2^24: exact (a single running sum stops at 16777216).
    const kk = 2 ** 24 + 4096;
    const ones = new Float32Array(kk).fill(1);
    const c = new Float32Array(1);
    native.tensorMatmul([], 1, 1, kk, ones, 0, [kk, 1], ones, 0, [1, 1], c, 0, 1);
    expect(c[0]).toBe(kk);
  });
});

describe('Promise-returning bindings', () => {
  it('reject bad arguments instead of throwing, the raw addon too', async () => {
    const f = new Float32Array(4);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['tensorMatmulAsync', () => native.tensorMatmulAsync([], 2, 2, -1, f, 0, [2, 1], f, 0, [2, 1], f, 0)],
      ['ternaryMatmulAsync', () => native.ternaryMatmulAsync(new Uint8Array(1), new Float32Array(1), 4, 256, new Float32Array(3), 1, null, null)],
      ['denseMatmulF32Async', () => native.denseMatmulF32Async(f, 2, 2, new Float32Array(3), 1, null)],
    ];
    for (const [name, call] of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call()), name).not.toThrow();
      await expect(promise, name).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_BITNET_/) });
    }
  });
});

describe('memory an async kernel uses', () => {
  it('stays allocated until the kernel is done when JS frees it meanwhile (a pool disposed mid-flight)', async () => {
    const before = native.nativeMemoryStats().liveBytes;
    const m = 256, k = 512, n = 256;
    const arena = native.allocateAligned(4 * (m * k + k * n + m * n), 64);
    const a = native.memoryBlockBuffer(arena, 0, 4 * m * k);
    const b = native.memoryBlockBuffer(arena, 4 * m * k, 4 * k * n);
    const c = native.memoryBlockBuffer(arena, 4 * (m * k + k * n), 4 * m * n);
    new Float32Array(a).fill(1);
    new Float32Array(b).fill(2);
    const done = native.tensorMatmulAsync([], m, n, k, a, 0, [k, 1], b, 0, [n, 1], c, 0, 1);
    native.freeAligned(arena);
    expect(arena.byteLength).toBe(0);
    // Detached for JS at once; returned to the system only after the kernel.
    expect(native.nativeMemoryStats().liveBytes - before).toBe(4 * (m * k + k * n + m * n));
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    expect(native.nativeMemoryStats().liveBytes).toBe(before);
  });
});
