import type { BitNetDType } from './dtype.js';
import { contiguousStrides, numelOf, type Shape } from './shape.js';

/** Shape, strides (in elements), element offset, dtype and device of a tensor or view. */
export class TensorMetadata {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: BitNetDType;
  readonly device: string;

  constructor(shape: Shape, dtype: BitNetDType, device = 'cpu', strides?: readonly number[], offset = 0) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.dtype = dtype;
    this.device = device;
  }

  get ndim(): number { return this.shape.length; }
  get numel(): number { return numelOf(this.shape); }
  /** Bytes the elements occupy when stored contiguously. */
  get byteSize(): number { return this.dtype.byteLength(this.numel); }

  /** Row-major contiguous (axes of size 1 may have any stride). */
  get isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const size = this.shape[d]!;
      if (size === 0) return true;
      if (size !== 1 && this.strides[d] !== expected) return false;
      expected *= size;
    }
    return true;
  }

  /** Lowest and highest element index (relative to the storage start) any element of the view reaches. */
  get span(): { low: number; high: number } {
    let low = this.offset, high = this.offset;
    if (this.numel === 0) return { low, high: low - 1 };
    for (let d = 0; d < this.shape.length; d++) {
      const reach = this.strides[d]! * (this.shape[d]! - 1);
      if (reach < 0) low += reach;
      else high += reach;
    }
    return { low, high };
  }

  with(changes: { shape?: Shape; strides?: readonly number[]; offset?: number; dtype?: BitNetDType }): TensorMetadata {
    return new TensorMetadata(changes.shape ?? this.shape, changes.dtype ?? this.dtype, this.device, changes.strides ?? (changes.shape ? undefined : this.strides), changes.offset ?? this.offset);
  }
}
