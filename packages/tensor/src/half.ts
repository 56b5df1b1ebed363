import { BitNetRangeError, ErrorCode } from '@bitnet/errors';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits → number (exact). */
export function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits → number (exact). */
export function bf16ToNumber(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/**
 * float32 bits of `value` rounded to odd: the float32 toward zero, its last bit set when inexact.
 * Rounding that once more to a format at least 2 bits narrower (F16, BF16) gives exactly the
 * nearest-even rounding of `value` itself; plain float32 rounding first would round twice
 * (2^24 + 2^16 + 1 → BF16 gave 2^24, not 2^24 + 2^17).
 */
function float32BitsRoundedToOdd(value: number): number {
  f32[0] = value;
  let bits = u32[0]!;
  const rounded = f32[0]!;
  if (rounded === value || Number.isNaN(value)) return bits;
  // Magnitude toward zero (Infinity → FLT_MAX), then the odd one of it and its upper neighbour.
  if (Math.abs(rounded) > Math.abs(value)) bits -= 1;
  return (bits & 1) === 0 ? bits + 1 : bits;
}

/** number → binary16 bits, rounded once to nearest even; NaN quieted, overflow → Inf. */
export function numberToF16(value: number): number {
  const bits = float32BitsRoundedToOdd(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa ? sign | 0x7e00 | (mantissa >>> 13) : sign | 0x7c00;
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** number → bfloat16 bits, rounded once to nearest even; NaN quieted. */
export function numberToBF16(value: number): number {
  const bits = float32BitsRoundedToOdd(value);
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

const integerRange: Record<string, [number, number]> = {
  I8: [-128, 127],
  I16: [-32768, 32767],
  I32: [-2147483648, 2147483647],
  U8: [0, 255],
};

/**
 * A number as the stored element of a dtype: floats round to nearest even;
 * integers truncate toward zero and saturate at the type's range (NaN → 0);
 * Bool is 1 for any non-zero value (NaN included, as numpy).
 */
export function encodeNumber(value: number, dtype: string, op: string): number {
  if (typeof value !== 'number') throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `expected a number, got ${typeof value}`);
  switch (dtype) {
    case 'F32': return value;
    case 'F16': return numberToF16(value);
    case 'BF16': return numberToBF16(value);
    case 'Bool': return value !== 0 ? 1 : 0;
    default: {
      const range = integerRange[dtype];
      if (!range) throw new BitNetRangeError(ErrorCode.DTYPE, op, `cannot store numbers as ${dtype}`);
      if (Number.isNaN(value)) return 0;
      const t = Math.trunc(value);
      return t < range[0] ? range[0] : t > range[1] ? range[1] : t;
    }
  }
}
