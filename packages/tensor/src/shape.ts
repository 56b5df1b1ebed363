import { BitNetRangeError, BitNetTypeError, ErrorCode, formatValue } from '@bitnet/errors';

export type Shape = readonly number[];

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function numelOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `shape must be an array of non-negative integers, got ${formatValue(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `shape must be an array of non-negative integers, got ${formatValue(shape)}`);
  }
  return [...shape];
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= Math.max(shape[d]!, 1);
  }
  return strides;
}

/** Normalises a possibly negative axis of a tensor with `ndim` axes (`extra` allows ndim + extra for unsqueeze). */
export function normalizeAxis(axis: number, ndim: number, op: string, extra = 0): number {
  const limit = ndim + extra;
  if (!Number.isInteger(axis) || axis < -limit || axis >= limit)
    throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, op, `axis ${formatValue(axis)} is out of range for a tensor with ${ndim} axes`);
  return axis < 0 ? axis + limit : axis;
}

/** numpy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast: axis ${i - n} has ${da} and ${db}`, { details: { shapes: [a, b] } });
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
