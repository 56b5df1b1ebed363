import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuddyArena } from './buddy-allocator.js';

const UNIT = 64;

describe('BuddyArena', () => {
  it('starts as one free block and splits a request into the fitting power of two, trimming the tail', () => {
    const arena = new BuddyArena(64 * UNIT, UNIT);
    expect(arena.freeBlocks()).toEqual([{ offset: 0, size: 64 * UNIT }]);
    const offset = arena.allocate(33 * UNIT);
    expect(offset).toBe(0);
    // 33 units used; tail [33, 64) comes back as 1 + 2 + 4 + 8 + 16 units.
    expect(arena.freeBlocks()).toEqual([
      { offset: 33 * UNIT, size: UNIT },
      { offset: 34 * UNIT, size: 2 * UNIT },
      { offset: 36 * UNIT, size: 4 * UNIT },
      { offset: 40 * UNIT, size: 8 * UNIT },
      { offset: 48 * UNIT, size: 16 * UNIT },
    ]);
    expect(arena.freeBytes).toBe(31 * UNIT);
    arena.free(offset, 33 * UNIT);
    expect(arena.freeBlocks()).toEqual([{ offset: 0, size: 64 * UNIT }]);
    expect(arena.isEmpty()).toBe(true);
  });

  it('returns -1 when nothing fits and rejects bad frees', () => {
    const arena = new BuddyArena(4 * UNIT, UNIT);
    expect(arena.allocate(5 * UNIT)).toBe(-1);
    const a = arena.allocate(2 * UNIT);
    const b = arena.allocate(2 * UNIT);
    expect(new Set([a, b])).toEqual(new Set([0, 2 * UNIT]));
    expect(arena.allocate(1)).toBe(-1);
    expect(arena.canAllocate(1)).toBe(false);
    arena.free(a, 2 * UNIT);
    expect(() => arena.free(a, 2 * UNIT)).toThrow(/not an allocated run/);
    expect(() => arena.free(UNIT / 2, UNIT)).toThrow(/not an allocated run/);
  });

  it('never overlaps live runs, keeps byte counts, and returns to its initial state (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.oneof(fc.record({ op: fc.constant('alloc' as const), units: fc.integer({ min: 1, max: 70 }), extra: fc.integer({ min: 0, max: UNIT - 1 }) }), fc.record({ op: fc.constant('free' as const), pick: fc.nat() })), { maxLength: 200 }),
        (sizeLevel, ops) => {
          const size = 2 ** (sizeLevel + 2) * UNIT * 4;
          const arena = new BuddyArena(size, UNIT);
          const live: Array<{ offset: number; bytes: number; units: number }> = [];
          let liveUnits = 0;
          for (const step of ops) {
            if (step.op === 'alloc') {
              const bytes = Math.max(1, (step.units - 1) * UNIT + step.extra + 1);
              const units = Math.ceil(bytes / UNIT);
              const offset = arena.allocate(bytes);
              if (offset === -1) {
                // Reference: a run needs a free, aligned power-of-two block at least that big.
                const level = Math.ceil(Math.log2(units));
                expect(arena.largestFreeBlock() < 2 ** level * UNIT).toBe(true);
                continue;
              }
              expect(offset % (2 ** Math.ceil(Math.log2(units)) * UNIT)).toBe(0);
              expect(offset + units * UNIT).toBeLessThanOrEqual(size);
              for (const other of live) {
                const disjoint = offset + units * UNIT <= other.offset || other.offset + other.units * UNIT <= offset;
                expect(disjoint).toBe(true);
              }
              live.push({ offset, bytes, units });
              liveUnits += units;
            } else if (live.length > 0) {
              const [run] = live.splice(step.pick % live.length, 1);
              arena.free(run!.offset, run!.bytes);
              liveUnits -= run!.units;
            }
            expect(arena.freeBytes).toBe(size - liveUnits * UNIT);
            // Free blocks are disjoint from live runs and add up to freeBytes.
            const free = arena.freeBlocks();
            expect(free.reduce((sum, block) => sum + block.size, 0)).toBe(arena.freeBytes);
          }
          for (const run of live) arena.free(run.offset, run.bytes);
          expect(arena.freeBlocks()).toEqual([{ offset: 0, size }]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
