/**
 * Size classes of the small-block pool: 16-byte steps up to 128 bytes, then
 * four classes per power of two (1¼, 1½, 1¾, 2 × 2^k), so a block wastes at
 * most 20 % of its size beyond 128 bytes. A class of size c gives blocks
 * aligned to the largest power of two dividing c (at most 4096, the slab
 * alignment); a request for more alignment moves up to a class that has it.
 */
export const MAX_ALIGNMENT = 4096;
const LINEAR_LIMIT = 128;
const LINEAR_STEP = 16;

export interface SizeClassTable {
  /** Block size of each class, ascending. */
  readonly sizes: Float64Array;
  /** Natural alignment of each class's blocks. */
  readonly alignments: Float64Array;
  /** Bytes of each class's slabs (a power of two, from the small region's buddy allocator). */
  readonly slabSizes: Float64Array;
  /** Requests of this many bytes or more go to the large pool. */
  readonly threshold: number;
}

function lowBit(value: number): number {
  // value ≤ 2^31 here, so 32-bit arithmetic is exact
  return value > 0x40000000 ? 0x40000000 : value & -value;
}

export function nextPowerOfTwo(value: number): number {
  if (value <= 1) return 1;
  // Integer path up to 2^30 (Math.pow/log2 are slow on hot paths).
  if (value <= 0x40000000) return 1 << (32 - Math.clz32(Math.ceil(value) - 1));
  return 2 ** Math.ceil(Math.log2(value));
}

/** Slab size for a class: at least 64 KiB and at least four blocks, a power of two. */
export function slabSizeFor(classSize: number): number {
  return Math.max(65536, nextPowerOfTwo(classSize * 4));
}

/** Class index of the smallest class ≥ size (size ≥ 1), ignoring alignment. */
export function classIndexOf(size: number): number {
  if (size <= LINEAR_LIMIT) return ((size + LINEAR_STEP - 1) >>> 4) - 1;
  // Integer ops only: `2 ** k` goes through Math.pow and dominated the allocate path.
  const k = 31 - Math.clz32(size - 1); // 2^k < size ≤ 2^(k+1)
  const shift = k - 2;
  const step = (size - (1 << k) + (1 << shift) - 1) >>> shift; // 1..4
  return 8 + (k - 7) * 4 + (step - 1);
}

export function buildSizeClasses(threshold: number): SizeClassTable {
  const sizes: number[] = [];
  for (let size = LINEAR_STEP; size <= LINEAR_LIMIT; size += LINEAR_STEP) sizes.push(size);
  // Classes continue until one can hold the largest small request at the largest alignment.
  const last = Math.max(threshold - 1, MAX_ALIGNMENT);
  for (let k = 7; sizes[sizes.length - 1]! < last || lowBit(sizes[sizes.length - 1]!) < MAX_ALIGNMENT; k++) {
    for (let step = 1; step <= 4; step++) sizes.push(2 ** k + step * 2 ** (k - 2));
  }
  return {
    sizes: Float64Array.from(sizes),
    alignments: Float64Array.from(sizes, (size) => Math.min(lowBit(size), MAX_ALIGNMENT)),
    slabSizes: Float64Array.from(sizes, slabSizeFor),
    threshold,
  };
}

/** Class for (size, alignment) with 1 ≤ size < threshold and alignment a power of two ≤ 4096. */
export function classFor(table: SizeClassTable, size: number, alignment: number): number {
  let index = classIndexOf(size < alignment ? alignment : size);
  // At most four steps: every fourth class is a power of two ≥ the request.
  while (table.alignments[index]! < alignment) index++;
  return index;
}
