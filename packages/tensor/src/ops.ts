/**
 * Tensor operations. Every op:
 *  - accepts any strided view (broadcast, transposed, sliced) and numpy broadcasting;
 *  - dispatches to the backend of its inputs' device (mixed devices → ERR_BITNET_DEVICE_MISMATCH);
 *  - computes in float32 and returns a new tensor in the pool of its first tensor input.
 *
 * Type promotion (see promoteTypes): float ⊕ same float → that float (F16 + F16 → F16,
 * computed in F32 and rounded once); float ⊕ integer/bool → the float; F16 ⊕ BF16 → F32;
 * integer/bool ⊕ integer/bool → F32. A plain number takes the other operand's dtype when
 * that is a float, else F32. Comparisons give Bool; argmax/argmin give I32; unary
 * ops keep a float dtype and give F32 for integer/bool inputs.
 */
import { BitNetError, BitNetRangeError, BitNetTypeError, ErrorCode, formatValue } from '@bitnet/errors';
import { type BinaryOpName, type CompareOpName, type ReduceOpName, type TensorBackend, type UnaryOpName, deviceKind, getTensorBackend } from './backend.js';
import { BitNetDType, promoteTypes } from './dtype.js';
import { broadcastShapes, formatShape, normalizeAxis } from './shape.js';
import { BitNetTensor } from './tensor.js';

export type Operand = BitNetTensor | number;

/** The backend for a set of tensors, which must all be on one device. */
export function backendFor(tensors: readonly BitNetTensor[], op: string): TensorBackend {
  const device = tensors[0]!.device;
  for (const t of tensors) {
    if (t.isDisposed) throw new BitNetError(ErrorCode.DISPOSED, op, 'an input tensor has been disposed');
    if (t.device !== device)
      throw new BitNetError(ErrorCode.DEVICE_MISMATCH, op, `inputs are on different devices: ${tensors.map((x) => x.device).join(' and ')}; move them to one device first`, { details: { devices: tensors.map((x) => x.device) } });
  }
  return getTensorBackend(deviceKind(device), op);
}

/** Runs body with a list that collects temporaries, disposing them afterwards (also on error). */
function scoped<T>(body: (keep: <U extends BitNetTensor>(t: U) => U) => T): T {
  const temps: BitNetTensor[] = [];
  try {
    return body((t) => {
      temps.push(t);
      return t;
    });
  } finally {
    for (const t of temps) t.dispose();
  }
}

function checkTensor(value: unknown, op: string, name: string): asserts value is BitNetTensor {
  if (!(value instanceof BitNetTensor)) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `${name} must be a BitNetTensor, got ${formatValue(value)}`);
  if (value.isDisposed) throw new BitNetError(ErrorCode.DISPOSED, op, `${name} has been disposed`);
  if (value.dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, op, `${name} is ${value.dtype.name}, a packed quantized dtype; dequantize it first`);
}

/** A new reference to the same data (so callers can dispose uniformly). */
function alias(t: BitNetTensor): BitNetTensor {
  return t.expand(t.shape);
}

/** t as F32 (a new reference when it already is F32, else a converted copy). */
function asF32(t: BitNetTensor, op: string): BitNetTensor {
  return t.dtype === BitNetDType.F32 ? alias(t) : backendFor([t], op).cast(t, BitNetDType.F32);
}

function finish(result: BitNetTensor, dtype: BitNetDType, op: string): BitNetTensor {
  if (result.dtype === dtype) return result;
  try {
    return backendFor([result], op).cast(result, dtype);
  } finally {
    result.dispose();
  }
}

