import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { getNative } from '@bitnet/native';
import { afterEach, describe, expect, it } from 'vitest';
import { HybridMemoryPool, type MemoryHandle } from './index.js';

const pools: HybridMemoryPool[] = [];
function pool(config?: ConstructorParameters<typeof HybridMemoryPool>[0]): HybridMemoryPool {
  const created = new HybridMemoryPool(config);
  pools.push(created);
  return created;
}
afterEach(() => {
  for (const created of pools.splice(0)) created.dispose();
});

describe('CleanupManager', () => {
  it('gives empty slabs and arenas back under live allocations without touching live blocks', () => {
    const p = pool({ initialSmallPoolSize: 1 << 20, initialLargePoolSize: 4 << 20 });
    const live: MemoryHandle[] = [];
    const garbage: MemoryHandle[] = [];
    for (let i = 0; i < 400; i++) {
      const handle = p.allocate(500 + (i % 7) * 900);
      handle.asUint8Array().fill(i & 0xff);
      (i % 10 === 0 ? live : garbage).push(handle);
    }
    for (let i = 0; i < 6; i++) {
      const big = p.allocate(3 << 20);
      big.asUint8Array().fill(0xee);
      (i === 0 ? live : garbage).push(big);
    }
    for (const handle of garbage) p.deallocate(handle);
    const nativeBefore = getNative().nativeMemoryStats().liveBytes;
    const reservedBefore = p.getMetrics().reservedBytes;
    const result = p.cleanup({ keepArenas: 0, maxTimeMs: 60_000 });
    expect(result.strategy).toBe('manual');
    expect(result.devices).toEqual(['cpu']);
    expect(result.timedOut).toBe(false);
    expect(result.bytesFreed).toBeGreaterThan(0);
    expect(result.arenasReleased).toBeGreaterThan(0);
    expect(p.getMetrics().reservedBytes).toBe(reservedBefore - result.bytesFreed);
    // The native allocator really got the memory back.
    expect(getNative().nativeMemoryStats().liveBytes).toBe(nativeBefore - result.bytesFreed);
    expect(result.efficiency).toBeGreaterThan(0);
    expect(result.efficiency).toBeLessThanOrEqual(1);
    for (const handle of live) {
      const expected = handle.size === 3 << 20 ? 0xee : (live.indexOf(handle) * 10) & 0xff;
      expect(handle.asUint8Array().every((value) => value === expected)).toBe(true);
    }
    // The pool still works after compaction.
    const again = p.allocate(3 << 20);
    again.asUint8Array()[0] = 1;
    p.deallocate(again);
    for (const handle of live) p.deallocate(handle);
    const metrics = p.cleanupManager.getMetrics();
    expect(metrics.runs).toBe(1);
    expect(metrics.runsByStrategy.manual).toBe(1);
    expect(metrics.totalBytesFreed).toBe(result.bytesFreed);
  });

  it('keeps warm arenas, filters by device, and validates options', () => {
    const p = pool({ initialSmallPoolSize: 1 << 20 });
    const a = p.allocate(2 << 20);
    p.deallocate(a);
    expect(p.cleanup({ device: 'nothing-here' }).devices).toEqual([]);
    const kept = p.cleanup({ keepArenas: 1, maxTimeMs: 60_000 });
    expect(kept.bytesFreed).toBe(0);
    expect(p.getMetrics().reservedBytes).toBeGreaterThan(0);
    const pressure = p.cleanup({ strategy: 'pressure', maxTimeMs: 60_000 });
    expect(pressure.bytesFreed).toBeGreaterThan(0);
    expect(p.getMetrics().reservedBytes).toBe(0);
    expect(() => p.cleanup({ strategy: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => p.cleanup({ keepArenas: -1 })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => p.cleanup({ maxTimeMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
  });

  it('compaction off: empty slabs stay in place', () => {
    const p = pool({ initialSmallPoolSize: 1 << 20, cleanupConfig: { enableCompaction: false } });
    p.deallocate(p.allocate(100));
    const result = p.cleanup({ keepArenas: 0, maxTimeMs: 60_000 });
    expect(result.slabBytesCompacted).toBe(0);
    expect(result.bytesFreed).toBe(0);
    expect(p.getMetrics().devices.cpu!.pools.small.slabs).toBe(1);
  });

  it('idle and pressure strategies run from unref’d timers', async () => {
    const p = pool({
      memoryLimit: 8 << 20,
      trackingConfig: { level: 'basic' },
      enableAutomaticCleanup: true,
      cleanupConfig: { idleCleanupIntervalMs: 15, pressureCleanupThreshold: 0.5, keepArenasPerRegion: 0 },
    });
    p.deallocate(p.allocate(2 << 20));
    for (let i = 0; i < 50 && p.cleanupManager.getMetrics().runsByStrategy.idle === 0; i++) await sleep(10);
    expect(p.cleanupManager.getMetrics().runsByStrategy.idle).toBeGreaterThan(0);
    expect(p.getMetrics().reservedBytes).toBe(0);
    const big = p.allocate(5 << 20); // ratio 0.625 ≥ 0.5
    await sleep(5);
    expect(p.cleanupManager.getMetrics().runsByStrategy.pressure).toBe(1);
    expect(big.isLive).toBe(true);
    p.deallocate(big);
    p.dispose();
    expect(p.cleanupManager.running).toBe(false);
  });

  it('timers never keep the process alive', () => {
    const distIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { HybridMemoryPool } from ${JSON.stringify(distIndex)};
      const pool = new HybridMemoryPool({
        enableAutomaticCleanup: true,
        cleanupConfig: { idleCleanupIntervalMs: 60000, periodicCleanupIntervalMs: 60000 },
        trackingConfig: { level: 'standard', leakDetectionIntervalMs: 60000 },
      });
      pool.allocate(1000);
      console.log('done');`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('done');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
