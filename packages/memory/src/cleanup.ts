import { formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import type { ResolvedCleanupConfig } from './config.js';
import type { DevicePool } from './device-pool.js';

export type CleanupStrategy = 'manual' | 'idle' | 'pressure' | 'periodic';

export interface CleanupOptions {
  /** Only this device's memory. */
  device?: string;
  /** Recorded in the result and metrics; `pressure` keeps no spare arena. Default `manual`. */
  strategy?: CleanupStrategy;
  /** Empty arenas to keep per region as warm capacity. Default cleanupConfig.keepArenasPerRegion (0 for pressure). */
  keepArenas?: number;
  /** Time budget (ms). Default cleanupConfig.maxCleanupTimeMs. */
  maxTimeMs?: number;
}

export interface CleanupResult {
  strategy: CleanupStrategy;
  devices: string[];
  /** Arena bytes given back to the devices. */
  bytesFreed: number;
  arenasReleased: number;
  /** Bytes of empty slabs returned to (and merged into) their buddy allocators. */
  slabBytesCompacted: number;
  durationMs: number;
  /** True when the time budget ran out before every step ran. */
  timedOut: boolean;
  /** bytesFreed / (reserved − live block bytes) before the run: the share of idle reserved memory given back. */
  efficiency: number;
}

export interface CleanupMetrics {
  runs: number;
  runsByStrategy: Record<CleanupStrategy, number>;
  totalBytesFreed: number;
  totalArenasReleased: number;
  totalDurationMs: number;
  averageEfficiency: number;
  timedOutRuns: number;
  lastRun: CleanupResult | null;
}

/** The pool side the manager needs (kept narrow to avoid an import cycle). */
interface CleanablePool {
  readonly isDisposed: boolean;
  devicePools(): IterableIterator<DevicePool>;
}

/**
 * Gives idle memory back: empty slabs to their buddy allocators (which merge
 * them with their buddies) and empty arenas to the device. Never moves or
 * touches a live block. Strategies: idle (no allocate/deallocate for
 * idleCleanupIntervalMs), pressure (use/limit reached pressureCleanupThreshold),
 * periodic, and manual calls. Timers are unref'd.
 */
export class CleanupManager {
  private idleTimer: NodeJS.Timeout | null = null;
  private periodicTimer: NodeJS.Timeout | null = null;
  private pressureScheduled = false;
  private lastActivityCount = -1;
  private idleCleaned = false;
  private readonly metrics: CleanupMetrics = {
    runs: 0,
    runsByStrategy: { manual: 0, idle: 0, pressure: 0, periodic: 0 },
    totalBytesFreed: 0,
    totalArenasReleased: 0,
    totalDurationMs: 0,
    averageEfficiency: 0,
    timedOutRuns: 0,
    lastRun: null,
  };
  private efficiencySum = 0;

  constructor(
    private readonly pool: CleanablePool,
    readonly config: ResolvedCleanupConfig,
  ) {}

  get running(): boolean {
    return this.idleTimer !== null || this.periodicTimer !== null;
  }

  /** Starts the idle and periodic timers (those configured with a non-zero interval). */
  start(): void {
    if (this.running || this.pool.isDisposed) return;
    if (this.config.idleCleanupIntervalMs > 0) {
      this.idleTimer = setInterval(() => this.idleTick(), this.config.idleCleanupIntervalMs);
      this.idleTimer.unref();
    }
    if (this.config.periodicCleanupIntervalMs > 0) {
      this.periodicTimer = setInterval(() => this.automatic('periodic'), this.config.periodicCleanupIntervalMs);
      this.periodicTimer.unref();
    }
  }

  stop(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.periodicTimer) clearInterval(this.periodicTimer);
    this.idleTimer = null;
    this.periodicTimer = null;
  }

  /** @internal Called by the pool when a device's pressure level changes. */
  onPressure(pool: DevicePool, ratio: number): void {
    if (!this.running || this.pressureScheduled || ratio < this.config.pressureCleanupThreshold) return;
    this.pressureScheduled = true;
    // Never inside allocate(): the run waits for the current task to finish.
    setImmediate(() => {
      this.pressureScheduled = false;
      this.automatic('pressure', pool.device);
    }).unref();
  }

  cleanup(options: CleanupOptions = {}): CleanupResult {
    if (options === null || typeof options !== 'object') throw invalidArgument('CleanupManager.cleanup', 'options must be an object');
    if (options.device !== undefined && typeof options.device !== 'string') {
      throw invalidArgument('CleanupManager.cleanup', `device must be a device id string like "cpu", got ${formatValue(options.device)}`);
    }
    const strategy = options.strategy ?? 'manual';
    if (!['manual', 'idle', 'pressure', 'periodic'].includes(strategy)) {
      throw invalidArgument('CleanupManager.cleanup', `unknown strategy ${JSON.stringify(strategy)}`);
    }
    const keep = options.keepArenas ?? (strategy === 'pressure' ? 0 : this.config.keepArenasPerRegion);
    if (!Number.isInteger(keep) || keep < 0) throw outOfRange('CleanupManager.cleanup', `keepArenas must be an integer ≥ 0, got ${keep}`);
    const budget = options.maxTimeMs ?? this.config.maxCleanupTimeMs;
    if (typeof budget !== 'number' || !(budget > 0)) throw outOfRange('CleanupManager.cleanup', `maxTimeMs must be > 0, got ${String(budget)}`);
    const start = performance.now();
    const deadline = start + budget;
    const result: CleanupResult = {
      strategy,
      devices: [],
      bytesFreed: 0,
      arenasReleased: 0,
      slabBytesCompacted: 0,
      durationMs: 0,
      timedOut: false,
      efficiency: 1,
    };
    if (this.pool.isDisposed) return result;
    let idleBefore = 0;
    for (const device of this.pool.devicePools()) {
      if (options.device !== undefined && device.device !== options.device) continue;
      result.devices.push(device.device);
      idleBefore += device.reservedBytes - device.counters.blockBytes;
      if (performance.now() > deadline) {
        result.timedOut = true;
        break;
      }
      if (this.config.enableCompaction) result.slabBytesCompacted += device.small.releaseEmptySlabs(deadline);
      const arenasBefore = device.small.region.arenas.length + device.large.arenas.length;
      result.bytesFreed += device.small.region.releaseEmptyArenas(keep, deadline);
      result.bytesFreed += device.large.releaseEmptyArenas(keep, deadline);
      result.arenasReleased += arenasBefore - device.small.region.arenas.length - device.large.arenas.length;
      // Views whose buffers the GC already collected.
      for (const ref of device.views) if (ref.deref() === undefined) device.views.delete(ref);
      if (device.backend.trim) result.bytesFreed += device.backend.trim();
      if (performance.now() > deadline) result.timedOut = true;
    }
    result.durationMs = performance.now() - start;
    result.efficiency = idleBefore <= 0 ? 1 : Math.min(1, result.bytesFreed / idleBefore);
    const metrics = this.metrics;
    metrics.runs++;
    metrics.runsByStrategy[strategy]++;
    metrics.totalBytesFreed += result.bytesFreed;
    metrics.totalArenasReleased += result.arenasReleased;
    metrics.totalDurationMs += result.durationMs;
    if (result.timedOut) metrics.timedOutRuns++;
    this.efficiencySum += result.efficiency;
    metrics.averageEfficiency = this.efficiencySum / metrics.runs;
    metrics.lastRun = result;
    return result;
  }

  getMetrics(): CleanupMetrics {
    return { ...this.metrics, runsByStrategy: { ...this.metrics.runsByStrategy } };
  }

  private idleTick(): void {
    let activity = 0;
    for (const device of this.pool.devicePools()) activity += device.counters.allocationCount + device.counters.deallocationCount;
    const idle = activity === this.lastActivityCount;
    this.lastActivityCount = activity;
    // One run per idle stretch: nothing new can become free until something happens.
    if (idle && !this.idleCleaned) {
      this.idleCleaned = true;
      this.automatic('idle');
    } else if (!idle) {
      this.idleCleaned = false;
    }
  }

  private automatic(strategy: CleanupStrategy, device?: string): void {
    if (this.pool.isDisposed) return;
    try {
      this.cleanup(device === undefined ? { strategy } : { strategy, device });
    } catch (error) {
      process.emitWarning(`automatic ${strategy} cleanup failed: ${error instanceof Error ? error.message : String(error)}`, {
        code: 'BITNET_MEMORY_CLEANUP',
      });
    }
  }
}
