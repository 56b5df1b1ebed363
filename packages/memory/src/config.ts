import { invalidArgument, outOfRange } from '@bitnet/errors';
import { isPowerOfTwo } from './buddy-allocator.js';

/** How much the pool records about each allocation (each level includes the ones before). */
export const TrackingLevel = {
  /** Counters only: getMetrics(). */
  None: 'none',
  /** + pressure levels and callbacks, size histogram. */
  Basic: 'basic',
  /** + a record of every live allocation (age, size, device): detectLeaks(), GC reclaim of forgotten handles. */
  Standard: 'standard',
  /** + allocation timeline, allocation stacks (sampled, see stackSampleInterval), pattern analysis. */
  Detailed: 'detailed',
} as const;
export type TrackingLevel = (typeof TrackingLevel)[keyof typeof TrackingLevel];
const trackingLevels: readonly string[] = Object.values(TrackingLevel);
export const trackingRank: Record<TrackingLevel, number> = { none: 0, basic: 1, standard: 2, detailed: 3 };

export interface TrackingConfig {
  /** Default `standard`. */
  level?: TrackingLevel;
  /** Compute pressure levels and call pressure callbacks (level ≥ basic). Default true. */
  enablePressureDetection?: boolean;
  /** Record live allocations, reclaim handles the GC collects, scan for old ones (level ≥ standard). Default true. */
  enableLeakDetection?: boolean;
  /** Use / limit ratio at which pressure becomes High; the other levels scale from it (see README). Default 0.8. */
  pressureThresholdRatio?: number;
  /** Period of the background leak scan in ms (at most 2^31 − 1); 0 turns the scan off (detectLeaks() still works). Default 60 000. */
  leakDetectionIntervalMs?: number;
  /** A live allocation older than this (ms) is reported as a possible leak. Default 60 000. */
  leakThresholdMs?: number;
  /**
   * Detailed level: one allocation in this many (on average, at random) gets
   * its stack captured; 1 = every allocation. A stack capture costs a few
   * microseconds, far more than the allocation. Default 256.
   */
  stackSampleInterval?: number;
  /** Detailed level: events kept in the allocation timeline ring. Default 4096. */
  timelineCapacity?: number;
}

export interface CleanupConfig {
  /** Run an idle cleanup when the pool saw no allocate/deallocate for this long (ms, at most 2^31 − 1); 0 = never. Default 30 000. */
  idleCleanupIntervalMs?: number;
  /** Run a pressure cleanup when use / limit reaches this ratio. Default 0.9. */
  pressureCleanupThreshold?: number;
  /** Run a cleanup on this period (ms, at most 2^31 − 1) whatever the activity; 0 = never. Default 0. */
  periodicCleanupIntervalMs?: number;
  /** Give empty slabs back to their buddy allocator and empty arenas back to the device. Default true. */
  enableCompaction?: boolean;
  /** Time budget of one cleanup run (ms). Default 5. */
  maxCleanupTimeMs?: number;
  /** Arenas an idle or periodic cleanup keeps per region as warm capacity (pressure cleanups keep none). Default 1. */
  keepArenasPerRegion?: number;
}

export interface MemoryPoolConfig {
  /** Requests below this many bytes come from size-class slabs, others from the buddy allocator. Default 1 MiB. */
  smallBlockThreshold?: number;
  /** Bytes of each small-pool arena (rounded up to a power of two). Default 16 MiB. */
  initialSmallPoolSize?: number;
  /** Most bytes the small pool of one device reserves. Default 1 GiB. */
  maxSmallPoolSize?: number;
  /** Bytes of each large-pool arena (rounded up to a power of two; larger requests get their own). Default 64 MiB. */
  initialLargePoolSize?: number;
  /** Most bytes the large pool of one device reserves (address space; tail trimming commits only what blocks use). Default 2 × memoryLimit. */
  maxLargePoolSize?: number;
  /** Most bytes live at once per device; pressure is measured against it. Default: the device's capacity (RAM or cgroup limit for cpu). */
  memoryLimit?: number;
  /** Zero every block on allocate. Default false (like Buffer.allocUnsafe: a reused block holds old data). */
  zeroOnAllocate?: boolean;
  /** Turn tracking on; defaults to true when trackingConfig is given. */
  enableAdvancedTracking?: boolean;
  trackingConfig?: TrackingConfig;
  /** Start the CleanupManager's timers. Default false. */
  enableAutomaticCleanup?: boolean;
  cleanupConfig?: CleanupConfig;
}

export interface ResolvedTrackingConfig {
  level: TrackingLevel;
  enablePressureDetection: boolean;
  enableLeakDetection: boolean;
  pressureThresholdRatio: number;
  leakDetectionIntervalMs: number;
  leakThresholdMs: number;
  stackSampleInterval: number;
  timelineCapacity: number;
}

export interface ResolvedCleanupConfig {
  idleCleanupIntervalMs: number;
  pressureCleanupThreshold: number;
  periodicCleanupIntervalMs: number;
  enableCompaction: boolean;
  maxCleanupTimeMs: number;
  keepArenasPerRegion: number;
}

export interface ResolvedPoolConfig {
  smallBlockThreshold: number;
  initialSmallPoolSize: number;
  maxSmallPoolSize: number;
  initialLargePoolSize: number;
  /** null = the device's memory limit. */
  maxLargePoolSize: number | null;
  /** null = the device's capacity. */
  memoryLimit: number | null;
  zeroOnAllocate: boolean;
  enableAdvancedTracking: boolean;
  tracking: ResolvedTrackingConfig;
  enableAutomaticCleanup: boolean;
  cleanup: ResolvedCleanupConfig;
}

