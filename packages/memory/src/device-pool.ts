import type { MemoryBackend } from './backend.js';
import type { ResolvedPoolConfig } from './config.js';
import { BuddyRegion } from './region.js';
import { buildSizeClasses, type SizeClassTable } from './size-classes.js';
import { SlabPool } from './slab-pool.js';
import { pressureThresholdBytes } from './pressure.js';

/** Running totals of one pool part (a device's small or large pool, a device, the whole pool). */
export class Counters {
  totalAllocated = 0;
  totalDeallocated = 0;
  currentAllocated = 0;
  peakAllocated = 0;
  allocationCount = 0;
  deallocationCount = 0;
  /** Bytes of the blocks behind currentAllocated (sizes rounded up to the class or buddy unit). */
  blockBytes = 0;

  /** Counts one allocated block of `size` bytes (`blockBytes` behind it). */
  addAllocation(size: number, blockBytes: number): void {
    this.totalAllocated += size;
    this.currentAllocated += size;
    if (this.currentAllocated > this.peakAllocated) this.peakAllocated = this.currentAllocated;
    this.allocationCount++;
    this.blockBytes += blockBytes;
  }

  /** Counts every live block as deallocated: dispose() released them with their arenas. */
  releaseLive(): void {
    this.totalDeallocated += this.currentAllocated;
    this.deallocationCount = this.allocationCount;
    this.currentAllocated = 0;
    this.blockBytes = 0;
  }

  snapshot(): CounterSnapshot {
    return {
      totalAllocated: this.totalAllocated,
      totalDeallocated: this.totalDeallocated,
      currentAllocated: this.currentAllocated,
      peakAllocated: this.peakAllocated,
      allocationCount: this.allocationCount,
      deallocationCount: this.deallocationCount,
      blockBytes: this.blockBytes,
    };
  }
}

export interface CounterSnapshot {
  totalAllocated: number;
  totalDeallocated: number;
  currentAllocated: number;
  peakAllocated: number;
  allocationCount: number;
  deallocationCount: number;
  blockBytes: number;
}

const tables = new Map<number, SizeClassTable>();
function sizeClassesFor(threshold: number): SizeClassTable {
  let table = tables.get(threshold);
  if (!table) tables.set(threshold, (table = buildSizeClasses(threshold)));
  return table;
}

/** Minimum buddy unit: the smallest slab, and the rounding of large blocks. */
export const BUDDY_UNIT = 65536;

/** Everything a pool keeps for one device id. */
export class DevicePool {
  readonly small: SlabPool;
  readonly large: BuddyRegion;
  readonly sizeClasses: SizeClassTable;
  readonly smallCounters = new Counters();
  readonly largeCounters = new Counters();
  readonly counters = new Counters();
  readonly memoryLimit: number;
  /** Weak references to the per-block ArrayBuffers handed out, so dispose can detach them. */
  readonly views = new Set<WeakRef<ArrayBuffer>>();
  /** Index into pressureLevels. */
  pressureIndex = 0;
  /** Byte counts at which the pressure level must be recomputed. */
  pressureUp = Infinity;
  pressureDown = -Infinity;
  readonly pressureBytes: number[];
  disposed = false;
  lastActivity = performance.now();

  constructor(
    readonly device: string,
    readonly deviceIndex: number,
    readonly backend: MemoryBackend,
    config: ResolvedPoolConfig,
  ) {
    const capacity = backend.capacity?.() ?? null;
    this.memoryLimit = config.memoryLimit ?? capacity ?? Number.MAX_SAFE_INTEGER;
    this.sizeClasses = sizeClassesFor(config.smallBlockThreshold);
    const smallRegion = new BuddyRegion(
      'small',
      device,
      backend,
      BUDDY_UNIT,
      config.initialSmallPoolSize,
      config.maxSmallPoolSize,
      'maxSmallPoolSize',
    );
    this.small = new SlabPool(this.sizeClasses, smallRegion);
    this.large = new BuddyRegion(
      'large',
      device,
      backend,
      BUDDY_UNIT,
      config.initialLargePoolSize,
      // Default: twice the limit, so a request near the limit still finds a power-of-two
      // arena; tail trimming leaves the unused part of such an arena free for others.
      config.maxLargePoolSize ?? Math.max(2 * this.memoryLimit, BUDDY_UNIT),
      config.maxLargePoolSize === null ? 'memoryLimit' : 'maxLargePoolSize',
    );
    this.pressureBytes = pressureThresholdBytes(config.tracking.pressureThresholdRatio, this.memoryLimit);
  }

  get reservedBytes(): number {
    return this.small.region.reservedBytes + this.large.reservedBytes;
  }

  /** Sets the byte bounds of the current pressure level. */
  armPressure(index: number): void {
    this.pressureIndex = index;
    this.pressureUp = index + 1 < this.pressureBytes.length ? this.pressureBytes[index + 1]! : Infinity;
    this.pressureDown = index === 0 ? -Infinity : this.pressureBytes[index]!;
  }
}
