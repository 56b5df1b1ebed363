import { BitNetError, BitNetRangeError, DisposedError, ErrorCode, invalidArgument, isBitNetError, outOfRange } from '@bitnet/errors';
import { getMemoryBackend } from './backend.js';
import { CleanupManager, type CleanupOptions, type CleanupResult } from './cleanup.js';
import { type MemoryPoolConfig, type ResolvedPoolConfig, resolveConfig } from './config.js';
import { type CounterSnapshot, type Counters, DevicePool } from './device-pool.js';
import { createHandle, DEALLOCATED, detachViews, LIVE, MemoryHandle } from './handle.js';
import { analysePatterns, type PatternAnalysis } from './patterns.js';
import { type PressureCallback, type PressureEvent, PressureLevel, pressureIndexOf, pressureLevels } from './pressure.js';
import { MAX_ALIGNMENT, classFor } from './size-classes.js';
import type { Arena } from './region.js';
import type { Slab } from './slab-pool.js';
import {
  type AllocationRecord,
  type LeakCallback,
  type LeakReport,
  type SizeBucket,
  type TimelineEvent,
  Tracker,
} from './tracking.js';

export interface SubPoolMetrics extends CounterSnapshot {
  /** Bytes of arenas this part holds from the device. */
  reservedBytes: number;
  arenas: number;
}

export interface DeviceMetrics extends CounterSnapshot {
  device: string;
  reservedBytes: number;
  memoryLimit: number;
  pressureLevel: PressureLevel;
  pools: { small: SubPoolMetrics & { slabs: number }; large: SubPoolMetrics };
}

export interface MemoryMetrics extends CounterSnapshot {
  reservedBytes: number;
  /** Handles the GC collected without deallocate() (standard tracking and up). */
  reclaimedCount: number;
  reclaimedBytes: number;
  devices: Record<string, DeviceMetrics>;
}

export interface FragmentationMetrics {
  /**
   * External fragmentation, 1 − largestFreeBlock / freeBytes over the free
   * memory of every arena (buddy free blocks plus free slots of slabs): 0 when
   * all free memory is one block, towards 1 when it is scattered in pieces
   * too small for larger requests. 0 when nothing is free.
   */
  fragmentationRatio: number;
  /** Bytes lost to rounding inside live blocks: 1 − currentAllocated / blockBytes. */
  internalFragmentation: number;
  freeBytes: number;
  largestFreeBlock: number;
}

export interface DetailedMetrics extends MemoryMetrics, FragmentationMetrics {
  trackingLevel: string;
  /** Highest pressure level over the devices. */
  pressureLevel: PressureLevel;
  sizeHistogram: SizeBucket[];
  lifetimeHistogram: Array<{ minMs: number; maxMs: number; count: number }>;
  /** Detailed level: recent allocate/deallocate events, oldest first. */
  timeline: TimelineEvent[];
  liveAllocations: number | null;
  patterns: PatternAnalysis;
  suggestions: string[];
}

let nextPoolId = 1;

/**
 * Hybrid memory pool: blocks below `smallBlockThreshold` come from size-class
 * slabs (O(1) allocate and free), larger ones from a buddy allocator that
 * splits and coalesces. One set of arenas per device id. Not shared between
 * threads: each worker thread has its own pools (see README).
 */
export class HybridMemoryPool {
  readonly id = nextPoolId++;
  readonly config: ResolvedPoolConfig;
  /** @internal */ readonly tracker: Tracker | null;
  readonly cleanupManager: CleanupManager;
  private readonly trackingRank: number;
  private readonly devices = new Map<string, DevicePool>();
  private cpu: DevicePool | null = null;
  private readonly totals = { currentAllocated: 0, peakAllocated: 0 };
  private readonly pressureCallbacks = new Set<PressureCallback>();
  /** Pressure events not yet delivered to every callback (see updatePressure). */
  private readonly pressureQueue: Array<{ pool: DevicePool; event: PressureEvent }> = [];
  private deliveringPressure = false;
  private nextHandleId = 1;
  private readonly zeroOnAllocate: boolean;
  private disposed = false;
  private leakTimer: NodeJS.Timeout | null = null;