const MiB = 1024 * 1024;
const op = 'HybridMemoryPool';

/**
 * Longest interval setInterval/setTimeout honour (2^31 − 1 ms, about 24.8 days):
 * Node.js turns a longer one into 1 ms, so a "once a month" timer would fire every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveInteger(name: string, value: unknown, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER, why = ''): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgument(op, `config.${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) throw outOfRange(op, `config.${name} must be in [${min}, ${max}]${why}, got ${value}`);
  return value;
}

/** A timer period in ms: 0 (off) up to MAX_TIMER_MS. */
function timerInterval(name: string, value: unknown, fallback: number): number {
  return positiveInteger(name, value, fallback, 0, MAX_TIMER_MS, ' (the longest timer Node.js runs, about 24.8 days)');
}

function ratio(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw outOfRange(op, `config.${name} must be a number in (0, 1], got ${String(value)}`);
  }
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(op, `config.${name} must be a boolean, got ${String(value)}`);
  return value;
}

function objectOrEmpty<T>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object') throw invalidArgument(op, `config.${name} must be an object`);
  return value;
}

export function resolveConfig(config: MemoryPoolConfig = {}): ResolvedPoolConfig {
  config = objectOrEmpty('', config);
  const trackingInput = objectOrEmpty('trackingConfig', config.trackingConfig);
  const cleanupInput = objectOrEmpty('cleanupConfig', config.cleanupConfig);
  const enableAdvancedTracking = flag('enableAdvancedTracking', config.enableAdvancedTracking, config.trackingConfig !== undefined);
  const level = trackingInput.level ?? TrackingLevel.Standard;
  if (!trackingLevels.includes(level)) {
    throw invalidArgument(op, `config.trackingConfig.level must be one of ${trackingLevels.join(', ')}, got ${String(level)}`);
  }
  const smallBlockThreshold = positiveInteger('smallBlockThreshold', config.smallBlockThreshold, MiB, 4096, 64 * MiB);
  const initialSmallPoolSize = positiveInteger('initialSmallPoolSize', config.initialSmallPoolSize, 16 * MiB, 65536, 2 ** 40);
  const maxSmallPoolSize = positiveInteger('maxSmallPoolSize', config.maxSmallPoolSize, 1024 * MiB, 65536);
  const initialLargePoolSize = positiveInteger('initialLargePoolSize', config.initialLargePoolSize, 64 * MiB, 65536, 2 ** 40);
  const maxLargePoolSize = config.maxLargePoolSize === undefined ? null : positiveInteger('maxLargePoolSize', config.maxLargePoolSize, 0, 65536);
  const memoryLimit = config.memoryLimit === undefined ? null : positiveInteger('memoryLimit', config.memoryLimit, 0, 1);
  const leakDetectionIntervalMs = timerInterval('trackingConfig.leakDetectionIntervalMs', trackingInput.leakDetectionIntervalMs, 60_000);
  const tracking: ResolvedTrackingConfig = {
    level: enableAdvancedTracking ? level : TrackingLevel.None,
    enablePressureDetection: flag('trackingConfig.enablePressureDetection', trackingInput.enablePressureDetection, true),
    enableLeakDetection: flag('trackingConfig.enableLeakDetection', trackingInput.enableLeakDetection, true),
    pressureThresholdRatio: ratio('trackingConfig.pressureThresholdRatio', trackingInput.pressureThresholdRatio, 0.8),
    leakDetectionIntervalMs,
    leakThresholdMs: positiveInteger('trackingConfig.leakThresholdMs', trackingInput.leakThresholdMs, 60_000, 0),
    stackSampleInterval: positiveInteger('trackingConfig.stackSampleInterval', trackingInput.stackSampleInterval, 256),
    timelineCapacity: positiveInteger('trackingConfig.timelineCapacity', trackingInput.timelineCapacity, 4096, 16, 1 << 24),
  };
  const cleanup: ResolvedCleanupConfig = {
    idleCleanupIntervalMs: timerInterval('cleanupConfig.idleCleanupIntervalMs', cleanupInput.idleCleanupIntervalMs, 30_000),
    pressureCleanupThreshold: ratio('cleanupConfig.pressureCleanupThreshold', cleanupInput.pressureCleanupThreshold, 0.9),
    periodicCleanupIntervalMs: timerInterval('cleanupConfig.periodicCleanupIntervalMs', cleanupInput.periodicCleanupIntervalMs, 0),
    enableCompaction: flag('cleanupConfig.enableCompaction', cleanupInput.enableCompaction, true),
    maxCleanupTimeMs: positiveInteger('cleanupConfig.maxCleanupTimeMs', cleanupInput.maxCleanupTimeMs, 5, 1),
    keepArenasPerRegion: positiveInteger('cleanupConfig.keepArenasPerRegion', cleanupInput.keepArenasPerRegion, 1, 0, 1024),
  };
  return {
    smallBlockThreshold,
    initialSmallPoolSize: roundUpPowerOfTwo(initialSmallPoolSize),
    maxSmallPoolSize,
    initialLargePoolSize: roundUpPowerOfTwo(initialLargePoolSize),
    maxLargePoolSize,
    memoryLimit,
    zeroOnAllocate: flag('zeroOnAllocate', config.zeroOnAllocate, false),
    enableAdvancedTracking,
    tracking,
    enableAutomaticCleanup: flag('enableAutomaticCleanup', config.enableAutomaticCleanup, false),
    cleanup,
  };
}

function roundUpPowerOfTwo(value: number): number {
  return isPowerOfTwo(value) ? value : 2 ** Math.ceil(Math.log2(value));
}
