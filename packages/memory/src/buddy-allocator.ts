/**
 * Binary buddy allocator over one arena of `size` bytes (a power of two),
 * handing out runs of `minBlock`-byte units. Bookkeeping lives in typed arrays
 * indexed by unit, so allocate and free are O(log(size / minBlock)) with no
 * JS allocation:
 * - `freeLevel[u]` is the level of the free block starting at unit u, or -1;
 * - free blocks of each level form an intrusive doubly-linked list (`next`, `prev`);
 * - `nonEmpty` has bit l set while level l has a free block.
 * A request is rounded up to whole units, taken from the smallest free block
 * of a fitting power-of-two level, and the unused tail of that block is given
 * back at once as smaller buddies ("tail trimming"), so a 33-unit request
 * holds 33 units, not 64. Free splits the run into the same power-of-two
 * pieces and coalesces each with its buddy as far as it goes.
 */
export class BuddyArena {
  readonly size: number;
  readonly minBlock: number;
  readonly units: number;
  /** Level of the whole arena: log2(size / minBlock). */
  readonly topLevel: number;
  private readonly freeLevel: Int8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly heads: Int32Array;
  private nonEmpty = 0;
  /** Free bytes, in whole units. */
  freeBytes: number;

  constructor(size: number, minBlock: number) {
    if (!isPowerOfTwo(size) || !isPowerOfTwo(minBlock) || size < minBlock) {
      throw new RangeError(`BuddyArena needs power-of-two sizes with size ≥ minBlock, got ${size} and ${minBlock}`);
    }
    this.size = size;
    this.minBlock = minBlock;
    this.units = size / minBlock;
    this.topLevel = Math.log2(this.units);
    if (this.topLevel > 30) throw new RangeError(`BuddyArena of ${size} bytes has more than 2^30 units of ${minBlock} bytes`);
    this.freeLevel = new Int8Array(this.units).fill(-1);
    this.next = new Int32Array(this.units);
    this.prev = new Int32Array(this.units);
    this.heads = new Int32Array(this.topLevel + 1).fill(-1);
    this.freeBytes = size;
    this.push(0, this.topLevel);
  }

  /** Units a request of `bytes` occupies. */
  unitsFor(bytes: number): number {
    return Math.ceil(bytes / this.minBlock);
  }

  /** True when a run of `bytes` can be taken now. */
  canAllocate(bytes: number): boolean {
    const need = this.unitsFor(bytes);
    if (need > this.units) return false;
    const level = levelFor(need);
    return level <= this.topLevel && (this.nonEmpty & ~((1 << level) - 1)) !== 0;
  }

  /** Byte offset of a run of at least `bytes` (rounded up to whole units), or -1 when none is free. */
  allocate(bytes: number): number {
    const need = this.unitsFor(bytes);
    if (need > this.units) return -1;
    const level = levelFor(need);
    const available = this.nonEmpty & ~((1 << level) - 1);
    if (available === 0) return -1;
    let current = 31 - Math.clz32(available & -available);
    const unit = this.heads[current]!;
    this.remove(unit, current);
    while (current > level) {
      current--;
      this.push(unit + (1 << current), current);
    }
    // Give the unused tail back as buddies, smallest first.
    const end = unit + (1 << level);
    for (let tail = unit + need; tail < end; ) {
      const relative = tail - unit;
      const piece = relative & -relative;
      this.push(tail, 31 - Math.clz32(piece));
      tail += piece;
    }
    this.freeBytes -= need * this.minBlock;
    return unit * this.minBlock;
  }

  /** Returns the run allocated at `offset` for `bytes`; coalesces with free buddies. */
  free(offset: number, bytes: number): void {
    const need = this.unitsFor(bytes);
    let unit = offset / this.minBlock;
    if (!Number.isInteger(unit) || unit < 0 || unit + need > this.units || this.freeLevel[unit] !== -1) {
      throw new Error(`BuddyArena.free: run at ${offset} of ${bytes} bytes is not an allocated run of this arena`);
    }
    // Largest piece first: each piece starts aligned to its own size.
    for (let rest = need; rest !== 0; ) {
      const level = 31 - Math.clz32(rest);
      this.freeBlock(unit, level);
      unit += 1 << level;
      rest -= 1 << level;
    }
    this.freeBytes += need * this.minBlock;
  }

  /** Bytes of the largest free block. */
  largestFreeBlock(): number {
    return this.nonEmpty === 0 ? 0 : 2 ** (31 - Math.clz32(this.nonEmpty)) * this.minBlock;
  }

  /** True when nothing is allocated: the arena is one free block again. */
  isEmpty(): boolean {
    return this.heads[this.topLevel] === 0;
  }

  /** Free blocks as (offset, size) pairs sorted by offset, for tests and diagnostics. */
  freeBlocks(): Array<{ offset: number; size: number }> {
    const blocks: Array<{ offset: number; size: number }> = [];
    for (let level = 0; level <= this.topLevel; level++) {
      for (let unit = this.heads[level]!; unit !== -1; unit = this.next[unit]!) {
        blocks.push({ offset: unit * this.minBlock, size: 2 ** level * this.minBlock });
      }
    }
    return blocks.sort((a, b) => a.offset - b.offset);
  }

  /** Count of free blocks per level (index = level), for diagnostics. */
  freeBlockCounts(): number[] {
    const counts: number[] = [];
    for (let level = 0; level <= this.topLevel; level++) {
      let count = 0;
      for (let unit = this.heads[level]!; unit !== -1; unit = this.next[unit]!) count++;
      counts.push(count);
    }
    return counts;
  }

  private freeBlock(unit: number, level: number): void {
    while (level < this.topLevel) {
      const buddy = unit ^ (1 << level);
      if (this.freeLevel[buddy] !== level) break;
      this.remove(buddy, level);
      unit &= ~(1 << level);
      level++;
    }
    this.push(unit, level);
  }

  private push(unit: number, level: number): void {
    const head = this.heads[level]!;
    this.freeLevel[unit] = level;
    this.next[unit] = head;
    this.prev[unit] = -1;
    if (head !== -1) this.prev[head] = unit;
    this.heads[level] = unit;
    this.nonEmpty |= 1 << level;
  }

  private remove(unit: number, level: number): void {
    const previous = this.prev[unit]!;
    const following = this.next[unit]!;
    this.freeLevel[unit] = -1;
    if (previous !== -1) this.next[previous] = following;
    else this.heads[level] = following;
    if (following !== -1) this.prev[following] = previous;
    if (this.heads[level] === -1) this.nonEmpty &= ~(1 << level);
  }
}

export function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

/** Smallest level l with 2^l ≥ units. */
function levelFor(units: number): number {
  return units <= 1 ? 0 : 32 - Math.clz32(units - 1);
}
