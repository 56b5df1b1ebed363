import type { ResolvedPoolConfig } from './config.js';
import type { FragmentationMetrics, MemoryMetrics } from './pool.js';
import type { Tracker } from './tracking.js';

export interface SizePattern {
  /** Share of all allocations in this power-of-two size range. */
  minBytes: number;
  maxBytes: number;
  count: number;
  share: number;
}

export interface PatternAnalysis {
  size: {
    /** The most frequent size ranges, largest share first (at most 5). */
    dominant: SizePattern[];
    /** Share of allocations below the small-block threshold. */
    smallShare: number;
    internalFragmentation: number;
  };
  temporal: {
    /** Allocations per second over the timeline window (detailed level), else since tracking began. */
    allocationRate: number;
    /** Median block lifetime (ms) from the lifetime histogram; null before any deallocation. */
    medianLifetimeMs: number | null;
    /** Share of deallocated blocks that lived under 1 ms. */
    shortLivedShare: number;
    /** Coefficient of variation of gaps between allocations (detailed level): ≫ 1 means bursts. */
    burstiness: number | null;
    /** Change of live bytes per second over the timeline window (detailed level). */
    liveBytesTrendPerSecond: number | null;
  };
  device: Array<{ device: string; allocations: number; share: number; currentAllocated: number; peakAllocated: number }>;
  suggestions: string[];
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

const percent = (value: number): string => `${(value * 100).toFixed(0)}%`;

/** Size, temporal and device patterns from what the tracker saw, with concrete suggestions. */
export function analysePatterns(
  tracker: Tracker,
  metrics: MemoryMetrics,
  fragmentation: FragmentationMetrics,
  config: ResolvedPoolConfig,
): PatternAnalysis {
  const buckets = tracker.sizeHistogram();
  const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  const dominant = buckets
    .map((bucket) => ({ ...bucket, share: total === 0 ? 0 : bucket.count / total }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 5);
  const smallCount = buckets.filter((bucket) => bucket.maxBytes < config.smallBlockThreshold).reduce((sum, bucket) => sum + bucket.count, 0);

  const lifetimes = tracker.lifetimes();
  const freed = lifetimes.reduce((sum, bucket) => sum + bucket.count, 0);
  let medianLifetimeMs: number | null = null;
  let shortLived = 0;
  if (freed > 0) {
    let seen = 0;
    for (const bucket of lifetimes) {
      seen += bucket.count;
      if (medianLifetimeMs === null && seen >= freed / 2) medianLifetimeMs = bucket.maxMs;
      if (bucket.maxMs <= 1) shortLived += bucket.count;
    }
  }

  const events = tracker.timeline();
  let allocationRate = 0;
  let burstiness: number | null = null;
  let trend: number | null = null;
  const allocations = events.filter((event) => event.kind === 'allocate');
  if (allocations.length >= 2) {
    const span = allocations[allocations.length - 1]!.time - allocations[0]!.time;
    allocationRate = span > 0 ? ((allocations.length - 1) / span) * 1000 : 0;
    const gaps = allocations.slice(1).map((event, i) => event.time - allocations[i]!.time);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    const variance = gaps.reduce((sum, gap) => sum + (gap - mean) ** 2, 0) / gaps.length;
    burstiness = mean > 0 ? Math.sqrt(variance) / mean : 0;
  } else {
    const elapsed = performance.now() - tracker.startedAt;
    allocationRate = elapsed > 0 ? (metrics.allocationCount / elapsed) * 1000 : 0;
  }
  if (events.length >= 2) {
    let live = 0;
    for (const event of events) live += event.kind === 'allocate' ? event.size : -event.size;
    const span = events[events.length - 1]!.time - events[0]!.time;
    trend = span > 0 ? (live / span) * 1000 : null;
  }

  const device = Object.values(metrics.devices).map((d) => ({
    device: d.device,
    allocations: d.allocationCount,
    share: metrics.allocationCount === 0 ? 0 : d.allocationCount / metrics.allocationCount,
    currentAllocated: d.currentAllocated,
    peakAllocated: d.peakAllocated,
  }));

  const suggestions: string[] = [];
  const top = dominant[0];
  const shortLivedShare = freed === 0 ? 0 : shortLived / freed;
  if (top && top.share >= 0.5 && total >= 100 && shortLivedShare >= 0.5) {
    suggestions.push(
      `${percent(top.share)} of ${total} allocations are ${formatBytes(top.minBytes)}–${formatBytes(top.maxBytes + 1)} and ` +
        `${percent(shortLivedShare)} of blocks live under 1 ms: allocate one scratch block of that size and reuse it across iterations.`,
    );
  }
  if (fragmentation.internalFragmentation > 0.25 && metrics.blockBytes > 0) {
    suggestions.push(
      `${percent(fragmentation.internalFragmentation)} of live block bytes (${formatBytes(metrics.blockBytes - metrics.currentAllocated)}) are rounding waste: ` +
        'request sizes that are multiples of 64 KiB for large blocks, or group small objects into one allocation.',
    );
  }
  if (fragmentation.fragmentationRatio > 0.5 && fragmentation.freeBytes >= 4 * 1024 * 1024) {
    suggestions.push(
      `free memory is scattered (fragmentation ${fragmentation.fragmentationRatio.toFixed(2)}, largest free block ${formatBytes(fragmentation.largestFreeBlock)} ` +
        `of ${formatBytes(fragmentation.freeBytes)} free): run pool.cleanup() or enable automatic cleanup with compaction; allocate long-lived blocks before short-lived ones.`,
    );
  }
  if (trend !== null && trend > 0 && events.length >= 100) {
    const allocs = allocations.length;
    const frees = events.length - allocs;
    if (frees < allocs * 0.5) {
      suggestions.push(
        `live memory grew by ${formatBytes(trend)}/s over the last ${events.length} events with ${frees} frees for ${allocs} allocations: ` +
          'check for handles that are never deallocated (pool.detectLeaks()).',
      );
    }
  }
  if (burstiness !== null && burstiness > 3 && allocations.length >= 100) {
    suggestions.push(
      `allocations come in bursts (gap variation ${burstiness.toFixed(1)}× the mean): allocate each burst's buffers once up front and reuse them.`,
    );
  }
  for (const d of Object.values(metrics.devices)) {
    if (d.memoryLimit > 0 && d.peakAllocated / d.memoryLimit >= config.tracking.pressureThresholdRatio) {
      suggestions.push(
        `peak use on "${d.device}" reached ${percent(d.peakAllocated / d.memoryLimit)} of its ${formatBytes(d.memoryLimit)} limit: ` +
          'free blocks earlier, or raise memoryLimit if the machine has room.',
      );
    }
    if (d.device !== 'cpu' && d.allocationCount >= 100 && d.totalAllocated / d.allocationCount < 4096) {
      suggestions.push(
        `"${d.device}" served ${d.allocationCount} allocations averaging ${formatBytes(d.totalAllocated / d.allocationCount)}: ` +
          'device buffers this small cost more in bookkeeping than they hold; batch them into one buffer.',
      );
    }
  }
  return {
    size: { dominant, smallShare: total === 0 ? 0 : smallCount / total, internalFragmentation: fragmentation.internalFragmentation },
    temporal: {
      allocationRate,
      medianLifetimeMs,
      shortLivedShare,
      burstiness,
      liveBytesTrendPerSecond: trend,
    },
    device,
    suggestions,
  };
}