/** `fallback` (where's condition) places number operands when neither a nor b is a tensor. */
function operands(a: Operand, b: Operand, op: string, keep: <U extends BitNetTensor>(t: U) => U, fallback?: BitNetTensor): [BitNetTensor, BitNetTensor, BitNetDType] {
  if (typeof a === 'number' && typeof b === 'number' && !fallback) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, 'at least one operand must be a tensor');
  const like = (typeof a !== 'number' ? a : typeof b !== 'number' ? b : fallback) as BitNetTensor;
  if (like !== fallback) checkTensor(like, op, typeof a === 'number' ? 'b' : 'a');
  const scalar = (value: number): BitNetTensor => keep(BitNetTensor.full([], value, { dtype: BitNetDType.F32, device: like.device, pool: like.pool }));
  const ta = typeof a === 'number' ? scalar(a) : a;
  const tb = typeof b === 'number' ? scalar(b) : b;
  checkTensor(ta, op, 'a');
  checkTensor(tb, op, 'b');
  let dtype: BitNetDType;
  if (typeof a === 'number' && typeof b === 'number') dtype = BitNetDType.F32;
  else if (typeof a === 'number') dtype = tb.dtype.isFloat ? tb.dtype : BitNetDType.F32;
  else if (typeof b === 'number') dtype = ta.dtype.isFloat ? ta.dtype : BitNetDType.F32;
  else dtype = promoteTypes(ta.dtype, tb.dtype, op);
  return [ta, tb, dtype];
}

function binaryOp(op: BinaryOpName, a: Operand, b: Operand): BitNetTensor {
  return scoped((keep) => {
    const [ta, tb, dtype] = operands(a, b, op, keep);
    const backend = backendFor([ta, tb], op);
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    const ea = keep(keep(asF32(ta, op)).expand(shape));
    const eb = keep(keep(asF32(tb, op)).expand(shape));
    return finish(backend.binary(op, ea, eb), dtype, op);
  });
}

function compareOp(op: CompareOpName, a: Operand, b: Operand): BitNetTensor {
  return scoped((keep) => {
    const [ta, tb] = operands(a, b, op, keep);
    const backend = backendFor([ta, tb], op);
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    const ea = keep(keep(asF32(ta, op)).expand(shape));
    const eb = keep(keep(asF32(tb, op)).expand(shape));
    return backend.compare(op, ea, eb);
  });
}

function unaryOp(op: UnaryOpName, a: BitNetTensor, params?: { min?: number; max?: number }): BitNetTensor {
  checkTensor(a, op, 'input');
  const dtype = a.dtype.isFloat ? a.dtype : BitNetDType.F32;
  return scoped((keep) => finish(backendFor([a], op).unary(op, keep(asF32(a, op)), params), dtype, op));
}

export const add = (a: Operand, b: Operand): BitNetTensor => binaryOp('add', a, b);
export const sub = (a: Operand, b: Operand): BitNetTensor => binaryOp('sub', a, b);
export const mul = (a: Operand, b: Operand): BitNetTensor => binaryOp('mul', a, b);
export const div = (a: Operand, b: Operand): BitNetTensor => binaryOp('div', a, b);
export const pow = (a: Operand, b: Operand): BitNetTensor => binaryOp('pow', a, b);
export const maximum = (a: Operand, b: Operand): BitNetTensor => binaryOp('maximum', a, b);
export const minimum = (a: Operand, b: Operand): BitNetTensor => binaryOp('minimum', a, b);
export const eq = (a: Operand, b: Operand): BitNetTensor => compareOp('eq', a, b);
export const ne = (a: Operand, b: Operand): BitNetTensor => compareOp('ne', a, b);
export const lt = (a: Operand, b: Operand): BitNetTensor => compareOp('lt', a, b);
export const le = (a: Operand, b: Operand): BitNetTensor => compareOp('le', a, b);
export const gt = (a: Operand, b: Operand): BitNetTensor => compareOp('gt', a, b);
export const ge = (a: Operand, b: Operand): BitNetTensor => compareOp('ge', a, b);
export const neg = (a: BitNetTensor): BitNetTensor => unaryOp('neg', a);
export const abs = (a: BitNetTensor): BitNetTensor => unaryOp('abs', a);
export const sqrt = (a: BitNetTensor): BitNetTensor => unaryOp('sqrt', a);
export const rsqrt = (a: BitNetTensor): BitNetTensor => unaryOp('rsqrt', a);
export const exp = (a: BitNetTensor): BitNetTensor => unaryOp('exp', a);
export const log = (a: BitNetTensor): BitNetTensor => unaryOp('log', a);
export const relu = (a: BitNetTensor): BitNetTensor => unaryOp('relu', a);
export const silu = (a: BitNetTensor): BitNetTensor => unaryOp('silu', a);
/** Alias of silu. */
export const swish = silu;
export const sigmoid = (a: BitNetTensor): BitNetTensor => unaryOp('sigmoid', a);
export const tanh = (a: BitNetTensor): BitNetTensor => unaryOp('tanh', a);
export const square = (a: BitNetTensor): BitNetTensor => unaryOp('square', a);

