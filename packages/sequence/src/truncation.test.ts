import { describe, expect, it } from 'vitest';
import { isBitNetError } from '@bitnet/errors';
import { longestFirstLengths, PaddingStrategy, SequenceManager, truncationWindows, TruncationStrategy } from './index.js';

// tokenizers/src/utils/truncation.rs, truncate_encodings_longest_first (max_length 7): (n1, n2) -> expected.
const TRUNCATE_ENCODINGS_TABLE: Array<[number, number, number, number]> = [
  [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
  [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
  [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
  [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
];

describe('longestFirstLengths', () => {
  it("rule 'truncate-encodings' matches HF truncate_encodings' own unit-test table (max_length 7)", () => {
    for (const [a, b, ea, eb] of TRUNCATE_ENCODINGS_TABLE) {
      expect(longestFirstLengths(a, b, 7, { rule: 'truncate-encodings' }), `${a},${b}`).toEqual([ea, eb]);
    }
  });

  it('default rule: the same table holds with budget = max_length (no special tokens)', () => {
    // Capping at 7 only turns the 8s into 7s, which keeps every row's order ((8, 8) was a tie already),
    // so without special tokens the whole table still holds under tokenizers 0.23.2.
    for (const [a, b, ea, eb] of TRUNCATE_ENCODINGS_TABLE) expect(longestFirstLengths(a, b, 7), `${a},${b}`).toEqual([ea, eb]);
  });

  it('default rule: kept lengths measured with tokenizers 0.23.2 (WordLevel, whitespace, no template)', () => {
    // (first, second, maxLength) -> kept, measured with Tokenizer.setTruncation(max, LongestFirst), both directions.
    const measured: Array<[number, number, number, number, number]> = [
      [10, 9, 7, 3, 4], [12, 8, 7, 3, 4], [10, 9, 8, 4, 4], [8, 3, 7, 4, 3], [9, 10, 7, 3, 4], [20, 10, 7, 3, 4],
    ];
    for (const [a, b, max, ea, eb] of measured) expect(longestFirstLengths(a, b, max), `${a},${b} max ${max}`).toEqual([ea, eb]);
    // The old rule gives the odd token to the longer part instead.
    expect(longestFirstLengths(10, 9, 7, { rule: 'truncate-encodings' })).toEqual([4, 3]);
  });

  it('default rule: the cap is the whole max length, special tokens included (tokenizers 0.23.2, BERT/LLaMA templates)', () => {
    // Measured, both directions: LLaMA-style pair template (2 added), max 11, budget 9: (33, 9) keeps (5, 4), the
    // first part capped at 11, not at the budget 9 (which would tie and keep (4, 5)). BERT (3 added), max 4:
    // (25, 1) -> (1, 0). BERT, max 28: (33, 25) -> (13, 12) but (33, 30) -> (12, 13), both parts at the cap.
    expect(longestFirstLengths(33, 9, 9, { maxLength: 11 })).toEqual([5, 4]);
    expect(longestFirstLengths(33, 9, 9)).toEqual([4, 5]);
    expect(longestFirstLengths(25, 1, 1, { maxLength: 4 })).toEqual([1, 0]);
    expect(longestFirstLengths(33, 25, 25, { maxLength: 28 })).toEqual([13, 12]);
    expect(longestFirstLengths(33, 30, 25, { maxLength: 28 })).toEqual([12, 13]);
  });

  it('the rules differ exactly when the first part is longer, the second reaches max_length and the budget is odd', () => {
    const wrong: string[] = [];
    let differing = 0;
    for (let added = 0; added <= 3; added++) {
      for (let maxLength = added + 1; maxLength <= 20; maxLength++) {
        const budget = maxLength - added;
        for (let a = 0; a <= 30; a++) {
          for (let b = 0; b <= 30; b++) {
            const now = longestFirstLengths(a, b, budget, { maxLength });
            const old = longestFirstLengths(a, b, budget, { maxLength, rule: 'truncate-encodings' });
            const differs = a > b && b >= maxLength && budget % 2 === 1;
            const expected = differs ? [old[0] - 1, old[1] + 1] : old;
            if (now[0] + now[1] !== Math.min(a + b, budget) || now.join() !== expected.join()) wrong.push(`${a},${b} budget ${budget} max ${maxLength}: ${now}`);
            if (differs) differing++;
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(differing).toBeGreaterThan(1000);
  });

  it('rejects bad arguments with typed errors', () => {
    for (const call of [
      () => longestFirstLengths(-1, 2, 3),
      () => longestFirstLengths(1.5, 2, 3),
      () => longestFirstLengths(4, 2, 3, { maxLength: 2 }),
      () => longestFirstLengths(4, 2, 3, { rule: 'newest' as never }),
    ]) {
      expect(call).toThrow();
      try {
        call();
      } catch (error) {
        expect(isBitNetError(error)).toBe(true);
      }
    }
  });

  it('manager: the second part gets the odd token when both reach max_length (0.23.2); the old rule is an option', () => {
    const input = [[new Int32Array(20).fill(1), new Int32Array(10).fill(2)]] as const;
    const manager = new SequenceManager().withMaxLength(7).withTruncationStrategy(TruncationStrategy.LongestFirst).withPaddingStrategy(PaddingStrategy.None);
    expect(Array.from(manager.processBatch(input).inputIds)).toEqual([1, 1, 1, 2, 2, 2, 2]);
    expect(manager.options.longestFirstRule).toBe('tokenizers-0.23');
    manager.withLongestFirstRule('truncate-encodings');
    expect(Array.from(manager.processBatch(input).inputIds)).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(manager.clone().processBatch(input).inputIds)).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect(() => manager.withLongestFirstRule('hf' as never)).toThrow(/unknown rule/);
    expect(manager.options.longestFirstRule).toBe('truncate-encodings');
    const fromOptions = new SequenceManager({ maxLength: 7, truncationStrategy: 'truncate-left', paddingStrategy: 'none', longestFirstRule: 'truncate-encodings' });
    expect(Array.from(fromOptions.processBatch(input).inputIds)).toEqual([1, 1, 1, 1, 2, 2, 2]);
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
