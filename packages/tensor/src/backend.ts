import { BitNetError, ErrorCode } from '@bitnet/errors';
import type { BitNetDType } from './dtype.js';
import type { BitNetTensor } from './tensor.js';

export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';
export type CompareOpName = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type UnaryOpName =
  | 'neg' | 'abs' | 'sqrt' | 'rsqrt' | 'exp' | 'log' | 'relu' | 'gelu' | 'geluTanh'
  | 'silu' | 'sigmoid' | 'tanh' | 'clamp' | 'square';
export type ReduceOpName = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin' | 'var';

/**
 * The op set one device kind implements. ops.ts validates shapes, applies
 * broadcasting (inputs arrive as expanded views of the output shape) and type
 * promotion (compute inputs arrive as F32), so a backend only computes.
 * Results are new tensors on the backend's device, in the pool of the first input.
 */
export interface TensorBackend {
  /** Device kind, e.g. 'cpu', 'mlx', 'metal'. */
  readonly device: string;
  binary(op: BinaryOpName, a: BitNetTensor, b: BitNetTensor): BitNetTensor;
  compare(op: CompareOpName, a: BitNetTensor, b: BitNetTensor): BitNetTensor;
  unary(op: UnaryOpName, a: BitNetTensor, params?: { min?: number; max?: number }): BitNetTensor;
  where(condition: BitNetTensor, a: BitNetTensor, b: BitNetTensor): BitNetTensor;
  /** Reduces `axes` (sorted, unique); the result has the kept axes in order. argmax/argmin give I32. */
  reduce(op: ReduceOpName, a: BitNetTensor, axes: readonly number[], correction: number): BitNetTensor;
  /** Along the last axis of a contiguous tensor. */
  softmax(a: BitNetTensor, log: boolean): BitNetTensor;
  rmsNorm(x: BitNetTensor, weight: BitNetTensor | null, eps: number): BitNetTensor;
  layerNorm(x: BitNetTensor, weight: BitNetTensor | null, bias: BitNetTensor | null, eps: number): BitNetTensor;
  /** a: [...batch, m, k], b: [...batch, k, n] (batch axes already broadcast) → contiguous [...batch, m, n]. */
  matmul(a: BitNetTensor, b: BitNetTensor): BitNetTensor;
  matmulAsync(a: BitNetTensor, b: BitNetTensor): Promise<BitNetTensor>;
  /** Contiguous copy in the same dtype. */
  copy(a: BitNetTensor): BitNetTensor;
  /**
   * Contiguous copy converted to `dtype` (plain dtypes). With `out` (contiguous, a's shape, `dtype`),
   * writes into it and returns it: the conversion engine converts chunks in place through one
   * scratch tensor it allocates before touching its input.
   */
  cast(a: BitNetTensor, dtype: BitNetDType, out?: BitNetTensor): BitNetTensor;
}

const backends = new Map<string, TensorBackend>();

/** The device kind of a device string: 'metal:0' → 'metal'. */
export function deviceKind(device: string): string {
  const colon = device.indexOf(':');
  return colon < 0 ? device : device.slice(0, colon);
}

/** Registers (or replaces) the backend of one device kind. */
export function registerTensorBackend(backend: TensorBackend): void {
  backends.set(backend.device, backend);
}

export function unregisterTensorBackend(device: string): boolean {
  return backends.delete(device);
}

export function listTensorBackends(): string[] {
  return [...backends.keys()];
}

export function getTensorBackend(device: string, op = 'tensor'): TensorBackend {
  const backend = backends.get(deviceKind(device));
  if (!backend)
    throw new BitNetError(ErrorCode.UNAVAILABLE, op, `no tensor backend is registered for device "${device}" (registered: ${listTensorBackends().join(', ') || 'none'}); import the package that provides it`);
  return backend;
}
