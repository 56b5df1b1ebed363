import type { ResolvedTrackingConfig } from './config.js';
import { trackingRank } from './config.js';
import type { DevicePool } from './device-pool.js';
import type { MemoryHandle } from './handle.js';
import type { Arena } from './region.js';
import type { Slab } from './slab-pool.js';

/** What the pool remembers of a long-lived allocation (it must not reference the handle: the GC reclaims through it). */
export class AllocationRecord {
  live = true;
  bufferRef: WeakRef<ArrayBuffer> | null;
  readonly id: number;
  readonly size: number;
  readonly alignment: number;
  readonly device: string;
  readonly time: number;
  readonly stack: { stack?: string } | null;
  readonly devicePool: DevicePool;
  readonly slab: Slab | null;
  readonly slot: number;
  readonly arena: Arena;
  readonly offset: number;
  readonly blockBytes: number;

  constructor(handle: MemoryHandle) {
    this.id = handle.id;
    this.size = handle.size;
    this.alignment = handle.alignment;
    this.device = handle.device;
    this.time = handle.time;
    this.stack = handle.stack;
    this.devicePool = handle.devicePool;
    this.slab = handle.slab;
    this.slot = handle.slot;
    this.arena = handle.arena;
    this.offset = handle.offset;
    this.blockBytes = handle.blockBytes;
    this.bufferRef = handle.bufferRef;
  }
}

export interface LeakRecord {
  id: number;
  size: number;
  alignment: number;
  device: string;
  /** Age when reported (ms). */
  ageMs: number;
  /** Wall-clock time of the allocation (ms since the epoch). */
  allocatedAt: number;
  /** Allocation stack, at the detailed level when this allocation was sampled. */
  stack?: string;
}

export interface LeakReport {
  /** Live allocations older than the threshold, oldest first. */
  leaks: LeakRecord[];
  thresholdMs: number;
  liveAllocations: number;
  /** Handles the GC collected without deallocate(); their blocks went back to the pool. */
  reclaimed: { count: number; bytes: number; recent: LeakRecord[] };
}

export type LeakCallback = (report: { kind: 'old' | 'reclaimed'; leaks: LeakRecord[] }) => void;

export interface TimelineEvent {
  /** performance.now() time (ms). */
  time: number;
  kind: 'allocate' | 'deallocate' | 'reclaim';
  size: number;
  device: string;
  pool: 'small' | 'large';
  /** Deallocations: how long the block lived (ms). */
  lifetimeMs?: number;
}

export interface SizeBucket {
  /** Sizes in [minBytes, maxBytes]. */
  minBytes: number;
  maxBytes: number;
  count: number;
}

const YOUNG_FLUSH = 256;
const RECLAIMED_KEPT = 64;
export const HISTOGRAM_BUCKETS = 53;
const LIFETIME_BUCKETS = 40;
const EVENT_ALLOCATE = 1;
const EVENT_DEALLOCATE = 2;
const EVENT_RECLAIM = 3;

/**
 * Per-allocation bookkeeping above the None level. Cheap by design:
 * - a shared clock read at most once per 64 events or per microtask turn;
 * - new handles sit in a `young` array and get a FinalizationRegistry entry
 *   (~100+ ns each) only when they outlive 256 later allocations or a leak
 *   scan, so allocate/free pairs never pay for it;
 * - stacks are captured for sampled allocations only (stackSampleInterval).
 */
export class Tracker {
  readonly rank: number;
  readonly leakDetection: boolean;
  readonly histogram = new Float64Array(HISTOGRAM_BUCKETS);
  readonly lifetimeHistogram = new Float64Array(LIFETIME_BUCKETS);
  readonly young: MemoryHandle[] = [];
  readonly records = new Set<AllocationRecord>();
  readonly reclaimedRecent: LeakRecord[] = [];
  reclaimedCount = 0;
  reclaimedBytes = 0;
  readonly leakCallbacks = new Set<LeakCallback>();
  private readonly registry: FinalizationRegistry<AllocationRecord> | null;
  private cachedNow = 0;
  private clockBudget = 0;
  private clockFresh = false;
  private readonly invalidateClock = (): void => {
    this.clockFresh = false;
  };
  private untilSample: number;
  readonly stackSampleInterval: number;
  // Timeline ring (detailed level).
  readonly timelineCapacity: number;
  private timelineNext = 0;
  timelineCount = 0;
  private readonly eventTime: Float64Array;
  private readonly eventSize: Float64Array;
  private readonly eventLifetime: Float64Array;
  private readonly eventKind: Uint8Array;
  private readonly eventDevice: Uint16Array;
  private readonly eventLarge: Uint8Array;
  readonly deviceNames: string[] = [];
  readonly startedAt = performance.now();

