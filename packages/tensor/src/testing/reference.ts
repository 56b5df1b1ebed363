// Test-only float64 references and helpers (independent of the native code).
import { getNative, type IsaTierName } from '@bitnet/native';
import { BitNetTensor } from '../tensor.js';
import { bf16ToNumber, f16ToNumber } from '../half.js';

/** Tiers this machine can run (each gets its own pass of the op tests). */
export function testTiers(): IsaTierName[] {
  return getNative().getIsa().supported.filter((t) => t === 'generic' || t === 'avx2' || t === 'avx512');
}

/** Deterministic PRNG for tests (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Elements of any view in row-major order, read in JS straight from storage via strides. */
export function readStrided(t: BitNetTensor): number[] {
  const data = t.rawElements('test');
  const decode = t.dtype.name === 'F16' ? f16ToNumber : t.dtype.name === 'BF16' ? bf16ToNumber : (x: number) => x;
  const out: number[] = [];
  const index = new Array<number>(t.ndim).fill(0);
  const n = t.numel;
  for (let i = 0; i < n; i++) {
    let offset = t.offset;
    for (let d = 0; d < t.ndim; d++) offset += index[d]! * t.strides[d]!;
    out.push(decode(data[offset]!));
    for (let d = t.ndim - 1; d >= 0; d--) {
      if (++index[d]! < t.shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Index → flat position helpers for broadcasting references. */
export function broadcastIndex(outIndex: number[], shape: readonly number[]): number {
  const lead = outIndex.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) {
    const i = shape[d] === 1 ? 0 : outIndex[d + lead]!;
    flat = flat * shape[d]! + i;
  }
  return flat;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return out;
}

/** Expects |got - want| ≤ atol + rtol·|want| for every element (NaN must match NaN). */
export function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what = ''): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(Math.abs(g - w) <= atol + rtol * Math.abs(w) || g === w))
      throw new Error(`${what}: element ${i}: got ${g}, want ${w} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * A tensor of the given logical shape whose storage layout is varied: 'contiguous',
 * 'transposed' (made as the transpose of a contiguous tensor, then transposed back),
 * or 'strided' (every other element of a larger buffer).
 */
export function makeTensor(values: number[], shape: number[], layout: 'contiguous' | 'transposed' | 'strided'): BitNetTensor {
  if (layout === 'contiguous' || shape.length === 0) return BitNetTensor.fromArray(Float64Array.from(values), shape);
  if (layout === 'transposed') {
    const nd = shape.length;
    const order = [...Array(nd).keys()].reverse();
    const reversedShape = order.map((d) => shape[d]!);
    const reversedValues = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const idx = unravel(i, shape);
      const r = order.map((d) => idx[d]!);
      let flat = 0;
      for (let d = 0; d < nd; d++) flat = flat * reversedShape[d]! + r[d]!;
      reversedValues[flat] = values[i]!;
    }
    const base = BitNetTensor.fromArray(Float64Array.from(reversedValues), reversedShape);
    const view = base.permute(order);
    base.dispose();
    return view;
  }
  const last = shape[shape.length - 1]!;
  const wide = [...shape.slice(0, -1), last * 2];
  const widened = new Float64Array(values.length * 2).fill(NaN);
  for (let i = 0; i < values.length; i++) widened[i * 2] = values[i]!;
  const base = BitNetTensor.fromArray(widened, wide);
  const view = base.slice(...shape.slice(0, -1).map(() => null), [0, null, 2]);
  base.dispose();
  return view;
}

export function randomValues(n: number, next: () => number, low = -3, high = 3): number[] {
  return Array.from({ length: n }, () => Math.fround(low + (high - low) * next()));
}