/** GELU: exact (erf) form by default, or the tanh approximation. */
export function gelu(a: BitNetTensor, approximate: 'none' | 'tanh' = 'none'): BitNetTensor {
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'gelu', `approximate must be 'none' or 'tanh', got ${formatValue(approximate)}`);
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', a);
}

export function clamp(a: BitNetTensor, min: number, max: number): BitNetTensor {
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max) || min > max)
    throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, 'clamp', `needs numbers min ≤ max, got ${formatValue(min)} and ${formatValue(max)}`);
  return unaryOp('clamp', a, { min, max });
}

/**
 * condition ? a : b elementwise, with broadcasting; a non-Bool condition means "≠ 0".
 * a and b may both be numbers (an F32 result of the condition's shape).
 */
export function where(condition: BitNetTensor, a: Operand, b: Operand): BitNetTensor {
  checkTensor(condition, 'where', 'condition');
  return scoped((keep) => {
    const [ta, tb, dtype] = operands(a, b, 'where', keep, condition);
    const backend = backendFor([condition, ta, tb], 'where');
    const shape = broadcastShapes(broadcastShapes(condition.shape, ta.shape, 'where'), tb.shape, 'where');
    const cond = condition.dtype === BitNetDType.Bool || condition.dtype === BitNetDType.U8 ? condition : keep(ne(condition, 0));
    const ec = keep(cond.expand(shape));
    const ea = keep(keep(asF32(ta, 'where')).expand(shape));
    const eb = keep(keep(asF32(tb, 'where')).expand(shape));
    return finish(backend.where(ec, ea, eb), dtype, 'where');
  });
}

// ---- reductions ----

function normalizeAxes(a: BitNetTensor, axes: number | readonly number[] | undefined, op: string): number[] {
  if (axes === undefined || axes === null) return [...a.shape.keys()];
  if (typeof axes !== 'number' && !Array.isArray(axes))
    throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, `axes must be an axis number or an array of them, got ${formatValue(axes)}`);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const normalized = list.map((axis) => normalizeAxis(axis, a.ndim, op));
  if (new Set(normalized).size !== normalized.length)
    throw new BitNetRangeError(ErrorCode.INVALID_ARGUMENT, op, `axes ${formatValue(list)} repeat an axis of shape ${formatShape(a.shape)}`);
  return normalized.sort((x, y) => x - y);
}

function reduceOp(op: ReduceOpName, a: BitNetTensor, axes: number | readonly number[] | undefined, keepDims: boolean, correction = 0): BitNetTensor {
  checkTensor(a, op, 'input');
  const list = normalizeAxes(a, axes, op);
  const reducedCount = list.reduce((n, axis) => n * a.shape[axis]!, 1);
  if (reducedCount === 0 && op !== 'sum' && op !== 'mean' && op !== 'var')
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `cannot take ${op} over zero elements (shape ${formatShape(a.shape)}, axes ${formatValue(list)})`);
  if (!Number.isFinite(correction) || correction < 0) throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, op, `correction must be a non-negative number, got ${formatValue(correction)}`);
  return scoped((keep) => {
    const input = keep(asF32(a, op));
    const result = backendFor([input], op).reduce(op, input, list, correction);
    const dtype = op === 'argmax' || op === 'argmin' ? BitNetDType.I32 : a.dtype.isFloat ? a.dtype : BitNetDType.F32;
    const typed = finish(result, dtype, op);
    if (!keepDims) return typed;
    try {
      return typed.reshape(a.shape.map((d, i) => (list.includes(i) ? 1 : d)));
    } finally {
      typed.dispose();
    }
  });
}