  constructor(
    readonly config: ResolvedTrackingConfig,
    private readonly reclaim: (record: AllocationRecord) => void,
  ) {
    this.rank = trackingRank[config.level];
    this.leakDetection = this.rank >= 2 && config.enableLeakDetection;
    this.registry = this.leakDetection ? new FinalizationRegistry((record) => this.collected(record)) : null;
    this.stackSampleInterval = config.stackSampleInterval;
    this.untilSample = this.nextSampleDistance();
    this.timelineCapacity = this.rank >= 3 ? config.timelineCapacity : 0;
    const capacity = this.timelineCapacity;
    this.eventTime = new Float64Array(capacity);
    this.eventSize = new Float64Array(capacity);
    this.eventLifetime = new Float64Array(capacity);
    this.eventKind = new Uint8Array(capacity);
    this.eventDevice = new Uint16Array(capacity);
    this.eventLarge = new Uint8Array(capacity);
  }

  /** performance.now(), re-read every 64 calls and after every microtask turn. */
  now(): number {
    if (--this.clockBudget < 0 || !this.clockFresh) {
      this.cachedNow = performance.now();
      this.clockBudget = 63;
      if (!this.clockFresh) {
        this.clockFresh = true;
        queueMicrotask(this.invalidateClock);
      }
    }
    return this.cachedNow;
  }

  onAllocate(handle: MemoryHandle, large: boolean, allocate: (...args: never[]) => unknown): void {
    const size = handle.size;
    this.histogram[size < 0x80000000 ? 31 - Math.clz32(size) : Math.floor(Math.log2(size))]!++;
    if (this.rank < 2) return;
    handle.time = this.now();
    if (this.rank >= 3) {
      this.event(EVENT_ALLOCATE, handle.time, size, handle.devicePool.deviceIndex, large, 0);
      if (--this.untilSample <= 0) {
        const holder: { stack?: string } = {};
        Error.captureStackTrace(holder, allocate);
        handle.stack = holder;
        this.untilSample = this.nextSampleDistance();
      }
    }
    if (this.leakDetection) {
      handle.youngIndex = this.young.length;
      this.young.push(handle);
      if (this.young.length >= YOUNG_FLUSH) this.flushYoung();
    }
  }

  onDeallocate(handle: MemoryHandle, large: boolean): void {
    if (this.rank < 2) return;
    const now = this.now();
    const lifetime = now - handle.time;
    this.lifetimeHistogram[lifetimeBucket(lifetime)]!++;
    if (this.rank >= 3) this.event(EVENT_DEALLOCATE, now, handle.size, handle.devicePool.deviceIndex, large, lifetime);
    if (!this.leakDetection) return;
    const record = handle.record;
    if (record !== null) {
      record.live = false;
      this.records.delete(record);
      handle.record = null;
    } else if (handle.youngIndex !== -1) {
      const young = this.young;
      const last = young.pop()!;
      if (last !== handle) {
        young[handle.youngIndex] = last;
        last.youngIndex = handle.youngIndex;
      }
      handle.youngIndex = -1;
    }
  }

  /** Gives every young live handle a record and a finalization entry. */
  flushYoung(): void {
    const registry = this.registry;
    if (!registry) return;
    for (const handle of this.young) {
      const record = new AllocationRecord(handle);
      handle.record = record;
      handle.youngIndex = -1;
      this.records.add(record);
      registry.register(handle, record);
    }
    this.young.length = 0;
  }

  /** Live allocations older than `thresholdMs`, oldest first. */
  scan(thresholdMs: number): LeakRecord[] {
    this.flushYoung();
    const now = performance.now();
    const leaks: LeakRecord[] = [];
    for (const record of this.records) {
      if (now - record.time >= thresholdMs) leaks.push(this.leakRecord(record, now));
    }
    return leaks.sort((a, b) => b.ageMs - a.ageMs);
  }

  liveRecordCount(): number {
    return this.records.size + this.young.length;
  }

  /** Every live allocation record (flushes young handles first); used by dispose. */
  liveRecords(): Iterable<AllocationRecord> {
    this.flushYoung();
    return this.records;
  }

  clearRecords(): void {
    for (const record of this.records) record.live = false;
    this.records.clear();
    this.young.length = 0;
  }

