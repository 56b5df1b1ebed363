// Defects an independent model-based audit found (packages/memory, eighth session), each checked against what
// the README promises: a failed call leaves the pool as it was, pressure events arrive in order, boundaries
// are exact in whole bytes, and a handle the user froze can still be freed.
import { afterEach, describe, expect, it } from 'vitest';
import { HybridMemoryPool, MemoryHandle, registerMemoryBackend } from './index.js';
import { pressureThresholdBytes } from './pressure.js';

const unregister: Array<() => void> = [];
afterEach(() => {
  for (const fn of unregister.splice(0)) fn();
});

/** Everything a caller can observe of a pool's state. */
const snapshot = (pool: HybridMemoryPool) => JSON.stringify([pool.getMetrics(), pool.getPressureLevel(), pool.getFragmentation()]);

describe('a failed allocate leaves the pool as it was', () => {
  it('does not give warm arenas back before finding that the request cannot fit anyway', () => {
    using small = new HybridMemoryPool({ maxSmallPoolSize: 65536, initialSmallPoolSize: 65536 });
    small.deallocate(small.allocate(16));
    small.cleanup({ keepArenas: 1 });
    const before = snapshot(small);
    expect(() => small.allocate(100_000)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY' }));
    expect(snapshot(small)).toBe(before);

    using large = new HybridMemoryPool({ maxLargePoolSize: 4 << 20, initialLargePoolSize: 1 << 20 });
    const live = large.allocate(2 << 20);
    large.deallocate(large.allocate(1 << 20));
    const reserved = large.getMetrics().reservedBytes;
    const state = snapshot(large);
    expect(() => large.allocate(3 << 20)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY' }));
    expect(snapshot(large)).toBe(state);
    expect(large.getMetrics().reservedBytes).toBe(reserved);
    large.deallocate(live);
  });

  it('a device backend that cannot index an arena is refused before it is asked for memory', () => {
    let out = 0;
    unregister.push(registerMemoryBackend('bigdev', { hostVisible: false, allocateArena: (bytes) => (out++, { bytes, native: {} }), freeArena: () => void out-- }));
    using pool = new HybridMemoryPool({ memoryLimit: 2 ** 52 });
    expect(() => pool.allocate(2 ** 47 + 1, 64, 'bigdev:0')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/more than 2\^30 units/) }));
    expect(out).toBe(0);
  });

  it('a device that fails to zero a block gets its new arena back and a typed error', () => {
    let fail = false;
    unregister.push(
      registerMemoryBackend('zerofail', {
        hostVisible: false,
        allocateArena: (bytes) => ({ bytes, native: {} }),
        freeArena() {},
        fill() {
          if (fail) throw new Error('device fill failed');
        },
      }),
    );
    using pool = new HybridMemoryPool({ initialLargePoolSize: 1 << 20 });
    pool.allocate(64, 64, 'zerofail:0');
    const before = snapshot(pool);
    fail = true;
    expect(() => pool.allocateZeroed(4 << 20, 64, 'zerofail:0')).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE', message: '[HybridMemoryPool.allocateZeroed] device "zerofail:0" could not zero a 4194304-byte block: device fill failed' }),
    );
    expect(snapshot(pool)).toBe(before);
    // A small block too: the slab made for it, and the arena made for that slab, go back.
    fail = false;
    pool.allocate(64, 64, 'zerofail:0');
    const warm = snapshot(pool);
    fail = true;
    expect(() => pool.allocateZeroed(3000, 64, 'zerofail:0')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE' }));
    expect(snapshot(pool)).toBe(warm);
  });
});

describe('pressure', () => {
  it('a callback that frees memory does not make later callbacks see the levels out of order', () => {
    using pool = new HybridMemoryPool({ memoryLimit: 1000, trackingConfig: { level: 'basic' } });
    const a = pool.allocate(450);
    const b = pool.allocate(300);
    const c = pool.allocate(50); // 800 of 1000: high
    const seen: string[][] = [[], []];
    pool.registerPressureCallback((event) => {
      seen[0]!.push(`${event.previous}->${event.level}`);
      if (event.level === 'medium' && b.isLive) pool.deallocate(b);
    });
    pool.registerPressureCallback((event) => void seen[1]!.push(`${event.previous}->${event.level}`));
    pool.deallocate(c); // 750: medium; the first callback frees b: 450, none
    expect(seen).toEqual([
      ['high->medium', 'medium->none'],
      ['high->medium', 'medium->none'],
    ]);
    expect(pool.getPressureLevel()).toBe('none');
    pool.deallocate(a);
  });

  it('boundaries are the exact whole-byte ceilings of ratio × limit, for large limits too', () => {
    // Reference in BigInt from the documented decimal ratios (t = 0.8: 0.5, 0.7, 0.8, 0.95).
    const exact = (numerator: bigint, denominator: bigint, limit: number) => Number((numerator * BigInt(limit) + denominator - 1n) / denominator);
    for (const limit of [1000, 1_000_000_000_003, 2 ** 39, 2 ** 40 + 7, 3 * 10 ** 12 + 1, 2 ** 53 - 1]) {
      expect(pressureThresholdBytes(0.8, limit), String(limit)).toEqual([0, exact(5n, 10n, limit), exact(7n, 10n, limit), exact(8n, 10n, limit), exact(95n, 100n, limit)]);
    }
  });
});

describe('handles', () => {
  it('a handle the user froze can still be deallocated, and then reads as freed', () => {
    using pool = new HybridMemoryPool();
    const handle = pool.allocate(64);
    Object.freeze(handle);
    pool.deallocate(handle);
    expect(handle.isLive).toBe(false);
    expect(pool.getMetrics().currentAllocated).toBe(0);
    expect(() => handle.asUint8Array()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
  });

  it('an object that only pretends to be a handle is an invalid argument, not a handle of another pool', () => {
    using pool = new HybridMemoryPool();
    expect(() => pool.deallocate(Object.create(MemoryHandle.prototype))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
  });
});