export const sum = (a: BitNetTensor, axes?: number | readonly number[], keepDims = false): BitNetTensor => reduceOp('sum', a, axes, keepDims);
export const mean = (a: BitNetTensor, axes?: number | readonly number[], keepDims = false): BitNetTensor => reduceOp('mean', a, axes, keepDims);
export const max = (a: BitNetTensor, axes?: number | readonly number[], keepDims = false): BitNetTensor => reduceOp('max', a, axes, keepDims);
export const min = (a: BitNetTensor, axes?: number | readonly number[], keepDims = false): BitNetTensor => reduceOp('min', a, axes, keepDims);
/** Variance; correction 0 = population (default), 1 = sample. */
export const variance = (a: BitNetTensor, axes?: number | readonly number[], keepDims = false, correction = 0): BitNetTensor => reduceOp('var', a, axes, keepDims, correction);
/** Index of the first maximum along `axis` (over the flattened tensor when omitted); NaN counts as maximum. */
export const argmax = (a: BitNetTensor, axis?: number, keepDims = false): BitNetTensor => reduceOp('argmax', a, axis, keepDims);
export const argmin = (a: BitNetTensor, axis?: number, keepDims = false): BitNetTensor => reduceOp('argmin', a, axis, keepDims);

// ---- row-wise ----

/** Applies a last-axis op along `axis` by moving it last (copying when needed). */
function alongAxis(a: BitNetTensor, axis: number, op: string, body: (contiguous: BitNetTensor, backend: TensorBackend) => BitNetTensor): BitNetTensor {
  checkTensor(a, op, 'input');
  const ax = normalizeAxis(axis, Math.max(a.ndim, 1), op);
  const dtype = a.dtype.isFloat ? a.dtype : BitNetDType.F32;
  return scoped((keep) => {
    const backend = backendFor([a], op);
    const f = keep(asF32(a, op));
    const last = a.ndim === 0 || ax === a.ndim - 1;
    const moved = last ? f : keep(f.transpose(ax, -1));
    const input = keep(moved.contiguous());
    const out = keep(body(input, backend));
    const back = last ? keep(alias(out)) : keep(out.transpose(ax, -1));
    return finish(back.contiguous(), dtype, op);
  });
}

export function softmax(a: BitNetTensor, axis = -1): BitNetTensor {
  return alongAxis(a, axis, 'softmax', (x, backend) => backend.softmax(x, false));
}

export function logSoftmax(a: BitNetTensor, axis = -1): BitNetTensor {
  return alongAxis(a, axis, 'logSoftmax', (x, backend) => backend.softmax(x, true));
}

function checkRowParameter(p: BitNetTensor | null | undefined, n: number, op: string, name: string): void {
  if (p === null || p === undefined) return;
  checkTensor(p, op, name);
  if (p.ndim !== 1 || p.shape[0] !== n)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, op, `${name} must have shape [${n}] (the last axis of the input), got ${formatShape(p.shape)}`);
}

/** A negative or NaN eps would make the normaliser NaN (or divide by zero) for some rows. */
function checkEps(eps: unknown, op: string): void {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new BitNetRangeError(ErrorCode.OUT_OF_RANGE, op, `eps must be a finite number ≥ 0, got ${formatValue(eps)}`);
}

/** x / sqrt(mean(x², last axis) + eps) · weight. */
export function rmsNorm(x: BitNetTensor, weight?: BitNetTensor | null, eps = 1e-6): BitNetTensor {
  checkTensor(x, 'rmsNorm', 'input');
  checkEps(eps, 'rmsNorm');
  if (x.ndim === 0) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'rmsNorm', 'input needs at least one axis');
  checkRowParameter(weight, x.shape[x.ndim - 1]!, 'rmsNorm', 'weight');
  return scoped((keep) => {
    const w = weight ? keep(keep(asF32(weight, 'rmsNorm')).contiguous()) : null;
    return alongAxis(x, -1, 'rmsNorm', (input, backend) => backend.rmsNorm(input, w, eps));
  });
}

