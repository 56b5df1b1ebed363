import type { Arena, BuddyRegion } from './region.js';
import type { SizeClassTable } from './size-classes.js';

/**
 * A run of one size class's blocks inside a small-region arena. Blocks never
 * handed out are taken from `bump`; freed ones go on the `free` stack, so
 * allocate and free are O(1) and touch no other slab.
 */
export class Slab {
  readonly free: Int32Array;
  freeCount = 0;
  bump = 0;
  live = 0;
  /** True while the slab sits in its class's `partial` list. */
  listed = false;

  constructor(
    readonly sizeClass: SizeClass,
    readonly arena: Arena,
    readonly offset: number,
    readonly capacity: number,
  ) {
    this.free = new Int32Array(capacity);
  }
}

/** Per-class state: the slab being filled and the slabs with free blocks. */
export class SizeClass {
  current: Slab | null = null;
  readonly partial: Slab[] = [];
  readonly slabs: Slab[] = [];
  readonly capacity: number;

  constructor(
    readonly index: number,
    readonly size: number,
    readonly slabSize: number,
  ) {
    this.capacity = Math.floor(slabSize / size);
  }
}

/** Size-class slabs carved from a buddy region. */
export class SlabPool {
  readonly classes: Array<SizeClass | undefined> = [];
  /** Block index inside the slab the last allocate() returned. */
  lastIndex = 0;
  /** Slabs created so far: an allocation that made one can tell, and undo it (see dropSlab). */
  slabsCreated = 0;

  constructor(
    readonly table: SizeClassTable,
    readonly region: BuddyRegion,
  ) {}

  /** Slab holding a free block of class `index` (its block index in `lastIndex`). */
  allocate(index: number, op: string): Slab {
    const sizeClass = this.classes[index] ?? this.createClass(index);
    let slab = sizeClass.current;
    if (slab !== null) {
      if (slab.freeCount !== 0) {
        this.lastIndex = slab.free[--slab.freeCount]!;
        slab.live++;
        return slab;
      }
      if (slab.bump < slab.capacity) {
        this.lastIndex = slab.bump++;
        slab.live++;
        return slab;
      }
    }
    slab = this.nextSlab(sizeClass, op);
    sizeClass.current = slab;
    if (slab.freeCount !== 0) this.lastIndex = slab.free[--slab.freeCount]!;
    else this.lastIndex = slab.bump++;
    slab.live++;
    return slab;
  }

  free(slab: Slab, index: number): void {
    slab.free[slab.freeCount++] = index;
    slab.live--;
    if (!slab.listed && slab !== slab.sizeClass.current) {
      slab.listed = true;
      slab.sizeClass.partial.push(slab);
    }
  }

  private createClass(index: number): SizeClass {
    const sizeClass = new SizeClass(index, this.table.sizes[index]!, this.table.slabSizes[index]!);
    this.classes[index] = sizeClass;
    return sizeClass;
  }

  private nextSlab(sizeClass: SizeClass, op: string): Slab {
    while (sizeClass.partial.length !== 0) {
      const slab = sizeClass.partial.pop()!;
      slab.listed = false;
      if (slab.freeCount !== 0 || slab.bump < slab.capacity) return slab;
    }
    const arena = this.region.allocate(sizeClass.slabSize, op);
    const slab = new Slab(sizeClass, arena, this.region.lastOffset, sizeClass.capacity);
    sizeClass.slabs.push(slab);
    this.slabsCreated++;
    return slab;
  }

  /**
   * Gives slabs with no live block back to the region (which coalesces them
   * with their buddies). Stops at `deadline`. Returns the slab bytes released.
   */
  releaseEmptySlabs(deadline: number): number {
    let released = 0;
    for (const sizeClass of this.classes) {
      if (!sizeClass) continue;
      let kept = 0;
      const slabs = sizeClass.slabs;
      for (let i = 0; i < slabs.length; i++) {
        const slab = slabs[i]!;
        if (slab.live !== 0 || performance.now() > deadline) {
          slabs[kept++] = slab;
          continue;
        }
        this.region.free(slab.arena, slab.offset, sizeClass.slabSize);
        released += sizeClass.slabSize;
        if (sizeClass.current === slab) sizeClass.current = null;
      }
      if (kept !== slabs.length) {
        slabs.length = kept;
        const live = new Set(slabs);
        let listed = 0;
        for (const slab of sizeClass.partial) if (live.has(slab)) sizeClass.partial[listed++] = slab;
        sizeClass.partial.length = listed;
      }
    }
    return released;
  }

  /** Gives back one slab with no live block (the one an allocation that then failed created). */
  dropSlab(slab: Slab): void {
    const sizeClass = slab.sizeClass;
    const index = sizeClass.slabs.indexOf(slab);
    if (slab.live !== 0 || index < 0) return;
    sizeClass.slabs.splice(index, 1);
    if (sizeClass.current === slab) sizeClass.current = null;
    if (slab.listed) {
      sizeClass.partial.splice(sizeClass.partial.indexOf(slab), 1);
      slab.listed = false;
    }
    this.region.free(slab.arena, slab.offset, sizeClass.slabSize);
  }

  /** Forgets every slab and frees every arena of the region (a failed first allocation, or dispose). */
  releaseAll(): void {
    this.classes.length = 0;
    this.region.releaseAll();
  }

  /** Bytes of free blocks inside slabs (usable only by their own class). */
  freeSlabBytes(): number {
    let free = 0;
    for (const sizeClass of this.classes) {
      if (!sizeClass) continue;
      for (const slab of sizeClass.slabs) free += (slab.capacity - slab.live) * sizeClass.size;
    }
    return free;
  }

  /** Largest block a slab could still hand out. */
  largestFreeSlot(): number {
    let largest = 0;
    for (const sizeClass of this.classes) {
      if (!sizeClass || sizeClass.size <= largest) continue;
      if (sizeClass.slabs.some((slab) => slab.live < slab.capacity)) largest = sizeClass.size;
    }
    return largest;
  }
}