  constructor(config: MemoryPoolConfig = {}) {
    this.config = resolveConfig(config);
    this.zeroOnAllocate = this.config.zeroOnAllocate;
    const tracking = this.config.tracking;
    this.tracker = tracking.level === 'none' ? null : new Tracker(tracking, (record) => this.reclaim(record));
    this.trackingRank = this.tracker?.rank ?? 0;
    if (this.tracker?.leakDetection && tracking.leakDetectionIntervalMs > 0) {
      this.leakTimer = setInterval(() => this.backgroundLeakScan(), tracking.leakDetectionIntervalMs);
      this.leakTimer.unref();
    }
    this.cleanupManager = new CleanupManager(this, this.config.cleanup);
    if (this.config.enableAutomaticCleanup) this.cleanupManager.start();
  }

  static withConfig(config: MemoryPoolConfig): HybridMemoryPool {
    return new HybridMemoryPool(config);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * A block of at least `size` bytes aligned to `alignment` on `device`.
   * Memory is not zeroed unless the pool has `zeroOnAllocate` (see allocateZeroed).
   */
  allocate(size: number, alignment = 64, device = 'cpu'): MemoryHandle {
    return this.allocateBlock(size, alignment, device, this.zeroOnAllocate, this.allocate);
  }

  /**
   * allocate() with the block zeroed. The zeroing happens before the block is counted,
   * so a device that cannot zero leaves the pool as it was.
   */
  allocateZeroed(size: number, alignment = 64, device = 'cpu'): MemoryHandle {
    return this.allocateBlock(size, alignment, device, true, this.allocateZeroed);
  }

  /** Both allocate calls; `entry` (the public one) is where tracked allocation stacks start. */
  private allocateBlock(size: number, alignment: number, device: string, zero: boolean, entry: (...args: never[]) => unknown): MemoryHandle {
    if (this.disposed) throw new DisposedError('HybridMemoryPool.allocate', `memory pool #${this.id}`);
    if (typeof size !== 'number' || !(size > 0 && size <= Number.MAX_SAFE_INTEGER && Math.floor(size) === size)) {
      throw this.sizeError(size);
    }
    if (typeof alignment !== 'number' || !(alignment > 0 && alignment <= MAX_ALIGNMENT && (alignment | 0) === alignment && (alignment & (alignment - 1)) === 0)) {
      throw this.alignmentError(alignment);
    }
    // A device is only recorded (listDevices, metrics) once an allocation on it succeeds.
    const known = device === 'cpu' ? this.cpu : (this.devices.get(device) ?? null);
    const pool = known ?? this.createDevicePool(device);
    // Refused before a block is taken: a device that can neither fill nor show its memory cannot zero it.
    if (zero && !pool.backend.fill && !pool.backend.hostVisible) throw this.zeroError(pool);
    if (pool.counters.currentAllocated + size > pool.memoryLimit) throw this.limitError(pool, size);
    let handle: MemoryHandle;
    let large: boolean;
    let counters: Counters;
    // What exists before this block, so a failed zeroing can give back what was grown for it (no object on this hot path).
    const slabsBefore = pool.small.slabsCreated;
    const smallArenasBefore = pool.small.region.arenas.length;
    const largeArenasBefore = pool.large.arenas.length;
    if (size < pool.sizeClasses.threshold) {
      large = false;
      const index = classFor(pool.sizeClasses, size, alignment);
      const classSize = pool.sizeClasses.sizes[index]!;
      const slab = pool.small.allocate(index, 'HybridMemoryPool.allocate');
      const slot = pool.small.lastIndex;
      handle = createHandle(this.nextHandleId++, size, alignment, device, this, pool, slab, slot, slab.arena, slab.offset + slot * classSize, classSize);
      counters = pool.smallCounters;
    } else {
      large = true;
      if (!pool.large.canEverHold(size)) throw this.largeLimitError(pool, size);
      const arena = pool.large.allocate(size, 'HybridMemoryPool.allocate');
      const blockBytes = pool.large.roundedBytes(size);
      handle = createHandle(this.nextHandleId++, size, alignment, device, this, pool, null, 0, arena, pool.large.lastOffset, blockBytes);
      counters = pool.largeCounters;
    }
    // Zeroed before any counter moves, so a failure can give the block back and leave the pool as it was.
    if (zero) this.zeroNew(handle, known === null, slabsBefore, smallArenasBefore, largeArenasBefore);
    if (known === null) this.addDevicePool(pool);
    counters.addAllocation(size, handle.blockBytes);
    const deviceCounters = pool.counters;
    deviceCounters.addAllocation(size, handle.blockBytes);
    const totals = this.totals;
    totals.currentAllocated += size;
    if (totals.currentAllocated > totals.peakAllocated) totals.peakAllocated = totals.currentAllocated;
    if (this.trackingRank !== 0) this.tracker!.onAllocate(handle, large, entry);
    if (deviceCounters.currentAllocated >= pool.pressureUp) this.updatePressure(pool);
    return handle;
  }

  /** Returns a block to the pool; the handle and every view of it stop working. */
  deallocate(handle: MemoryHandle): void {
    // A bare object on MemoryHandle's prototype is no handle at all, not one of another pool.
    if (!(handle instanceof MemoryHandle) || typeof handle.id !== 'number') {
      throw invalidArgument('HybridMemoryPool.deallocate', `expected a MemoryHandle, got ${describe(handle)}`);
    }
    if (handle.owner !== this) {
      throw new BitNetError(
        ErrorCode.FOREIGN_HANDLE,
        'HybridMemoryPool.deallocate',
        `memory handle #${handle.id} belongs to another pool, not to pool #${this.id}`,
      );
    }
    if (this.disposed) throw new DisposedError('HybridMemoryPool.deallocate', `memory pool #${this.id}`);
    if (handle.state !== LIVE) {
      throw new BitNetError(
        ErrorCode.DOUBLE_FREE,
        'HybridMemoryPool.deallocate',
        `memory handle #${handle.id} (${handle.size} bytes on ${handle.device}) was already deallocated`,
      );
    }
    handle.state = DEALLOCATED;
    const pool = handle.devicePool;
    if (handle.blockBuffer !== null) {
      detachViews(pool, handle.blockBuffer, handle.bufferRef);
      handle.blockBuffer = null;
      handle.bufferRef = null;
    }
    const large = handle.slab === null;
    if (this.trackingRank !== 0) this.tracker!.onDeallocate(handle, large);
    this.releaseBlock(pool, handle.size, handle.slab, handle.slot, handle.arena, handle.offset, handle.blockBytes);
  }

  /** Metrics: totals, then per device, then per small/large pool. */
  getMetrics(): MemoryMetrics {
    const devices: Record<string, DeviceMetrics> = {};
    const totals = { totalAllocated: 0, totalDeallocated: 0, allocationCount: 0, deallocationCount: 0, blockBytes: 0 };
    let reservedBytes = 0;
    for (const pool of this.devices.values()) {
      const device = this.deviceMetrics(pool);
      devices[pool.device] = device;
      totals.totalAllocated += device.totalAllocated;
      totals.totalDeallocated += device.totalDeallocated;
      totals.allocationCount += device.allocationCount;
      totals.deallocationCount += device.deallocationCount;
      totals.blockBytes += device.blockBytes;
      reservedBytes += device.reservedBytes;
    }
    return {
      ...totals,
      currentAllocated: this.totals.currentAllocated,
      peakAllocated: this.totals.peakAllocated,
      reservedBytes,
      reclaimedCount: this.tracker?.reclaimedCount ?? 0,
      reclaimedBytes: this.tracker?.reclaimedBytes ?? 0,
      devices,
    };
  }

  /** Fragmentation over every device (or one). See FragmentationMetrics for the definitions. */
  getFragmentation(device?: string): FragmentationMetrics {
    checkDeviceOption('HybridMemoryPool.getFragmentation', device);
    let freeBytes = 0;
    let largest = 0;
    let current = 0;
    let blockBytes = 0;
    for (const pool of this.devices.values()) {
      if (device !== undefined && pool.device !== device) continue;
      const slabFree = pool.small.freeSlabBytes();
      freeBytes += slabFree + pool.small.region.freeBytes() + pool.large.freeBytes();
      largest = Math.max(largest, pool.small.largestFreeSlot(), pool.small.region.largestFreeBlock(), pool.large.largestFreeBlock());
      current += pool.counters.currentAllocated;
      blockBytes += pool.counters.blockBytes;
    }
    return {
      fragmentationRatio: freeBytes === 0 ? 0 : 1 - largest / freeBytes,
      internalFragmentation: blockBytes === 0 ? 0 : 1 - current / blockBytes,
      freeBytes,
      largestFreeBlock: largest,
    };
  }

  /** Everything tracking knows; needs tracking level basic or higher. */
  getDetailedMetrics(): DetailedMetrics {
    const tracker = this.requireTracker('HybridMemoryPool.getDetailedMetrics', 1);
    const metrics = this.getMetrics();
    const fragmentation = this.getFragmentation();
    let pressureIndex = 0;
    for (const pool of this.devices.values()) pressureIndex = Math.max(pressureIndex, pool.pressureIndex);
    const patterns = analysePatterns(tracker, metrics, fragmentation, this.config);
    return {
      ...metrics,
      ...fragmentation,
      trackingLevel: this.config.tracking.level,
      pressureLevel: pressureLevels[pressureIndex]!,
      sizeHistogram: tracker.sizeHistogram(),
      lifetimeHistogram: tracker.lifetimes(),
      timeline: tracker.timeline(),
      liveAllocations: tracker.leakDetection ? tracker.liveRecordCount() : null,
      patterns,
      suggestions: patterns.suggestions,
    };
  }

  /** Pressure level of one device (or the highest over all). */
  getPressureLevel(device?: string): PressureLevel {
    checkDeviceOption('HybridMemoryPool.getPressureLevel', device);
    let index = 0;
    for (const pool of this.devices.values()) if (device === undefined || pool.device === device) index = Math.max(index, pool.pressureIndex);
    return pressureLevels[index]!;
  }

  /** Calls `callback` on every pressure level change; returns a function that unregisters it. */
  registerPressureCallback(callback: PressureCallback): () => void {
    if (typeof callback !== 'function') throw invalidArgument('HybridMemoryPool.registerPressureCallback', 'callback must be a function');
    if (!this.tracker || !this.config.tracking.enablePressureDetection) {
      throw new BitNetError(
        ErrorCode.UNSUPPORTED,
        'HybridMemoryPool.registerPressureCallback',
        'pressure detection needs tracking level basic or higher with trackingConfig.enablePressureDetection',
      );
    }
    this.pressureCallbacks.add(callback);
    return () => this.pressureCallbacks.delete(callback);
  }

  /** Calls `callback` with leaks found by the background scan and with handles the GC reclaimed. */
  registerLeakCallback(callback: LeakCallback): () => void {
    if (typeof callback !== 'function') throw invalidArgument('HybridMemoryPool.registerLeakCallback', 'callback must be a function');
    const tracker = this.requireLeakTracker('HybridMemoryPool.registerLeakCallback');
    tracker.leakCallbacks.add(callback);
    return () => tracker.leakCallbacks.delete(callback);
  }

  /** Live allocations older than `thresholdMs` (default trackingConfig.leakThresholdMs). */
  detectLeaks(thresholdMs?: number): LeakReport {
    const tracker = this.requireLeakTracker('HybridMemoryPool.detectLeaks');
    if (this.disposed) throw new DisposedError('HybridMemoryPool.detectLeaks', `memory pool #${this.id}`);
    const threshold = thresholdMs ?? this.config.tracking.leakThresholdMs;
    if (typeof threshold !== 'number') {
      throw invalidArgument('HybridMemoryPool.detectLeaks', `thresholdMs must be a number, got ${describe(threshold)}`);
    }
    if (!(threshold >= 0)) throw outOfRange('HybridMemoryPool.detectLeaks', `thresholdMs must be a number ≥ 0, got ${threshold}`);
    const leaks = tracker.scan(threshold);
    return {
      leaks,
      thresholdMs: threshold,
      liveAllocations: tracker.liveRecordCount(),
      reclaimed: { count: tracker.reclaimedCount, bytes: tracker.reclaimedBytes, recent: [...tracker.reclaimedRecent] },
    };
  }

  /** One cleanup run now (see CleanupManager.cleanup). */
  cleanup(options?: CleanupOptions): CleanupResult {
    return this.cleanupManager.cleanup(options);
  }

  /** Device ids this pool holds memory for. */
  listDevices(): string[] {
    return [...this.devices.keys()];
  }

  /**
   * Releases every arena. Live handles stop working (their views are
   * detached); later calls throw ERR_BITNET_DISPOSED. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cleanupManager.stop();
    if (this.leakTimer) clearInterval(this.leakTimer);
    this.leakTimer = null;
    this.tracker?.clearRecords();
    for (const pool of this.devices.values()) {
      pool.disposed = true;
      for (const ref of pool.views) {
        const buffer = ref.deref();
        if (buffer) pool.backend.detachBlockBuffer!(buffer);
      }
      pool.views.clear();
      pool.small.releaseAll();
      pool.large.releaseAll();
      // The blocks went with their arenas: metrics must not keep reporting them as live or free.
      pool.smallCounters.releaseLive();
      pool.largeCounters.releaseLive();
      pool.counters.releaseLive();
      pool.armPressure(0);
    }
    this.totals.currentAllocated = 0;
    this.pressureCallbacks.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal The device pools, for cleanup and diagnostics. */
  devicePools(): IterableIterator<DevicePool> {
    return this.devices.values();
  }

  /** A pool for a device not seen yet; addDevicePool records it once an allocation on it succeeded. */
  private createDevicePool(device: string): DevicePool {
    if (typeof device !== 'string') {
      throw invalidArgument('HybridMemoryPool.allocate', `device must be a device id string like "cpu", got ${describe(device)}`);
    }
    const backend = getMemoryBackend(device, 'HybridMemoryPool.allocate');
    const pool = new DevicePool(device, this.devices.size, backend, this.config);
    if (this.tracker && this.config.tracking.enablePressureDetection) pool.armPressure(0);
    return pool;
  }

  private addDevicePool(pool: DevicePool): void {
    if (this.tracker) this.tracker.deviceNames[pool.deviceIndex] = pool.device;
    this.devices.set(pool.device, pool);
    if (pool.device === 'cpu') this.cpu = pool;
  }

  private releaseBlock(pool: DevicePool, size: number, slab: Slab | null, slot: number, arena: Arena, offset: number, blockBytes: number): void {
    let counters: Counters;
    if (slab !== null) {
      pool.small.free(slab, slot);
      counters = pool.smallCounters;
    } else {
      pool.large.free(arena, offset, blockBytes);
      counters = pool.largeCounters;
    }
    counters.totalDeallocated += size;
    counters.currentAllocated -= size;
    counters.deallocationCount++;
    counters.blockBytes -= blockBytes;
    const device = pool.counters;
    device.totalDeallocated += size;
    device.currentAllocated -= size;
    device.deallocationCount++;
    device.blockBytes -= blockBytes;
    this.totals.currentAllocated -= size;
    if (device.currentAllocated < pool.pressureDown) this.updatePressure(pool);
  }

  private reclaim(record: AllocationRecord): void {
    if (this.disposed) return;
    if (record.bufferRef) record.devicePool.views.delete(record.bufferRef);
    this.releaseBlock(record.devicePool, record.size, record.slab, record.slot, record.arena, record.offset, record.blockBytes);
  }

  /** Zeroes a block not yet counted; if the device fails, the block (and a new device's arenas) go back first. */
  private zeroNew(handle: MemoryHandle, newDevice: boolean, slabsBefore: number, smallArenasBefore: number, largeArenasBefore: number): void {
    const pool = handle.devicePool;
    try {
      const backend = pool.backend;
      if (backend.fill) backend.fill(handle.arena.memory, handle.offset, handle.size, 0);
      else handle.asUint8Array().fill(0);
    } catch (error) {
      handle.state = DEALLOCATED;
      if (handle.blockBuffer !== null) detachViews(pool, handle.blockBuffer, handle.bufferRef);
      handle.blockBuffer = null;
      handle.bufferRef = null;
      if (handle.slab !== null) pool.small.free(handle.slab, handle.slot);
      else pool.large.free(handle.arena, handle.offset, handle.blockBytes);
      if (newDevice) {
        pool.small.releaseAll();
        pool.large.releaseAll();
      } else if (handle.slab === null) {
        // The arena this block grew is empty again: give it back too, so the pool is as it was.
        if (pool.large.arenas.length > largeArenasBefore && pool.large.arenas.at(-1) === handle.arena) pool.large.releaseArena(handle.arena);
      } else if (pool.small.slabsCreated > slabsBefore) {
        // Likewise the slab made for it, and the arena made for that slab.
        pool.small.dropSlab(handle.slab);
        const region = pool.small.region;
        if (region.arenas.length > smallArenasBefore && region.arenas.at(-1) === handle.arena) region.releaseArena(handle.arena);
      }
      if (isBitNetError(error)) throw error;
      throw new BitNetError(ErrorCode.UNAVAILABLE, 'HybridMemoryPool.allocateZeroed', `device "${handle.device}" could not zero a ${handle.size}-byte block: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        details: { device: handle.device, bytes: handle.size },
      });
    }
  }

  private updatePressure(pool: DevicePool): void {
    const previous = pool.pressureIndex;
    const ratio = pool.counters.currentAllocated / pool.memoryLimit;
    const index = pressureIndexOf(pool.counters.currentAllocated, pool.pressureBytes);
    pool.armPressure(index);
    if (index === previous) return;
    this.pressureQueue.push({
      pool,
      event: {
        device: pool.device,
        level: pressureLevels[index]!,
        previous: pressureLevels[previous]!,
        currentAllocated: pool.counters.currentAllocated,
        memoryLimit: pool.memoryLimit,
        ratio,
      },
    });
    // A callback that allocates or frees may cross another boundary: that event waits until this one has
    // reached every callback, so each sees the levels in the order they happened.
    if (this.deliveringPressure) return;
    this.deliveringPressure = true;
    try {
      for (let next = this.pressureQueue.shift(); next !== undefined; next = this.pressureQueue.shift()) {
        for (const callback of this.pressureCallbacks) {
          try {
            callback(next.event);
          } catch (error) {
            process.emitWarning(`pressure callback threw: ${error instanceof Error ? error.message : String(error)}`, {
              code: 'BITNET_MEMORY_CALLBACK',
            });
          }
        }
        this.cleanupManager.onPressure(next.pool, next.event.ratio);
      }
    } finally {
      this.deliveringPressure = false;
    }
  }

  private backgroundLeakScan(): void {
    if (this.disposed || !this.tracker) return;
    const leaks = this.tracker.scan(this.config.tracking.leakThresholdMs);
    this.tracker.notify('old', leaks);
  }

  private deviceMetrics(pool: DevicePool): DeviceMetrics {
    const smallRegion = pool.small.region;
    let slabs = 0;
    for (const sizeClass of pool.small.classes) if (sizeClass) slabs += sizeClass.slabs.length;
    return {
      device: pool.device,
      ...pool.counters.snapshot(),
      reservedBytes: pool.reservedBytes,
      memoryLimit: pool.memoryLimit,
      pressureLevel: pressureLevels[pool.pressureIndex]!,
      pools: {
        small: { ...pool.smallCounters.snapshot(), reservedBytes: smallRegion.reservedBytes, arenas: smallRegion.arenas.length, slabs },
        large: { ...pool.largeCounters.snapshot(), reservedBytes: pool.large.reservedBytes, arenas: pool.large.arenas.length },
      },
    };
  }

  private requireTracker(op: string, rank: number): Tracker {
    if (!this.tracker || this.tracker.rank < rank) {
      throw new BitNetError(ErrorCode.UNSUPPORTED, op, `needs tracking level ${['none', 'basic', 'standard', 'detailed'][rank]} or higher (this pool: ${this.config.tracking.level})`);
    }
    return this.tracker;
  }

  private requireLeakTracker(op: string): Tracker {
    const tracker = this.requireTracker(op, 2);
    if (!tracker.leakDetection) throw new BitNetError(ErrorCode.UNSUPPORTED, op, 'leak detection is off (trackingConfig.enableLeakDetection)');
    return tracker;
  }

  private zeroError(pool: DevicePool): Error {
    return new BitNetError(
      ErrorCode.UNSUPPORTED,
      'HybridMemoryPool.allocate',
      `blocks of device "${pool.device}" cannot be zeroed: its memory backend has no fill() and is not host-visible`,
    );
  }

  private sizeError(size: unknown): Error {
    if (typeof size !== 'number') return invalidArgument('HybridMemoryPool.allocate', `size must be a number, got ${describe(size)}`);
    return outOfRange('HybridMemoryPool.allocate', `size must be a positive safe integer, got ${size}`);
  }

  private alignmentError(alignment: unknown): Error {
    if (typeof alignment !== 'number') return invalidArgument('HybridMemoryPool.allocate', `alignment must be a number, got ${describe(alignment)}`);
    return outOfRange('HybridMemoryPool.allocate', `alignment must be a power of two from 1 to ${MAX_ALIGNMENT}, got ${alignment}`);
  }

  private limitError(pool: DevicePool, size: number): Error {
    return new BitNetRangeError(
      ErrorCode.OUT_OF_MEMORY,
      'HybridMemoryPool.allocate',
      `${size} bytes on "${pool.device}" would exceed the memory limit: ${pool.counters.currentAllocated} of ${pool.memoryLimit} bytes are live`,
      { details: { size, currentAllocated: pool.counters.currentAllocated, memoryLimit: pool.memoryLimit } },
    );
  }

  private largeLimitError(pool: DevicePool, size: number): Error {
    return new BitNetRangeError(
      ErrorCode.OUT_OF_MEMORY,
      'HybridMemoryPool.allocate',
      `${size} bytes is beyond what the large pool of "${pool.device}" can ever hold (${pool.large.limitName} = ${pool.large.maxBytes} bytes)`,
      { details: { size, maxBytes: pool.large.maxBytes } },
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** Optional device filters take a device id string; anything else is a caller bug, not "no such device". */
function checkDeviceOption(op: string, device: unknown): void {
  if (device !== undefined && typeof device !== 'string') {
    throw invalidArgument(op, `device must be a device id string like "cpu", got ${describe(device)}`);
  }
}

let defaultPool: HybridMemoryPool | null = null;

/**
 * The pool of this thread (module state is per isolate, so every worker gets
 * its own), created on first use with the default config.
 */
export function getDefaultPool(): HybridMemoryPool {
  if (defaultPool === null || defaultPool.isDisposed) {
    defaultPool = new HybridMemoryPool();
  }
  return defaultPool;
}