/** (x − mean) / sqrt(var + eps) · weight + bias over the last axis. */
export function layerNorm(x: BitNetTensor, weight?: BitNetTensor | null, bias?: BitNetTensor | null, eps = 1e-5): BitNetTensor {
  checkTensor(x, 'layerNorm', 'input');
  checkEps(eps, 'layerNorm');
  if (x.ndim === 0) throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'layerNorm', 'input needs at least one axis');
  const n = x.shape[x.ndim - 1]!;
  checkRowParameter(weight, n, 'layerNorm', 'weight');
  checkRowParameter(bias, n, 'layerNorm', 'bias');
  return scoped((keep) => {
    const w = weight ? keep(keep(asF32(weight, 'layerNorm')).contiguous()) : null;
    const b = bias ? keep(keep(asF32(bias, 'layerNorm')).contiguous()) : null;
    return alongAxis(x, -1, 'layerNorm', (input, backend) => backend.layerNorm(input, w, b, eps));
  });
}

// ---- matmul ----

interface MatmulPlan {
  a: BitNetTensor;
  b: BitNetTensor;
  dtype: BitNetDType;
  outShape: number[];
  backend: TensorBackend;
}

function planMatmul(a: BitNetTensor, b: BitNetTensor, keep: <U extends BitNetTensor>(t: U) => U): MatmulPlan {
  checkTensor(a, 'matmul', 'a');
  checkTensor(b, 'matmul', 'b');
  const backend = backendFor([a, b], 'matmul');
  if (a.ndim === 0 || b.ndim === 0)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'matmul', `both operands need at least one axis, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const a2 = a.ndim === 1 ? keep(a.unsqueeze(0)) : a;
  const b2 = b.ndim === 1 ? keep(b.unsqueeze(-1)) : b;
  const m = a2.shape[a2.ndim - 2]!, k = a2.shape[a2.ndim - 1]!;
  const k2 = b2.shape[b2.ndim - 2]!, n = b2.shape[b2.ndim - 1]!;
  if (k !== k2)
    throw new BitNetRangeError(ErrorCode.SHAPE_MISMATCH, 'matmul', `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not chain: inner sizes ${k} and ${k2} differ`, { details: { shapes: [a.shape, b.shape] } });
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2), 'matmul');
  const ea = keep(keep(asF32(a2, 'matmul')).expand([...batch, m, k]));
  const eb = keep(keep(asF32(b2, 'matmul')).expand([...batch, k, n]));
  const outShape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return { a: ea, b: eb, dtype: promoteTypes(a.dtype, b.dtype, 'matmul'), outShape, backend };
}

function finishMatmul(plan: MatmulPlan, raw: BitNetTensor): BitNetTensor {
  let shaped: BitNetTensor;
  try {
    shaped = raw.view(plan.outShape);
  } finally {
    raw.dispose();
  }
  return finish(shaped, plan.dtype, 'matmul');
}

/**
 * Matrix product with numpy semantics: 1-D operands are promoted to a row/column
 * and the added axis removed again; leading batch axes broadcast.
 */
export function matmul(a: BitNetTensor, b: BitNetTensor): BitNetTensor {
  return scoped((keep) => {
    const plan = planMatmul(a, b, keep);
    return finishMatmul(plan, plan.backend.matmul(plan.a, plan.b));
  });
}

/** matmul on the native thread pool without blocking the event loop. */
export async function matmulAsync(a: BitNetTensor, b: BitNetTensor): Promise<BitNetTensor> {
  const temps: BitNetTensor[] = [];
  try {
    const plan = planMatmul(a, b, (t) => {
      temps.push(t);
      return t;
    });
    return finishMatmul(plan, await plan.backend.matmulAsync(plan.a, plan.b));
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** Converts to `dtype` (a new contiguous tensor). */
export function cast(a: BitNetTensor, dtype: BitNetDType): BitNetTensor {
  checkTensor(a, 'cast', 'input');
  if (dtype.isQuantized) throw new BitNetTypeError(ErrorCode.DTYPE, 'cast', `cannot cast to ${dtype.name}: use the quantization functions`);
  return backendFor([a], 'cast').cast(a, dtype);
}
