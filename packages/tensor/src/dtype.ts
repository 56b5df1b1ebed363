import { BitNetTypeError, ErrorCode, formatValue } from '@bitnet/errors';

export type DTypeName =
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I8'
  | 'I16'
  | 'I32'
  | 'U8'
  | 'Bool'
  | 'TQ2_0'
  | 'TQ1_0'
  | 'I2';

export type DTypeKind = 'float' | 'int' | 'uint' | 'bool' | 'quantized';

export type TypedArrayOf<Name extends DTypeName> = Name extends 'F32'
  ? Float32Array
  : Name extends 'F16' | 'BF16' | 'I16'
    ? Name extends 'I16'
      ? Int16Array
      : Uint16Array
    : Name extends 'I8'
      ? Int8Array
      : Name extends 'I32'
        ? Int32Array
        : Uint8Array;

export type ElementArray = Float32Array | Uint16Array | Int16Array | Int8Array | Int32Array | Uint8Array;

interface DTypeSpec {
  name: DTypeName;
  kind: DTypeKind;
  /** Bits per element; fractional for block formats (TQ2_0: 66 bytes per 256 = 2.0625). */
  bits: number;
  /** Elements per block for block-quantized types, 1 otherwise. */
  blockSize: number;
  /** Bytes per block (for plain types: bytes per element). */
  blockBytes: number;
  /** safetensors dtype string, when the format has one. */
  safetensors: string | null;
}

/**
 * Element types. Plain types have a byte size per element; the ternary
 * types (for BitLinear) are stored in blocks and only support whole blocks:
 *  - TQ2_0: ggml-compatible, 256 weights = 64 bytes of 2-bit codes + fp16 scale (66 bytes).
 *  - TQ1_0: ggml-compatible, 256 weights in 54 bytes (base-3 packing + fp16 scale).
 *  - I2: plain 2-bit codes (value + 1), four per byte, no scale (the scale lives beside the tensor).
 */
export class BitNetDType {
  static readonly F32 = new BitNetDType({ name: 'F32', kind: 'float', bits: 32, blockSize: 1, blockBytes: 4, safetensors: 'F32' });
  static readonly F16 = new BitNetDType({ name: 'F16', kind: 'float', bits: 16, blockSize: 1, blockBytes: 2, safetensors: 'F16' });
  static readonly BF16 = new BitNetDType({ name: 'BF16', kind: 'float', bits: 16, blockSize: 1, blockBytes: 2, safetensors: 'BF16' });
  static readonly I8 = new BitNetDType({ name: 'I8', kind: 'int', bits: 8, blockSize: 1, blockBytes: 1, safetensors: 'I8' });
  static readonly I16 = new BitNetDType({ name: 'I16', kind: 'int', bits: 16, blockSize: 1, blockBytes: 2, safetensors: 'I16' });
  static readonly I32 = new BitNetDType({ name: 'I32', kind: 'int', bits: 32, blockSize: 1, blockBytes: 4, safetensors: 'I32' });
  static readonly U8 = new BitNetDType({ name: 'U8', kind: 'uint', bits: 8, blockSize: 1, blockBytes: 1, safetensors: 'U8' });
  static readonly Bool = new BitNetDType({ name: 'Bool', kind: 'bool', bits: 8, blockSize: 1, blockBytes: 1, safetensors: 'BOOL' });
  static readonly TQ2_0 = new BitNetDType({ name: 'TQ2_0', kind: 'quantized', bits: 66 * 8 / 256, blockSize: 256, blockBytes: 66, safetensors: null });
  static readonly TQ1_0 = new BitNetDType({ name: 'TQ1_0', kind: 'quantized', bits: 54 * 8 / 256, blockSize: 256, blockBytes: 54, safetensors: null });
  static readonly I2 = new BitNetDType({ name: 'I2', kind: 'quantized', bits: 2, blockSize: 4, blockBytes: 1, safetensors: null });

  static readonly all: readonly BitNetDType[] = [
    BitNetDType.F32, BitNetDType.F16, BitNetDType.BF16, BitNetDType.I8, BitNetDType.I16,
    BitNetDType.I32, BitNetDType.U8, BitNetDType.Bool, BitNetDType.TQ2_0, BitNetDType.TQ1_0, BitNetDType.I2,
  ];

  readonly name: DTypeName;
  readonly kind: DTypeKind;
  readonly bits: number;
  readonly blockSize: number;
  readonly blockBytes: number;
  readonly safetensorsName: string | null;

  private constructor(spec: DTypeSpec) {
    this.name = spec.name;
    this.kind = spec.kind;
    this.bits = spec.bits;
    this.blockSize = spec.blockSize;
    this.blockBytes = spec.blockBytes;
    this.safetensorsName = spec.safetensors;
    Object.freeze(this);
  }

  get isFloat(): boolean { return this.kind === 'float'; }
  get isInteger(): boolean { return this.kind === 'int' || this.kind === 'uint'; }
  get isQuantized(): boolean { return this.kind === 'quantized'; }
  /** Bytes per element of a plain type; throws for block types. */
  get byteSize(): number {
    if (this.blockSize !== 1) throw new BitNetTypeError(ErrorCode.DTYPE, 'dtype', `${this.name} is a block type (${this.blockSize} elements in ${this.blockBytes} bytes) with no per-element byte size`);
    return this.blockBytes;
  }

  /** Bytes needed for `count` elements (block types: whole blocks only). */
  byteLength(count: number): number {
    if (this.blockSize === 1) return count * this.blockBytes;
    if (count % this.blockSize !== 0)
      throw new BitNetTypeError(ErrorCode.DTYPE, 'dtype', `${this.name} stores whole blocks of ${this.blockSize} elements; ${count} is not a multiple`);
    return (count / this.blockSize) * this.blockBytes;
  }

  toString(): string { return this.name; }
  toJSON(): string { return this.name; }

  static fromName(name: string, op = 'dtype'): BitNetDType {
    const found = BitNetDType.all.find((d) => d.name === name);
    if (!found) throw new BitNetTypeError(ErrorCode.DTYPE, op, `unknown dtype ${formatValue(name)}; expected one of ${BitNetDType.all.map((d) => d.name).join(', ')}`);
    return found;
  }

  static fromSafetensors(name: string): BitNetDType | undefined {
    return BitNetDType.all.find((d) => d.safetensorsName === name);
  }
}

export type DTypeLike = BitNetDType | DTypeName;

export function toDType(value: DTypeLike | undefined, fallback: BitNetDType, op: string): BitNetDType {
  if (value === undefined) return fallback;
  if (value instanceof BitNetDType) return value;
  return BitNetDType.fromName(value, op);
}

/**
 * Result dtype of an arithmetic op on two dtypes. Rules (documented in the README):
 *  - same dtype → that dtype (Bool + Bool → Bool only for logical ops; arithmetic gives F32);
 *  - any float with any integer/bool → the float; F16 with BF16 → F32; any float with F32 → F32;
 *  - integer/bool with integer/bool → F32 (every op computes in float32, which is exact for
 *    integers up to 2^24; we do not pretend to integer arithmetic we do not do).
 */
export function promoteTypes(a: BitNetDType, b: BitNetDType, op: string): BitNetDType {
  if (a.isQuantized || b.isQuantized)
    throw new BitNetTypeError(ErrorCode.DTYPE, op, `${a.isQuantized ? a.name : b.name} is a packed quantized dtype; dequantize it first`);
  if (a === b && a.isFloat) return a;
  if (a.isFloat && !b.isFloat) return a;
  if (b.isFloat && !a.isFloat) return b;
  return BitNetDType.F32;
}
