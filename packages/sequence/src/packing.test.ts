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

describe('packSequences best-fit-decreasing', () => {
  /**
   * Reference packer written from the definition: pieces longest first (stable), each into the open row with the
   * least room that still fits it (among equal room, the row that got its room last), else a new row.
   */
  function referenceRows(lengths: number[], maxLength: number): number[] {
    const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    const fill: number[] = [];
    const stamp: number[] = [];
    const rowOf = new Array<number>(lengths.length);
    let clock = 0;
    for (const piece of order) {
      let best = -1;
      for (let row = 0; row < fill.length; row++) {
        if (fill[row]! + lengths[piece]! > maxLength || fill[row]! === maxLength) continue;
        if (best < 0 || fill[row]! > fill[best]! || (fill[row] === fill[best] && stamp[row]! > stamp[best]!)) best = row;
      }
      if (best < 0) {
        best = fill.length;
        fill.push(0);
        stamp.push(0);
      }
      fill[best]! += lengths[piece]!;
      stamp[best] = clock++;
      rowOf[piece] = best;
    }
    return rowOf;
  }

  it('places every piece where the reference packer does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 30, max: 70 }), (lengths, maxLength) => {
        const packed = packSequences(
          lengths.map((n) => new Array<number>(n).fill(1)),
          { maxLength },
        );
        const rows = new Array<number>(lengths.length);
        for (const segment of packed.segments) rows[segment.sequence] = segment.row;
        expect(rows).toEqual(referenceRows(lengths, maxLength));
      }),
      { numRuns: 300, seed: 8 },
    );
  });

  it('costs what the input holds, not what maxLength allows (maxLength 2^31 - 1 packs three tokens at once)', () => {
    const packed = packSequences([[1, 2, 3], [4]], { maxLength: 2 ** 31 - 1 });
    expect(packed.rows).toBe(1);
    expect(packed.sequenceLength).toBe(4);
    expect(Array.from(packed.inputIds)).toEqual([1, 2, 3, 4]);
  });

  it('refuses an options.split that is not a boolean', () => {
    expect(() => packSequences([[1, 2, 3]], { maxLength: 2, split: 'no' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[packSequences] options.split must be true or false, got "no"' }),
    );
  });
});
