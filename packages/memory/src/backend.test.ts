import { afterEach, describe, expect, it } from 'vitest';
import { type ArenaMemory, HybridMemoryPool, listMemoryBackends, type MemoryBackend, registerMemoryBackend } from './index.js';

// A device whose memory JS cannot see: arenas are plain host ArrayBuffers
// standing in for device buffers, recorded so the test can check the calls.
function fakeDevice() {
  const arenas = new Set<ArenaMemory>();
  const calls: string[] = [];
  const backend: MemoryBackend = {
    hostVisible: false,
    allocateArena(bytes, alignment) {
      calls.push(`allocate ${bytes} ${alignment}`);
      const arena = { bytes, native: new ArrayBuffer(bytes) };
      arenas.add(arena);
      return arena;
    },
    freeArena(arena) {
      calls.push(`free ${arena.bytes}`);
      arenas.delete(arena);
    },
    capacity: () => 64 << 20,
    trim: () => {
      calls.push('trim');
      return 0;
    },
  };
  return { backend, arenas, calls };
}

const unregister: Array<() => void> = [];
afterEach(() => {
  for (const fn of unregister.splice(0)) fn();
});

describe('memory backend registry', () => {
  it('plugs a new device kind in without edits; pools are kept per device id', () => {
    const device = fakeDevice();
    unregister.push(registerMemoryBackend('testgpu', device.backend));
    expect(listMemoryBackends()).toEqual(['cpu', 'testgpu']);
    const pool = new HybridMemoryPool();
    const a = pool.allocate(1000, 64, 'testgpu:0');
    const b = pool.allocate(3 << 20, 64, 'testgpu:1');
    const c = pool.allocate(1000);
    expect(pool.listDevices()).toEqual(['testgpu:0', 'testgpu:1', 'cpu']);
    const metrics = pool.getMetrics();
    expect(metrics.devices['testgpu:0']!.memoryLimit).toBe(64 << 20);
    expect(metrics.devices['testgpu:1']!.pools.large.currentAllocated).toBe(3 << 20);
    expect(metrics.devices.cpu!.currentAllocated).toBe(1000);
    expect(() => a.asUint8Array()).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED', message: expect.stringMatching(/not visible from JS/) }));
    expect(() => a.address).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED' }));
    pool.deallocate(a);
    pool.deallocate(b);
    pool.cleanup({ device: 'testgpu:1', keepArenas: 0, maxTimeMs: 60_000 });
    expect(device.calls).toContain('trim');
    expect(device.arenas.size).toBe(1); // testgpu:0's small arena is still held
    pool.dispose();
    expect(device.arenas.size).toBe(0);
    expect(c.isLive).toBe(false);
  });

  it('validates registrations', () => {
    const device = fakeDevice();
    expect(() => registerMemoryBackend('cpu', device.backend)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => registerMemoryBackend('Bad Name', device.backend)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => registerMemoryBackend('x', {} as MemoryBackend)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => registerMemoryBackend('y', { ...device.backend, hostVisible: true })).toThrow(expect.objectContaining({ message: expect.stringMatching(/needs blockBuffer/) }));
    unregister.push(registerMemoryBackend('z', device.backend));
    expect(() => registerMemoryBackend('z', device.backend)).toThrow(expect.objectContaining({ message: expect.stringMatching(/already registered/) }));
  });

  it('a device that fails to provide an arena gives ERR_BITNET_OUT_OF_MEMORY and leaves the pool unchanged', () => {
    unregister.push(
      registerMemoryBackend('brokengpu', {
        hostVisible: false,
        allocateArena() {
          throw new Error('driver says no');
        },
        freeArena() {},
      }),
    );
    const pool = new HybridMemoryPool();
    expect(() => pool.allocate(10, 64, 'brokengpu')).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringMatching(/could not provide/) }),
    );
    expect(pool.getMetrics().allocationCount).toBe(0);
    pool.dispose();
  });

  it('zeroing on a device that cannot fill or show its memory is refused before a block is taken', () => {
    const device = fakeDevice();
    unregister.push(registerMemoryBackend('darkgpu', device.backend));
    for (const [label, p, call] of [
      ['allocateZeroed', new HybridMemoryPool(), (pool: HybridMemoryPool, id: string) => pool.allocateZeroed(4096, 64, id)],
      ['zeroOnAllocate', new HybridMemoryPool({ zeroOnAllocate: true }), (pool: HybridMemoryPool, id: string) => pool.allocate(4096, 64, id)],
    ] as const) {
      const held = p.allocate(1000);
      // A device the pool already holds memory on (plain allocate works where zeroing is off).
      const other = label === 'allocateZeroed' ? p.allocate(3 << 20, 64, 'darkgpu:1') : null;
      const before = p.getMetrics();
      const devices = p.listDevices();
      const arenas = device.arenas.size;
      for (const id of ['darkgpu:0', 'darkgpu:1']) {
        expect(() => call(p, id), `${label} ${id}`).toThrow(
          expect.objectContaining({ code: 'ERR_BITNET_UNSUPPORTED', message: `[HybridMemoryPool.allocate] blocks of device "${id}" cannot be zeroed: its memory backend has no fill() and is not host-visible` }),
        );
      }
      expect(p.getMetrics(), label).toEqual(before);
      expect(p.listDevices()).toEqual(devices);
      expect(device.arenas.size).toBe(arenas); // no arena was made for the refused calls
      p.deallocate(held);
      if (other) p.deallocate(other);
      p.dispose();
      expect(device.arenas.size).toBe(0);
    }
  });

  it('a device fill() that fails gives the block (and a new device’s arenas) back and leaves the counters as they were', () => {
    const device = fakeDevice();
    let failFill = true;
    const fills: string[] = [];
    unregister.push(
      registerMemoryBackend('fillgpu', {
        ...device.backend,
        fill(_arena, offset, length, value) {
          if (failFill) throw new Error('fill kernel failed');
          fills.push(`${offset}+${length}=${value}`);
        },
      }),
    );
    const p = new HybridMemoryPool();
    expect(() => p.allocateZeroed(1000, 64, 'fillgpu')).toThrow('fill kernel failed');
    expect(p.listDevices()).toEqual([]);
    expect(device.arenas.size).toBe(0); // the arena made for the new device went back
    failFill = false;
    const first = p.allocateZeroed(1000, 64, 'fillgpu');
    expect(fills).toEqual([`${first.offset}+1000=0`]);
    // Counters of the pool, the device and its small/large parts (an arena a failed call made may stay reserved).
    const counters = () => {
      const { reservedBytes: _total, devices, ...pool } = p.getMetrics();
      const { reservedBytes: _device, pools, ...device } = devices.fillgpu!;
      const { reservedBytes: _small, arenas: _smallArenas, ...small } = pools.small;
      const { reservedBytes: _large, arenas: _largeArenas, ...large } = pools.large;
      return { pool, device, small, large };
    };
    const before = counters();
    failFill = true;
    expect(() => p.allocateZeroed(1000, 64, 'fillgpu')).toThrow('fill kernel failed');
    expect(() => p.allocateZeroed(2 << 20, 64, 'fillgpu')).toThrow('fill kernel failed');
    expect(counters()).toEqual(before);
    failFill = false;
    // The failed calls' blocks are free again: the next allocations get them.
    const second = p.allocate(1000, 64, 'fillgpu');
    expect(second.offset).toBe(first.offset + first.blockBytes);
    const third = p.allocate(2 << 20, 64, 'fillgpu');
    expect(third.offset).toBe(0);
    expect(p.getMetrics().currentAllocated).toBe(2000 + (2 << 20));
    p.dispose();
  });
});

