import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSizeClasses, classFor, MAX_ALIGNMENT } from './size-classes.js';

describe('size classes', () => {
  const table = buildSizeClasses(1 << 20);

  it('are ascending, waste at most 25 % past 128 bytes, and cover the threshold at every alignment', () => {
    for (let i = 1; i < table.sizes.length; i++) {
      expect(table.sizes[i]!).toBeGreaterThan(table.sizes[i - 1]!);
      if (table.sizes[i - 1]! >= 128) expect(table.sizes[i]! / table.sizes[i - 1]!).toBeLessThanOrEqual(1.25);
    }
    expect(table.sizes[table.sizes.length - 1]!).toBeGreaterThanOrEqual(1 << 20);
    expect(classFor(table, (1 << 20) - 1, MAX_ALIGNMENT)).toBeLessThan(table.sizes.length);
  });

  it('pick the smallest class that holds the size at the alignment (brute-force reference)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: (1 << 20) - 1 }), fc.integer({ min: 0, max: 12 }), (size, alignmentLog) => {
        const alignment = 2 ** alignmentLog;
        const index = classFor(table, size, alignment);
        let expected = -1;
        for (let i = 0; i < table.sizes.length; i++) {
          if (table.sizes[i]! >= size && table.sizes[i]! % alignment === 0) {
            expected = i;
            break;
          }
        }
        expect(index).toBe(expected);
        expect(table.alignments[index]! % alignment).toBe(0);
      }),
      { numRuns: 5000 },
    );
  });
});
