import { getNative } from '@bitnet/native';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { getDefaultPool, HybridMemoryPool, MemoryHandle } from './index.js';

const pools: HybridMemoryPool[] = [];
function pool(config?: ConstructorParameters<typeof HybridMemoryPool>[0]): HybridMemoryPool {
  const created = new HybridMemoryPool(config);
  pools.push(created);
  return created;
}
afterEach(() => {
  for (const created of pools.splice(0)) created.dispose();
});

function pattern(id: number, index: number): number {
  return (id * 131 + index * 7 + 13) & 0xff;
}
function writePattern(handle: MemoryHandle): void {
  const bytes = handle.asUint8Array();
  for (let i = 0; i < bytes.length; i++) bytes[i] = pattern(handle.id, i);
}
function checkPattern(handle: MemoryHandle): void {
  const bytes = handle.asUint8Array();
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== pattern(handle.id, i)) throw new Error(`block #${handle.id} byte ${i} was overwritten`);
  }
}

describe('HybridMemoryPool allocate/deallocate', () => {
  it('gives aligned native blocks with zero-copy views', () => {
    const p = pool();
    for (const [size, alignment] of [
      [1, 1],
      [100, 64],
      [4000, 4096],
      [70_000, 256],
      [1 << 20, 64],
      [3 * (1 << 20) + 5, 4096],
    ] as const) {
      const handle = p.allocate(size, alignment);
      expect(handle.size).toBe(size);
      expect(handle.alignment).toBe(alignment);
      expect(handle.device).toBe('cpu');
      expect(handle.isLive).toBe(true);
      expect(handle.buffer.byteLength).toBe(size);
      expect(handle.byteOffset).toBe(0);
      const address = getNative().addressOf(handle.buffer);
      expect(address).toBe(handle.address);
      expect(Number((address + BigInt(handle.byteOffset)) % BigInt(alignment))).toBe(0);
      // Two views share the same memory (no copies).
      const f32 = handle.asFloat32Array();
      const u8 = handle.asUint8Array();
      if (f32.length > 0) {
        f32[0] = 1.5;
        expect(Array.from(u8.subarray(0, 4))).toEqual(Array.from(new Uint8Array(new Float32Array([1.5]).buffer)));
      }
      expect(handle.asFloat64Array().length).toBe(Math.floor(size / 8));
      expect(handle.asInt32Array().length).toBe(Math.floor(size / 4));
      expect(handle.asUint16Array().length).toBe(Math.floor(size / 2));
      expect(handle.asInt8Array().length).toBe(size);
      p.deallocate(handle);
      expect(handle.isLive).toBe(false);
    }
  });

  it('uses the default alignment 64 and device cpu; allocateZeroed and fill really write the memory', () => {
    const p = pool();
    const a = p.allocate(200);
    expect(a.alignment).toBe(64);
    a.asUint8Array().fill(0xab);
    p.deallocate(a);
    // The same slot comes back (LIFO), still holding the old bytes unless zeroed.
    const b = p.allocate(200);
    expect(b.address).toBe(getNative().addressOf(b.buffer));
    expect(b.asUint8Array()[10]).toBe(0xab);
    p.deallocate(b);
    const c = p.allocateZeroed(200);
    expect(c.asUint8Array().every((value) => value === 0)).toBe(true);
    c.fill(7);
    expect(c.asUint8Array().every((value) => value === 7)).toBe(true);
    const zeroing = pool({ zeroOnAllocate: true });
    const d = zeroing.allocate(300);
    d.fill(9);
    zeroing.deallocate(d);
    expect(zeroing.allocate(300).asUint8Array().every((value) => value === 0)).toBe(true);
  });

  it('reuses freed memory for the next block of the same class', () => {
    const p = pool();
    const first = p.allocate(1000);
    const address = first.address;
    p.deallocate(first);
    const second = p.allocate(1000);
    expect(second.address).toBe(address);
    const big = p.allocate(2 << 20);
    const bigAddress = big.address;
    p.deallocate(big);
    expect(p.allocate(2 << 20).address).toBe(bigAddress);
  });

  it('random alloc/free sequences: no overlap, alignment holds, metrics match a reference, everything returns (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.record({ op: fc.constant('alloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 4097, max: 300_000 }), fc.integer({ min: 1 << 20, max: 5 << 20 })), alignmentLog: fc.integer({ min: 0, max: 12 }) }) },
            { weight: 2, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
          ),
          { maxLength: 120 },
        ),
        (ops) => {
          const p = new HybridMemoryPool({ initialSmallPoolSize: 1 << 20, initialLargePoolSize: 8 << 20 });
          try {
            const live: MemoryHandle[] = [];
            let current = 0;
            let total = 0;
            let peak = 0;
            let allocations = 0;
            let deallocations = 0;
            for (const step of ops) {
              if (step.op === 'alloc') {
                const alignment = 2 ** step.alignmentLog;
                const handle = p.allocate(step.size, alignment);
                expect(handle.address % BigInt(alignment)).toBe(0n);
                const start = handle.address;
                const end = start + BigInt(step.size);
                for (const other of live) {
                  const otherStart = other.address;
                  const disjoint = end <= otherStart || otherStart + BigInt(other.size) <= start;
                  expect(disjoint).toBe(true);
                }
                writePattern(handle);
                live.push(handle);
                current += step.size;
                total += step.size;
                peak = Math.max(peak, current);
                allocations++;
              } else if (live.length > 0) {
                const [handle] = live.splice(step.pick % live.length, 1);
                checkPattern(handle!);
                current -= handle!.size;
                deallocations++;
                p.deallocate(handle!);
              }
              const metrics = p.getMetrics();
              expect(metrics.currentAllocated).toBe(current);
              expect(metrics.totalAllocated).toBe(total);
              expect(metrics.totalDeallocated).toBe(total - current);
              expect(metrics.peakAllocated).toBe(peak);
              expect(metrics.allocationCount).toBe(allocations);
              expect(metrics.deallocationCount).toBe(deallocations);
              const cpu = metrics.devices.cpu;
              if (cpu) {
                expect(cpu.pools.small.currentAllocated + cpu.pools.large.currentAllocated).toBe(current);
                expect(cpu.pools.small.allocationCount + cpu.pools.large.allocationCount).toBe(allocations);
              }
            }
            for (const handle of live) {
              checkPattern(handle);
              p.deallocate(handle);
            }
            expect(p.getMetrics().currentAllocated).toBe(0);
            expect(p.getMetrics().blockBytes).toBe(0);
            // Every large arena is one free block again.
            const device = [...p.devicePools()][0];
            if (device) {
              for (const arena of device.large.arenas) expect(arena.buddy.freeBlocks()).toEqual([{ offset: 0, size: arena.buddy.size }]);
              const result = p.cleanup({ keepArenas: 0, maxTimeMs: 60_000 });
              expect(result.timedOut).toBe(false);
              for (const arena of device.small.region.arenas) expect(arena.buddy.isEmpty()).toBe(true);
              expect(device.small.region.arenas.length + device.large.arenas.length).toBe(0);
            }
          } finally {
            p.dispose();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects bad sizes, alignments and devices with typed errors and changes nothing', () => {
    const p = pool();
    const live = p.allocate(64);
    const before = p.getMetrics();
    const cases: Array<[unknown, unknown, unknown, string, RegExp]> = [
      [0, 64, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /size must be a positive safe integer, got 0/],
      [-5, 64, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got -5/],
      [1.5, 64, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got 1.5/],
      [Number.NaN, 64, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got NaN/],
      ['64', 64, 'cpu', 'ERR_BITNET_INVALID_ARGUMENT', /size must be a number, got "64"/],
      [10n, 64, 'cpu', 'ERR_BITNET_INVALID_ARGUMENT', /size must be a number/],
      [64, 3, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /alignment must be a power of two from 1 to 4096, got 3/],
      [64, 8192, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got 8192/],
      [64, 0, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got 0/],
      [64, 1.5, 'cpu', 'ERR_BITNET_OUT_OF_RANGE', /got 1.5/],
      [64, 64, 'warp-drive', 'ERR_BITNET_UNAVAILABLE', /no memory backend for device "warp-drive"/],
      [64, 64, 'cpu:1', 'ERR_BITNET_INVALID_ARGUMENT', /the cpu device has no index/],
    ];
    for (const [size, alignment, device, code, message] of cases) {
      let error: unknown;
      try {
        p.allocate(size as number, alignment as number, device as string);
      } catch (caught) {
        error = caught;
      }
      expect(error, `${String(size)} / ${String(alignment)} / ${String(device)}`).toMatchObject({ code });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^\[HybridMemoryPool.allocate\]/);
    }
    expect(p.getMetrics()).toEqual(before);
    expect(p.listDevices()).toEqual(['cpu']);
    p.deallocate(live);
  });

  it('enforces maxSmallPoolSize, maxLargePoolSize and memoryLimit without changing state', () => {
    const p = pool({ memoryLimit: 8 << 20, maxLargePoolSize: 4 << 20, maxSmallPoolSize: 1 << 20, initialSmallPoolSize: 1 << 20, initialLargePoolSize: 4 << 20 });
    const big = p.allocate(3 << 20);
    const before = p.getMetrics();
    expect(() => p.allocate(5 << 20)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/maxLargePoolSize = 4194304/) }));
    expect(() => p.allocate(2 << 20)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/holds 4194304 of at most 4194304 bytes \(maxLargePoolSize\)/) }));
    expect(p.getMetrics()).toEqual(before);
    // Small pool: one 1 MiB arena; 600 KiB blocks sit in 4 MiB slabs... which cannot fit.
    expect(() => p.allocate(600_000)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/maxSmallPoolSize/) }));
    const limited = pool({ memoryLimit: 100_000 });
    const a = limited.allocate(60_000);
    expect(() => limited.allocate(50_000)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/would exceed the memory limit: 60000 of 100000 bytes are live/) }));
    limited.deallocate(a);
    expect(limited.allocate(50_000).size).toBe(50_000);
    p.deallocate(big);
  });

  it('double free, foreign handles, non-handles and use after free are typed errors', () => {
    const p = pool();
    const other = pool();
    const handle = p.allocate(128);
    const view = handle.asFloat32Array();
    view[3] = 42;
    p.deallocate(handle);
    expect(() => p.deallocate(handle)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DOUBLE_FREE', message: expect.stringMatching(/already deallocated/) }));
    const foreign = other.allocate(128);
    const before = p.getMetrics();
    expect(() => p.deallocate(foreign)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FOREIGN_HANDLE' }));
    expect(foreign.isLive).toBe(true);
    expect(() => p.deallocate({ id: 1, size: 128 } as unknown as MemoryHandle)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => p.deallocate(undefined as unknown as MemoryHandle)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(p.getMetrics()).toEqual(before);
    for (const access of [
      () => handle.buffer,
      () => handle.byteOffset,
      () => handle.address,
      () => handle.asUint8Array(),
      () => handle.asFloat32Array(),
      () => handle.asDataView(),
      () => handle.fill(1),
    ]) {
      expect(access).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED', name: 'DisposedError' }));
    }
    // A raw view taken before the free was detached: it cannot read the recycled block.
    expect(view.length).toBe(0);
    expect(view[3]).toBeUndefined();
    const reused = p.allocate(128);
    reused.asFloat32Array().fill(7);
    expect(view[3]).toBeUndefined();
    view[3] = 99; // writes to a detached view are dropped
    expect(reused.asFloat32Array()[3]).toBe(7);
    expect(() => new MemoryHandle(Symbol('fake') as never, 1, 1, 1, 'cpu', p, [...p.devicePools()][0]!, null, 0, null as never, 0, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }),
    );
  });

  it('dispose releases every arena, detaches live views, and later calls throw', () => {
    const p = new HybridMemoryPool();
    const liveBefore = getNative().nativeMemoryStats().liveBytes;
    const small = p.allocate(1000);
    const large = p.allocate(2 << 20);
    const view = large.asUint8Array();
    view[0] = 1;
    expect(getNative().nativeMemoryStats().liveBytes).toBeGreaterThan(liveBefore);
    p.dispose();
    expect(getNative().nativeMemoryStats().liveBytes).toBe(liveBefore);
    expect(view.length).toBe(0);
    expect(small.isLive).toBe(false);
    expect(() => small.asUint8Array()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED', message: expect.stringMatching(/pool disposed/) }));
    expect(() => p.allocate(10)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    expect(() => p.deallocate(small)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    p.dispose();
    {
      using scoped = new HybridMemoryPool();
      scoped.allocate(10);
      expect(scoped.isDisposed).toBe(false);
      pools.push(scoped);
    }
    expect(pools[pools.length - 1]!.isDisposed).toBe(true);
  });

  it('getDefaultPool is one lazily created pool per thread', () => {
    const a = getDefaultPool();
    expect(getDefaultPool()).toBe(a);
    const handle = a.allocate(32);
    a.deallocate(handle);
    a.dispose();
    const b = getDefaultPool();
    expect(b).not.toBe(a);
    expect(b.isDisposed).toBe(false);
    b.dispose();
  });

  it('rejects bad config values', () => {
    expect(() => new HybridMemoryPool({ smallBlockThreshold: 100 })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => new HybridMemoryPool({ trackingConfig: { level: 'verbose' as never } })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => new HybridMemoryPool({ trackingConfig: { pressureThresholdRatio: 1.5 } })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => new HybridMemoryPool({ zeroOnAllocate: 'yes' as never })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const configured = HybridMemoryPool.withConfig({ smallBlockThreshold: 65536 });
    pools.push(configured);
    const handle = configured.allocate(65536);
    expect(configured.getMetrics().devices.cpu!.pools.large.allocationCount).toBe(1);
    configured.deallocate(handle);
  });

  it('rejects timer intervals Node.js would turn into 1 ms (above 2^31 − 1)', () => {
    const max = 2 ** 31 - 1;
    for (const config of [
      { cleanupConfig: { periodicCleanupIntervalMs: max + 1 } },
      { cleanupConfig: { idleCleanupIntervalMs: 2 ** 40 } },
      { trackingConfig: { leakDetectionIntervalMs: Number.MAX_SAFE_INTEGER } },
    ]) {
      expect(() => new HybridMemoryPool(config)).toThrow(
        expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE', message: expect.stringMatching(/^\[HybridMemoryPool\] config\.\w+\.\w+IntervalMs must be in \[0, 2147483647\].*got \d+/) }),
      );
    }
    const longest = pool({ enableAutomaticCleanup: true, cleanupConfig: { periodicCleanupIntervalMs: max, idleCleanupIntervalMs: max }, trackingConfig: { leakDetectionIntervalMs: max } });
    expect(longest.config.cleanup.periodicCleanupIntervalMs).toBe(max);
    expect(longest.config.tracking.leakDetectionIntervalMs).toBe(max);
  });
});

describe('MemoryHandle.fill', () => {
  it('writes an integer byte 0..255 and rejects anything else with a typed error, leaving the block as it was', () => {
    const p = pool();
    const handle = p.allocate(16);
    handle.fill(255);
    expect(handle.asUint8Array().every((value) => value === 255)).toBe(true);
    handle.fill(0x5a);
    const cases: Array<[unknown, string, RegExp]> = [
      ['abc', 'ERR_BITNET_INVALID_ARGUMENT', /value must be a number \(a byte from 0 to 255\), got "abc"/],
      ['0xff', 'ERR_BITNET_INVALID_ARGUMENT', /got "0xff"/],
      [{}, 'ERR_BITNET_INVALID_ARGUMENT', /got \[object Object\]/],
      [null, 'ERR_BITNET_INVALID_ARGUMENT', /got null/],
      [7n, 'ERR_BITNET_INVALID_ARGUMENT', /got a bigint 7n/],
      [Number.NaN, 'ERR_BITNET_OUT_OF_RANGE', /value must be an integer from 0 to 255, got NaN/],
      [256, 'ERR_BITNET_OUT_OF_RANGE', /got 256/],
      [1000, 'ERR_BITNET_OUT_OF_RANGE', /got 1000/],
      [-1, 'ERR_BITNET_OUT_OF_RANGE', /got -1/],
      [1.9, 'ERR_BITNET_OUT_OF_RANGE', /got 1.9/],
    ];
    for (const [value, code, message] of cases) {
      expect(() => handle.fill(value as number), String(value)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^\[MemoryHandle\.fill\] /) }));
      expect(() => handle.fill(value as number)).toThrow(message);
      expect(handle.asUint8Array().every((byte) => byte === 0x5a)).toBe(true);
    }
    expect(handle.fill().asUint8Array().every((byte) => byte === 0)).toBe(true);
  });
});

describe('HybridMemoryPool argument checks and metrics', () => {
  it('records a device only once an allocation on it succeeds', () => {
    const p = pool({ memoryLimit: 1024 });
    expect(() => p.allocate(4096)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY' }));
    expect(p.listDevices()).toEqual([]);
    expect(p.getMetrics().devices).toEqual({});
    const handle = p.allocate(100);
    expect(p.listDevices()).toEqual(['cpu']);
    expect(p.getMetrics().devices.cpu!.currentAllocated).toBe(100);
    p.deallocate(handle);
  });

  it('names bigints and non-numbers as such, and checks the device filters of the metrics calls', () => {
    const p = pool({ trackingConfig: { level: 'standard' } });
    expect(() => p.allocate(64n as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[HybridMemoryPool.allocate] size must be a number, got a bigint (64n)' }),
    );
    expect(() => p.allocate(64, 8n as unknown as number)).toThrow(expect.objectContaining({ message: expect.stringContaining('got a bigint (8n)') }));
    expect(() => p.detectLeaks('5' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[HybridMemoryPool.detectLeaks] thresholdMs must be a number, got "5"' }),
    );
    expect(() => p.detectLeaks(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    const handle = p.allocate(100);
    expect(() => p.getPressureLevel(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[HybridMemoryPool.getPressureLevel] device must be a device id string like "cpu", got 42' }),
    );
    expect(() => p.getFragmentation({} as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[HybridMemoryPool\.getFragmentation\] device must be a device id string/) }),
    );
    expect(() => p.cleanup({ device: 42 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[CleanupManager.cleanup] device must be a device id string like "cpu", got 42' }),
    );
    expect(p.cleanupManager.getMetrics().runs).toBe(0);
    // Strings still filter (a device the pool has no memory on reads as none / empty).
    expect(p.getPressureLevel('cpu')).toBe('none');
    expect(p.getFragmentation('cuda:0').freeBytes).toBe(0);
    p.deallocate(handle);
  });

  it('after dispose() metrics report no live blocks and no free memory in released arenas', () => {
    const p = new HybridMemoryPool({ memoryLimit: 1000, trackingConfig: { level: 'basic' } });
    p.allocate(80);
    p.allocate(900); // critical pressure
    const before = p.getMetrics();
    p.dispose();
    const metrics = p.getMetrics();
    expect(metrics.currentAllocated).toBe(0);
    expect(metrics.blockBytes).toBe(0);
    expect(metrics.reservedBytes).toBe(0);
    // Released with their arenas: counted as deallocated, so totals still add up.
    expect(metrics.totalDeallocated).toBe(980);
    expect(metrics.deallocationCount).toBe(2);
    expect(metrics.totalAllocated).toBe(before.totalAllocated);
    expect(metrics.peakAllocated).toBe(980);
    const cpu = metrics.devices.cpu!;
    expect(cpu).toMatchObject({ currentAllocated: 0, blockBytes: 0, pressureLevel: 'none' });
    expect(cpu.pools.small).toMatchObject({ currentAllocated: 0, blockBytes: 0, arenas: 0, slabs: 0 });
    expect(p.getFragmentation()).toEqual({ fragmentationRatio: 0, internalFragmentation: 0, freeBytes: 0, largestFreeBlock: 0 });
    expect(p.getPressureLevel()).toBe('none');
  });
});

