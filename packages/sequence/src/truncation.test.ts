import { describe, expect, it } from 'vitest';
import { longestFirstLengths, PaddingStrategy, SequenceManager, truncationWindows, TruncationStrategy } from './index.js';

describe('longestFirstLengths', () => {
  it("matches HF truncate_encodings' own unit-test table (max_length 7)", () => {
    // tokenizers/src/utils/truncation.rs, truncate_encodings_longest_first: (n1, n2) -> expected.
    const table: Array<[number, number, number, number]> = [
      [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
      [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
      [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
      [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
    ];
    for (const [a, b, ea, eb] of table) expect(longestFirstLengths(a, b, 7), `${a},${b}`).toEqual([ea, eb]);
  });

  it('gives the odd token to the longer part when both exceed the budget (HF 0.22 / truncate_encodings, not the 0.23.x early exit)', () => {
    const batch = new SequenceManager().withMaxLength(7).withTruncationStrategy(TruncationStrategy.LongestFirst).withPaddingStrategy(PaddingStrategy.None).processBatch([
      [new Int32Array(20).fill(1), new Int32Array(10).fill(2)],
    ]);
    expect(Array.from(batch.inputIds)).toEqual([1, 1, 1, 1, 2, 2, 2]);
  });
});

describe('truncationWindows', () => {
  it('right: windows step by maxLength - stride until one reaches the end', () => {
    expect(truncationWindows(13, 7, 2, 'right')).toEqual([[0, 7], [5, 12], [10, 13]]);
    expect(truncationWindows(11, 4, 1, 'right')).toEqual([[0, 4], [3, 7], [6, 10], [9, 11]]);
  });
  it('left: windows end at the end and step back until one starts at 0', () => {
    // The same example HF tokenizers produces with Encoding.truncate(4, 1, "left") on 11 tokens.
    expect(truncationWindows(11, 4, 1, 'left')).toEqual([[7, 11], [4, 8], [1, 5], [0, 2]]);
  });
  it('no cut when the sequence fits; a zero length moves everything to overflow', () => {
    expect(truncationWindows(5, 7, 3, 'right')).toEqual([[0, 5]]);
    expect(truncationWindows(5, 0, 0, 'left')).toEqual([[0, 0], [0, 5]]);
  });
});
