import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packSequences } from './index.js';

describe('packSequences', () => {
  it('property: every token placed once, rows within maxLength, positions restart, cu_seqlens consistent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 8, max: 64 }),
        fc.constantFrom<'best-fit-decreasing' | 'sequential'>('best-fit-decreasing', 'sequential'),
        (sequences, maxLength, strategy) => {
          const packed = packSequences(sequences, { maxLength, strategy, split: true, padTokenId: 0 });
          expect(packed.sequenceLength).toBeLessThanOrEqual(maxLength);
          const rebuilt: number[][] = sequences.map(() => []);
          const bySequence = [...packed.segments].sort((a, b) => a.sequence - b.sequence || a.sourceOffset - b.sourceOffset);
          for (const segment of bySequence) {
            const start = segment.row * packed.sequenceLength + segment.offset;
            rebuilt[segment.sequence].push(...packed.inputIds.subarray(start, start + segment.length));
            for (let t = 0; t < segment.length; t++) {
              expect(packed.positionIds[start + t]).toBe(t);
              expect(packed.attentionMask[start + t]).toBe(1);
            }
          }
          expect(rebuilt).toEqual(sequences);
          const total = sequences.reduce((n, s) => n + s.length, 0);
          expect(packed.tokens).toBe(total);
          expect(packed.cumulativeLengths.at(-1)).toBe(total);
          expect(packed.segmentIds.filter((s) => s > 0).length).toBe(total);
          // Lower bound on rows: total tokens / row length.
          expect(packed.rows).toBeGreaterThanOrEqual(Math.ceil(total / maxLength));
        },
      ),
      { numRuns: 200, seed: 4 },
    );
  });

  it('a sequence longer than maxLength without split is an error', () => {
    expect(() => packSequences([[1, 2, 3]], { maxLength: 2 })).toThrow(/sequence 0 has 3 tokens, more than maxLength 2/);
  });
});
