import { getNative } from '@bitnet/native';
import { describe, expect, it } from 'vitest';

describe('native memory bindings (native/src/napi/memory.cc)', () => {
  const native = getNative();

  it('memoryBlockBuffer views exactly the arena range and memoryDetach cuts it off', () => {
    const arena = native.allocateAligned(65536, 4096);
    const whole = new Uint8Array(arena);
    const block = native.memoryBlockBuffer(arena, 4096, 100);
    expect(block.byteLength).toBe(100);
    expect(native.addressOf(block)).toBe(native.addressOf(arena) + 4096n);
    new Uint8Array(block).fill(7);
    expect(whole[4095]).toBe(0);
    expect(whole.subarray(4096, 4196).every((value) => value === 7)).toBe(true);
    expect(whole[4196]).toBe(0);
    native.memoryFill(arena, 4100, 10, 3);
    expect(new Uint8Array(block)[4]).toBe(3);
    native.memoryDetach(block);
    expect(block.byteLength).toBe(0);
    native.memoryDetach(block); // already detached: no-op
    expect(() => native.memoryBlockBuffer(arena, 65500, 100)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => native.memoryFill(arena, -1, 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => native.memoryBlockBuffer({} as ArrayBuffer, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    native.freeAligned(arena);
    expect(() => native.memoryBlockBuffer(arena, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
  });

  it('benchmark peers run and check their arguments', () => {
    native.memoryBenchNoop();
    native.memoryBenchMallocFree(1000);
    expect(native.memoryBenchMallocFreeLoop(64, 1000)).toBeGreaterThan(0);
    expect(() => native.memoryBenchMallocFreeLoop(64, 0)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    const a = native.memoryBenchSharedPoolAllocate();
    const b = native.memoryBenchSharedPoolAllocate();
    expect(a).not.toBe(b);
    native.memoryBenchSharedPoolFree(a);
    expect(() => native.memoryBenchSharedPoolFree(a)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DOUBLE_FREE' }));
    expect(() => native.memoryBenchSharedPoolFree(1e9)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    native.memoryBenchSharedPoolFree(b);
  });
});
