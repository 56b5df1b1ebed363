import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HybridMemoryPool, type LeakCallback, type MemoryHandle, type PressureEvent, pressureRatios } from './index.js';

const pools: HybridMemoryPool[] = [];
function pool(config: ConstructorParameters<typeof HybridMemoryPool>[0]): HybridMemoryPool {
  const created = new HybridMemoryPool(config);
  pools.push(created);
  return created;
}
afterEach(() => {
  for (const created of pools.splice(0)) created.dispose();
});

const gc = (globalThis as { gc?: () => void }).gc;

describe('tracking', () => {
  it('None: counters work, detailed metrics, leaks and pressure callbacks need tracking', () => {
    const p = pool({});
    const handle = p.allocate(100);
    expect(p.getMetrics().currentAllocated).toBe(100);
    expect(() => p.getDetailedMetrics()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    expect(() => p.detectLeaks()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    expect(() => p.registerPressureCallback(() => {})).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    p.deallocate(handle);
  });

  it('pressure levels follow use against the limit and callbacks fire on every change', () => {
    const limit = 1_000_000;
    const p = pool({ memoryLimit: limit, trackingConfig: { level: 'basic', pressureThresholdRatio: 0.8 } });
    const events: PressureEvent[] = [];
    const unregister = p.registerPressureCallback((event) => events.push(event));
    // Thresholds with t = 0.8: low 0.5, medium 0.7, high 0.8, critical 0.95.
    const a = p.allocate(400_000);
    expect(p.getPressureLevel()).toBe('none');
    const b = p.allocate(150_000); // 0.55
    expect(p.getPressureLevel()).toBe('low');
    const c = p.allocate(200_000); // 0.75
    expect(p.getPressureLevel()).toBe('medium');
    const d = p.allocate(210_000); // 0.96
    expect(p.getPressureLevel('cpu')).toBe('critical');
    p.deallocate(d); // 0.75
    p.deallocate(c); // 0.55
    p.deallocate(b); // 0.4
    expect(events.map((event) => `${event.previous}->${event.level}`)).toEqual([
      'none->low',
      'low->medium',
      'medium->critical',
      'critical->medium',
      'medium->low',
      'low->none',
    ]);
    expect(events[2]).toMatchObject({ device: 'cpu', currentAllocated: 960_000, memoryLimit: limit, ratio: 0.96 });
    unregister();
    const e = p.allocate(400_000); // 0.8
    expect(events).toHaveLength(6);
    expect(p.getDetailedMetrics().pressureLevel).toBe('high');
    // A throwing callback does not break allocate.
    p.registerPressureCallback(() => {
      throw new Error('boom');
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    p.deallocate(e);
    p.deallocate(a);
    return sleep(10).then(() => {
      process.off('warning', onWarning);
      expect(warnings.some((message) => message.includes('pressure callback threw: boom'))).toBe(true);
      expect(p.getPressureLevel()).toBe('none');
    });
  });

  it('pressure boundaries are inclusive at the exact documented ratios (0.5 / 0.7 / 0.8 / 0.95 of the limit)', () => {
    expect(pressureRatios(0.8)).toEqual([0, 0.5, 0.7, 0.8, 0.95]);
    for (const [bytes, level] of [
      [499, 'none'],
      [500, 'low'],
      [699, 'low'],
      [700, 'medium'],
      [799, 'medium'],
      [800, 'high'],
      [949, 'high'],
      [950, 'critical'],
    ] as const) {
      const p = pool({ memoryLimit: 1000, trackingConfig: { level: 'basic' } });
      p.allocate(bytes);
      expect(p.getPressureLevel(), `${bytes} of 1000 bytes`).toBe(level);
    }
    // Going down: a level holds while use stays at or above its boundary.
    const p = pool({ memoryLimit: 1000, trackingConfig: { level: 'basic' } });
    const a = p.allocate(700);
    const b = p.allocate(100);
    expect(p.getPressureLevel()).toBe('high');
    p.deallocate(b);
    expect(p.getPressureLevel()).toBe('medium');
    p.deallocate(a);
  });

  it('detailed metrics: histogram, timeline, fragmentation and pattern suggestions', () => {
    const p = pool({ trackingConfig: { level: 'detailed', timelineCapacity: 64 } });
    for (let i = 0; i < 300; i++) p.deallocate(p.allocate(4000));
    const kept: MemoryHandle[] = [];
    for (let i = 0; i < 5; i++) kept.push(p.allocate(1_100_000));
    const metrics = p.getDetailedMetrics();
    expect(metrics.trackingLevel).toBe('detailed');
    expect(metrics.sizeHistogram).toEqual([
      { minBytes: 2048, maxBytes: 4095, count: 300 },
      { minBytes: 1048576, maxBytes: 2097151, count: 5 },
    ]);
    expect(metrics.timeline).toHaveLength(64);
    expect(metrics.timeline.at(-1)).toMatchObject({ kind: 'allocate', size: 1_100_000, device: 'cpu', pool: 'large' });
    const free = metrics.timeline.find((event) => event.kind === 'deallocate');
    expect(free?.lifetimeMs).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < metrics.timeline.length; i++) expect(metrics.timeline[i]!.time).toBeGreaterThanOrEqual(metrics.timeline[i - 1]!.time);
    // Internal fragmentation: 1.1 MB blocks are rounded up to 64 KiB units.
    const blockBytes = 5 * Math.ceil(1_100_000 / 65536) * 65536;
    expect(metrics.internalFragmentation).toBeCloseTo(1 - 5_500_000 / blockBytes, 10);
    expect(metrics.fragmentationRatio).toBeGreaterThanOrEqual(0);
    expect(metrics.fragmentationRatio).toBeLessThan(1);
    expect(metrics.liveAllocations).toBe(5);
    expect(metrics.patterns.size.dominant[0]).toMatchObject({ minBytes: 2048, count: 300 });
    expect(metrics.patterns.device).toEqual([expect.objectContaining({ device: 'cpu', allocations: 305, share: 1 })]);
    expect(metrics.patterns.temporal.shortLivedShare).toBeGreaterThan(0.5);
    expect(metrics.suggestions.some((text) => /of 305 allocations are 2.0 KiB–4.0 KiB/.test(text))).toBe(true);
    for (const handle of kept) p.deallocate(handle);
  });

  it('fragmentationRatio is 1 − largest free block / free bytes (checked against the arena free lists)', () => {
    const p = pool({ initialLargePoolSize: 16 << 20, trackingConfig: { level: 'basic' } });
    const blocks = [];
    for (let i = 0; i < 16; i++) blocks.push(p.allocate(1 << 20));
    for (let i = 0; i < 16; i += 2) p.deallocate(blocks[i]!); // free every other 1 MiB block
    const fragmentation = p.getFragmentation();
    expect(fragmentation.freeBytes).toBe(8 << 20);
    expect(fragmentation.largestFreeBlock).toBe(1 << 20);
    expect(fragmentation.fragmentationRatio).toBeCloseTo(1 - 1 / 8, 12);
    for (let i = 1; i < 16; i += 2) p.deallocate(blocks[i]!);
    expect(p.getFragmentation().fragmentationRatio).toBe(0);
  });

  it('detectLeaks reports old live handles with allocation stacks at the detailed level', async () => {
    const p = pool({ trackingConfig: { level: 'detailed', stackSampleInterval: 1, leakDetectionIntervalMs: 0 } });
    function allocateForLeakTest(): MemoryHandle {
      return p.allocate(777);
    }
    const leaked = allocateForLeakTest();
    const young = p.allocate(888);
    const freed = p.allocate(999);
    p.deallocate(freed);
    await sleep(30);
    const fresh = p.allocate(555);
    const report = p.detectLeaks(25);
    expect(report.liveAllocations).toBe(3);
    expect(report.leaks.map((leak) => leak.size)).toEqual([777, 888]);
    expect(report.leaks[0]!.ageMs).toBeGreaterThanOrEqual(25);
    expect(report.leaks[0]!.stack).toMatch(/allocateForLeakTest/);
    expect(report.leaks[0]!.allocatedAt).toBeLessThanOrEqual(Date.now());
    expect(p.detectLeaks(0).leaks.map((leak) => leak.size)).toEqual([777, 888, 555]);
    expect(() => p.detectLeaks(-1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    for (const handle of [leaked, young, fresh]) p.deallocate(handle);
    expect(p.detectLeaks(0).leaks).toEqual([]);
  });

  it('standard level: no stacks; the background scan calls leak callbacks', async () => {
    const p = pool({ trackingConfig: { level: 'standard', leakDetectionIntervalMs: 20, leakThresholdMs: 10 } });
    const seen: Parameters<LeakCallback>[0][] = [];
    p.registerLeakCallback((report) => seen.push(report));
    const handle = p.allocate(321);
    await sleep(120);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]!.kind).toBe('old');
    expect(seen[0]!.leaks[0]).toMatchObject({ size: 321, device: 'cpu' });
    expect(seen[0]!.leaks[0]!.stack).toBeUndefined();
    p.deallocate(handle);
  });

  it.runIf(gc)('reclaims handles the GC collects without deallocate, and reports them', async () => {
    const p = pool({ trackingConfig: { level: 'standard', leakDetectionIntervalMs: 0 } });
    const reports: Parameters<LeakCallback>[0][] = [];
    p.registerLeakCallback((report) => reports.push(report));
    const keep = p.allocate(1234);
    const keptView = keep.asUint8Array();
    keptView.fill(5);
    (function forget() {
      for (let i = 0; i < 50; i++) p.allocate(2000);
      p.allocate(3 << 20).asFloat32Array().fill(1); // a forgotten handle with a view
    })();
    expect(p.getMetrics().currentAllocated).toBe(1234 + 50 * 2000 + (3 << 20));
    p.detectLeaks(0); // moves young handles under the FinalizationRegistry
    for (let i = 0; i < 10 && p.getMetrics().reclaimedCount < 51; i++) {
      gc!();
      await sleep(20);
    }
    const metrics = p.getMetrics();
    expect(metrics.reclaimedCount).toBe(51);
    expect(metrics.reclaimedBytes).toBe(50 * 2000 + (3 << 20));
    expect(metrics.currentAllocated).toBe(1234);
    expect(metrics.deallocationCount).toBe(51);
    const reclaimed = reports.filter((report) => report.kind === 'reclaimed').flatMap((report) => report.leaks);
    expect(reclaimed).toHaveLength(51);
    expect(p.detectLeaks(0).reclaimed.count).toBe(51);
    // The kept handle and its view were not touched.
    expect(keep.isLive).toBe(true);
    expect(keptView.every((value) => value === 5)).toBe(true);
    p.deallocate(keep);
  });

  it.runIf(gc)('a handle whose view is still referenced is not reclaimed', async () => {
    const p = pool({ trackingConfig: { level: 'standard', leakDetectionIntervalMs: 0 } });
    const view = (() => {
      const handle = p.allocate(4096);
      const array = handle.asInt32Array();
      array.fill(17);
      return array;
    })();
    p.detectLeaks(0);
    for (let i = 0; i < 3; i++) {
      gc!();
      await sleep(20);
    }
    expect(p.getMetrics().reclaimedCount).toBe(0);
    expect(view.length).toBe(1024);
    // Another allocation must not get this block while the view lives.
    const other = p.allocate(4096);
    other.asInt32Array().fill(3);
    expect(view.every((value) => value === 17)).toBe(true);
    p.deallocate(other);
  });
});
