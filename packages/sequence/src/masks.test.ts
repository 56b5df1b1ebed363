import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  additiveAttentionMask,
  attentionMask4d,
  blockDiagonalMask,
  causalMask,
  FLOAT32_MASKED_VALUE,
  packSequences,
  PaddingStrategy,
  paddingMask,
  positionIds,
  SequenceManager,
  toAdditiveMask,
} from './index.js';
import { errorCode } from './testing/error-code.js';

describe('masks', () => {
  it('causal mask is lower triangular', () => {
    expect(Array.from(causalMask(3).data)).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });

  it('property: 4-D padding+causal mask, additive mask and position ids equal a direct reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<'left' | 'right'>('left', 'right'),
        fc.boolean(),
        (lengths, side, causal) => {
          const batch = new SequenceManager().withPaddingSide(side).processBatch(lengths.map((n) => Array.from({ length: n }, (_, i) => i + 1)));
          const [rows, length] = batch.shape!;
          const mask = attentionMask4d(batch, { causal });
          const additive = additiveAttentionMask(batch, { causal });
          const positions = positionIds(batch);
          expect(mask.shape).toEqual([rows, 1, length, length]);
          expect(paddingMask(batch).data).toBe(batch.attentionMask);
          for (let b = 0; b < rows; b++) {
            const pad = length - lengths[b];
            const realStart = side === 'left' ? pad : 0;
            for (let q = 0; q < length; q++) {
              for (let k = 0; k < length; k++) {
                const keyReal = k >= realStart && k < realStart + lengths[b];
                const allowed = keyReal && (!causal || k <= q);
                const index = (b * length + q) * length + k;
                expect(mask.data[index]).toBe(allowed ? 1 : 0);
                expect(additive.data[index]).toBe(allowed ? 0 : Math.fround(FLOAT32_MASKED_VALUE));
              }
              const cell = b * length + q;
              expect(positions.data[cell]).toBe(q >= realStart && q < realStart + lengths[b] ? q - realStart : 0);
            }
          }
        },
      ),
      { numRuns: 100, seed: 5 },
    );
  });

  it('treat null options as none and give typed errors for a bad mask or one too large to allocate', () => {
    const batch = new SequenceManager().processBatch([[1, 2], [3]]);
    expect(attentionMask4d(batch, null as never)).toEqual(attentionMask4d(batch));
    expect(additiveAttentionMask(batch, null as never)).toEqual(additiveAttentionMask(batch));
    const mask = attentionMask4d(batch);
    expect(toAdditiveMask(mask, null as never)).toEqual(toAdditiveMask(mask));
    expect(() => attentionMask4d(batch, 1 as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[attentionMask4d\] options must be an object/) }));
    expect(() => toAdditiveMask(null as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[toAdditiveMask\] mask must be a \{ data, shape \} mask, got null/) }));
    // (2^31 - 1)^2 bytes: past any typed array length, so nothing is allocated.
    const size = 0x7fffffff;
    expect(() => causalMask(size)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', name: 'BitNetRangeError', message: expect.stringMatching(/^\[causalMask\] a 2147483647 × 2147483647 mask needs a Uint8Array of \d+ elements/) }),
    );
  });

  it('masks refuse a ragged batch', () => {
    const ragged = new SequenceManager().withPaddingStrategy(PaddingStrategy.None).processBatch([[1, 2], [3]]);
    expect(() => attentionMask4d(ragged)).toThrow(/ragged/);
  });

  it('property: block-diagonal mask of packed rows allows exactly same-segment (causal) pairs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 12 }), fc.boolean(), (lengths, causal) => {
        const packed = packSequences(lengths.map((n) => new Array(n).fill(5)), { maxLength: 12 });
        const mask = blockDiagonalMask(packed.segmentIds, packed.rows, packed.sequenceLength, { causal });
        const L = packed.sequenceLength;
        for (let r = 0; r < packed.rows; r++)
          for (let q = 0; q < L; q++)
            for (let k = 0; k < L; k++) {
              const sq = packed.segmentIds[r * L + q];
              const sk = packed.segmentIds[r * L + k];
              const allowed = sq !== 0 && sq === sk && (!causal || k <= q);
              expect(mask.data[(r * L + q) * L + k]).toBe(allowed ? 1 : 0);
            }
      }),
      { numRuns: 100, seed: 9 },
    );
  });
});

describe('mask inputs that used to pass unchecked', () => {
  const batch = new SequenceManager().withPaddingSide('left').processBatch([[5, 6, 7], [8]]);

  it('options.causal must be a boolean (the string "false" is not false)', () => {
    expect(() => attentionMask4d(batch, { causal: 'false' as never })).toThrow('[attentionMask4d] options.causal must be true or false, got "false"');
    expect(errorCode(() => attentionMask4d(batch, { causal: 0 as never }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(errorCode(() => blockDiagonalMask(Int32Array.of(1, 1), 1, 2, { causal: NaN as never }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(attentionMask4d(batch, { causal: false }).data).toEqual(attentionMask4d(batch, { causal: false }).data);
  });

  it('a maskedValue that is not a finite value of the dtype is refused (it would make -Infinity)', () => {
    const mask = causalMask(2);
    expect(() => toAdditiveMask(mask, { maskedValue: -1e39 })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => toAdditiveMask(mask, { maskedValue: -Infinity, dtype: 'float64' })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    // float64 holds -1e39.
    expect(Array.from(toAdditiveMask(mask, { maskedValue: -1e39, dtype: 'float64' }).data)).toEqual([0, -1e39, 0, 0]);
  });

  it('a shape that does not match the data is refused', () => {
    expect(() => toAdditiveMask({ data: new Uint8Array(3), shape: [5, 5] })).toThrow('[toAdditiveMask] mask.data has 3 entries but mask.shape [5, 5] holds 25');
    expect(errorCode(() => toAdditiveMask({ data: new Uint8Array(4), shape: [2, -2] }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
  });

  it('blockDiagonalMask refuses negative segment ids and a segment split in two runs', () => {
    expect(() => blockDiagonalMask(Int32Array.of(-1, -1, 0), 1, 3)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => blockDiagonalMask(Int32Array.of(1, 2, 1), 1, 3, { causal: false })).toThrow(
      '[blockDiagonalMask] segment 1 of row 0 is not one contiguous run of positions (it starts again at position 2)',
    );
    // Padding may sit anywhere; one segment per row may repeat across rows.
    expect(Array.from(blockDiagonalMask(Int32Array.of(1, 0, 1, 1), 2, 2, { causal: false }).data)).toEqual([1, 0, 0, 0, 1, 1, 1, 1]);
  });
});