  private collected(record: AllocationRecord): void {
    if (!record.live) return;
    record.live = false;
    this.records.delete(record);
    if (record.devicePool.disposed) return;
    const leak = this.leakRecord(record, performance.now());
    this.reclaimedCount++;
    this.reclaimedBytes += record.size;
    this.reclaimedRecent.push(leak);
    if (this.reclaimedRecent.length > RECLAIMED_KEPT) this.reclaimedRecent.shift();
    this.reclaim(record);
    if (this.rank >= 3) this.event(EVENT_RECLAIM, performance.now(), record.size, record.devicePool.deviceIndex, record.slab === null, 0);
    this.notify('reclaimed', [leak]);
  }

  notify(kind: 'old' | 'reclaimed', leaks: LeakRecord[]): void {
    if (leaks.length === 0) return;
    for (const callback of this.leakCallbacks) {
      try {
        callback({ kind, leaks });
      } catch (error) {
        process.emitWarning(`leak callback threw: ${error instanceof Error ? error.message : String(error)}`, {
          code: 'BITNET_MEMORY_CALLBACK',
        });
      }
    }
    if (this.leakCallbacks.size === 0 && kind === 'reclaimed' && this.reclaimedCount === 1) {
      process.emitWarning(
        `a memory handle (${leaks[0]!.size} bytes on ${leaks[0]!.device}) was garbage-collected without deallocate(); ` +
          'its block went back to the pool. Register a leak callback to see every one.',
        { code: 'BITNET_MEMORY_LEAK' },
      );
    }
  }

  private leakRecord(record: AllocationRecord, now: number): LeakRecord {
    const leak: LeakRecord = {
      id: record.id,
      size: record.size,
      alignment: record.alignment,
      device: record.device,
      ageMs: now - record.time,
      allocatedAt: performance.timeOrigin + record.time,
    };
    if (record.stack?.stack) leak.stack = record.stack.stack;
    return leak;
  }

  private event(kind: number, time: number, size: number, device: number, large: boolean, lifetime: number): void {
    const index = this.timelineNext;
    this.eventKind[index] = kind;
    this.eventTime[index] = time;
    this.eventSize[index] = size;
    this.eventDevice[index] = device;
    this.eventLarge[index] = large ? 1 : 0;
    this.eventLifetime[index] = lifetime;
    this.timelineNext = index + 1 === this.timelineCapacity ? 0 : index + 1;
    if (this.timelineCount < this.timelineCapacity) this.timelineCount++;
  }

  /** Timeline events, oldest first. */
  timeline(): TimelineEvent[] {
    const events: TimelineEvent[] = [];
    const count = this.timelineCount;
    const start = (this.timelineNext - count + this.timelineCapacity) % Math.max(1, this.timelineCapacity);
    for (let i = 0; i < count; i++) {
      const index = (start + i) % this.timelineCapacity;
      const kind = this.eventKind[index] === EVENT_ALLOCATE ? 'allocate' : this.eventKind[index] === EVENT_DEALLOCATE ? 'deallocate' : 'reclaim';
      const event: TimelineEvent = {
        time: this.eventTime[index]!,
        kind,
        size: this.eventSize[index]!,
        device: this.deviceNames[this.eventDevice[index]!] ?? '?',
        pool: this.eventLarge[index] ? 'large' : 'small',
      };
      if (kind === 'deallocate') event.lifetimeMs = this.eventLifetime[index]!;
      events.push(event);
    }
    return events;
  }

  sizeHistogram(): SizeBucket[] {
    const buckets: SizeBucket[] = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      if (this.histogram[i]! > 0) buckets.push({ minBytes: 2 ** i, maxBytes: 2 ** (i + 1) - 1, count: this.histogram[i]! });
    }
    return buckets;
  }

  /** Lifetime buckets: [2^(i-20), 2^(i-19)) ms; bucket 0 also holds shorter ones. */
  lifetimes(): Array<{ minMs: number; maxMs: number; count: number }> {
    const out: Array<{ minMs: number; maxMs: number; count: number }> = [];
    for (let i = 0; i < LIFETIME_BUCKETS; i++) {
      if (this.lifetimeHistogram[i]! > 0) out.push({ minMs: i === 0 ? 0 : 2 ** (i - 20), maxMs: 2 ** (i - 19), count: this.lifetimeHistogram[i]! });
    }
    return out;
  }

  private nextSampleDistance(): number {
    if (this.stackSampleInterval <= 1) return 1;
    // Geometric gaps (mean stackSampleInterval) so a periodic pattern cannot hide a call site.
    return Math.max(1, Math.ceil(-Math.log(1 - Math.random()) * this.stackSampleInterval));
  }
}

function lifetimeBucket(ms: number): number {
  if (!(ms > 0)) return 0;
  const bucket = Math.floor(Math.log2(ms)) + 20;
  return bucket < 0 ? 0 : bucket >= LIFETIME_BUCKETS ? LIFETIME_BUCKETS - 1 : bucket;
}
