import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createProcessingSummary,
  estimateMemoryUsage,
  PaddingStrategy,
  parseTemplate,
  ProcessingSummary,
  SequenceManager,
  TruncationStrategy,
  type SequenceInput,
} from './index.js';

const expectCode = (fn: () => unknown, code: string, message?: RegExp) => {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
};

describe('SequenceManager', () => {
  it('pads to the longest, right side, with per-sequence views', () => {
    const batch = new SequenceManager().withPadTokenId(9).processBatch([[1, 2, 3], new Int32Array([4])]);
    expect(batch.shape).toEqual([2, 3]);
    expect(Array.from(batch.inputIds)).toEqual([1, 2, 3, 4, 9, 9]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(batch.tokenTypeIds).toBeNull();
    const [first, second] = batch.sequences;
    expect([first.originalLength, first.currentLength, first.wasPadded, first.wasTruncated]).toEqual([3, 3, false, false]);
    expect([second.currentLength, second.wasPadded, second.paddingLength]).toEqual([1, true, 2]);
    expect(Array.from(second.tokens)).toEqual([4, 9, 9]);
  });

  it('left padding, max-length padding, multiple-of rounding and processBatch pad override', () => {
    const batch = new SequenceManager()
      .withMaxLength(5)
      .withPaddingStrategy(PaddingStrategy.MaxLength)
      .withPaddingSide('left')
      .withPadToMultipleOf(4)
      .processBatch([[7, 8]], 3);
    expect(batch.shape).toEqual([1, 8]);
    expect(Array.from(batch.inputIds)).toEqual([3, 3, 3, 3, 3, 3, 7, 8]);
    expect(batch.padTokenId).toBe(3);
  });

  it('None padding gives a ragged batch with row offsets', () => {
    const batch = new SequenceManager().withPaddingStrategy(PaddingStrategy.None).processBatch([[1, 2, 3], [4]]);
    expect(batch.layout).toBe('ragged');
    expect(batch.shape).toBeNull();
    expect(Array.from(batch.rowOffsets)).toEqual([0, 3, 4]);
    expect(Array.from(batch.inputIds)).toEqual([1, 2, 3, 4]);
    expect(batch.paddingTokens).toBe(0);
  });

  it('pairs get token type ids and the template special tokens', () => {
    const template = parseTemplate('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', { '[CLS]': 101, '[SEP]': 102 });
    const manager = new SequenceManager().withSpecialTokens(template);
    const batch = manager.processBatch([[[5, 6], [7]], [8]]);
    expect(Array.from(batch.sequences[0].tokens)).toEqual([101, 5, 6, 102, 7, 102]);
    expect(Array.from(batch.sequences[0].tokenTypeIds!)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(Array.from(batch.sequences[1].tokens)).toEqual([101, 8, 102, 0, 0, 0]);
    expect(Array.from(batch.sequences[1].specialTokensMask!)).toEqual([1, 0, 1, 1, 1, 1]);
  });

  it('rejects bad inputs with typed errors that name the sequence and values', () => {
    const manager = new SequenceManager().withVocabSize(100);
    expectCode(() => manager.processBatch([[1], []]), 'ERR_BITNET_INVALID_ARGUMENT', /sequence 1 is empty/);
    expectCode(() => manager.processBatch([[1, 2.5]]), 'ERR_BITNET_INVALID_ARGUMENT', /non-integer token id 2\.5 at position 1/);
    expectCode(() => manager.processBatch([[1, Number.NaN]]), 'ERR_BITNET_INVALID_ARGUMENT', /non-integer/);
    expectCode(() => manager.processBatch([[1, 100]]), 'ERR_BITNET_OUT_OF_RANGE', /token id 100 at position 1, outside the vocabulary of size 100/);
    expectCode(() => manager.processBatch([new Int32Array([3, -1])]), 'ERR_BITNET_OUT_OF_RANGE', /-1 at position 1/);
    expectCode(() => manager.processBatch([]), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => manager.processBatch(['abc' as unknown as SequenceInput]), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => new SequenceManager().withMaxLength(0), 'ERR_BITNET_OUT_OF_RANGE');
    expectCode(() => new SequenceManager().withMaxLength(2.5), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => new SequenceManager().withPaddingStrategy('sideways' as never), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => new SequenceManager().withPaddingStrategy(PaddingStrategy.Fixed), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => new SequenceManager().withPaddingSide('up' as never), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => manager.withPadTokenId(100), 'ERR_BITNET_OUT_OF_RANGE');
  });

  it('DoNotTruncate with a too-long input is an error naming the sequence and lengths', () => {
    const manager = new SequenceManager().withMaxLength(3).withTruncationStrategy(TruncationStrategy.DoNotTruncate);
    expectCode(() => manager.processBatch([[1], [1, 2, 3, 4]]), 'ERR_BITNET_OUT_OF_RANGE', /sequence 1 has 4 tokens, more than maxLength 3/);
  });

  it('max length below the special tokens is an error; equal to them keeps only them (hf-oracle.test.ts)', () => {
    const manager = new SequenceManager()
      .withMaxLength(1)
      .withSpecialTokens(parseTemplate('[CLS] $A [SEP]', undefined, { '[CLS]': 1, '[SEP]': 2 }));
    expectCode(() => manager.processBatch([[5, 6, 7]]), 'ERR_BITNET_OUT_OF_RANGE', /maxLength 1 is less than the 2 special tokens the template adds to sequence 0/);
    expect(manager.clone().withMaxLength(2).processBatch([[5, 6, 7]]).inputIds).toEqual(new Int32Array([1, 2]));
    // Short enough inputs need no truncation and are fine.
    expect(manager.clone().withMaxLength(3).processBatch([[5]]).inputIds).toEqual(new Int32Array([1, 5, 2]));
  });

  it('OnlyFirst / OnlySecond errors mirror HF', () => {
    const manager = new SequenceManager().withMaxLength(4).withTruncationStrategy(TruncationStrategy.OnlySecond);
    expectCode(() => manager.processBatch([[1, 2, 3, 4, 5]]), 'ERR_BITNET_INVALID_ARGUMENT', /not a pair/);
    expectCode(() => manager.processBatch([[[1, 2, 3, 4, 5], [6]]]), 'ERR_BITNET_OUT_OF_RANGE', /OnlySecond must remove 2 tokens but the second sequence has only 1/);
  });

  it('null options and special-token maps mean none; non-objects are typed errors', () => {
    expect(new SequenceManager(null as never).options).toEqual(new SequenceManager().options);
    expect(() => new SequenceManager(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[SequenceManager\] options must be an object/) }));
    expect(parseTemplate('$A', '$A $B:1', null as never)).toEqual(parseTemplate('$A', '$A $B:1', {}));
    expectCode(() => parseTemplate('[X] $A', undefined, null as never), 'ERR_BITNET_INVALID_ARGUMENT', /^\[parseTemplate\] template token "\[X\]" is not in specialTokens/);
    expectCode(() => parseTemplate('[X] $A', undefined, 'x' as never), 'ERR_BITNET_INVALID_ARGUMENT', /^\[parseTemplate\] specialTokens must be an object/);
  });

  it('a failed call leaves the manager unchanged', () => {
    const manager = new SequenceManager().withMaxLength(8).withStatistics();
    const before = manager.options;
    expect(() => manager.withMaxLength(-1)).toThrow();
    expect(() => manager.processBatch([[1], []])).toThrow();
    expect(manager.options).toEqual(before);
    expect(manager.statistics!.totalSequences).toBe(0);
  });

  it('overflow rows with stride map back to their input', () => {
    const batch = new SequenceManager().withMaxLength(4).withOverflow(true, 1).processBatch([[1, 2, 3, 4, 5, 6], [7]]);
    expect(Array.from(batch.sampleMapping)).toEqual([0, 0, 1]);
    expect(Array.from(batch.windowIndices)).toEqual([0, 1, 0]);
    expect(Array.from(batch.inputIds)).toEqual([1, 2, 3, 4, 4, 5, 6, 0, 7, 0, 0, 0]);
  });

  it('property: lengths, masks, statistics and the memory estimate stay consistent', () => {
    const input = fc.array(fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        input,
        fc.integer({ min: 1, max: 48 }),
        fc.constantFrom(...Object.values(PaddingStrategy)),
        fc.constantFrom<'left' | 'right'>('left', 'right'),
        fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
        fc.boolean(),
        (sequences, maxLength, padding, side, multiple, overflow) => {
          const manager = new SequenceManager().withMaxLength(maxLength).withPaddingSide(side).withPadTokenId(1000).withStatistics();
          manager.withPaddingStrategy(padding, padding === PaddingStrategy.Fixed ? maxLength + 3 : undefined);
          if (multiple) manager.withPadToMultipleOf(multiple);
          if (overflow) manager.withOverflow(true, Math.floor(maxLength / 2) % Math.max(1, maxLength));
          const estimate = estimateMemoryUsage(sequences, manager);
          const batch = manager.processBatch(sequences);
          expect(estimate.inputIdsBytes).toBe(batch.inputIds.byteLength);
          expect(estimate.attentionMaskBytes).toBe(batch.attentionMask.byteLength);
          expect(estimate.tokenTypeIdsBytes).toBe(batch.tokenTypeIds?.byteLength ?? 0);
          expect(estimate.rows).toBe(batch.batchSize);
          let real = 0;
          for (const row of batch.sequences) {
            const mask = Array.from(row.attentionMask);
            const ones = mask.filter((m) => m === 1).length;
            expect(ones).toBe(row.currentLength);
            expect(row.currentLength).toBeLessThanOrEqual(maxLength);
            // Real tokens are contiguous, on the side away from the padding, and padding holds the pad id.
            const firstOne = mask.indexOf(1);
            expect(firstOne).toBe(side === 'left' ? mask.length - ones : 0);
            Array.from(row.tokens).forEach((id, k) => expect(id === 1000).toBe(mask[k] === 0));
            const source = sequences[row.sampleIndex];
            const content = Array.from(row.tokens).filter((_, k) => mask[k] === 1);
            // Each row is a contiguous slice of its input.
            const joined = `,${source.join(',')},`;
            expect(joined.includes(`,${content.join(',')},`)).toBe(true);
            if (!overflow && row.wasTruncated) expect(content).toEqual(source.slice(0, maxLength));
            real += row.currentLength;
          }
          if (overflow) {
            // The windows of each input cover all of it.
            for (let s = 0; s < sequences.length; s++) {
              const covered = batch.sequences.filter((row) => row.sampleIndex === s).reduce((n, row) => n + row.currentLength, 0);
              expect(covered).toBeGreaterThanOrEqual(sequences[s].length);
            }
          }
          const summary = createProcessingSummary(batch);
          expect(summary.totalSequences).toBe(sequences.length);
          expect(summary.totalFinalTokens).toBe(real);
          expect(summary.paddingTokens).toBe(batch.totalCells - real);
          expect(summary.paddingRate()).toBeCloseTo(batch.totalCells ? (batch.totalCells - real) / batch.totalCells : 0, 12);
          expect(summary.totalOriginalTokens).toBe(sequences.reduce((n, s) => n + s.length, 0));
          expect(summary.truncationRate()).toBeCloseTo(sequences.filter((s) => s.length > maxLength).length / sequences.length, 12);
          expect(summary.avgOriginalLength()).toBeCloseTo(summary.totalOriginalTokens / sequences.length, 12);
          expect(manager.statistics!.toJSON()).toEqual(summary.toJSON());
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('summaries and estimates refuse what they cannot read', () => {
  it('createProcessingSummary, ProcessingSummary and estimateMemoryUsage give typed errors instead of TypeErrors or NaN', () => {
    expectCode(() => createProcessingSummary(null as never), 'ERR_BITNET_INVALID_ARGUMENT', /^\[createProcessingSummary\] batch must be a SequenceBatch/);
    expectCode(() => createProcessingSummary({} as never), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => estimateMemoryUsage([[1, 2]], null as never), 'ERR_BITNET_INVALID_ARGUMENT', /^\[estimateMemoryUsage\] manager must be a SequenceManager/);
    expectCode(() => estimateMemoryUsage([[1, 2]], {} as never), 'ERR_BITNET_INVALID_ARGUMENT');
    const summary = createProcessingSummary(new SequenceManager().processBatch([[1, 2], [3]]));
    expectCode(() => summary.merge(undefined as never), 'ERR_BITNET_INVALID_ARGUMENT');
    expectCode(() => summary.merge({} as never), 'ERR_BITNET_INVALID_ARGUMENT', /totalSequences must be a non-negative integer, got undefined/);
    expectCode(() => new ProcessingSummary({ totalRows: -1 }), 'ERR_BITNET_INVALID_ARGUMENT');
    // A failed merge changes nothing; a good one adds.
    expect(summary.totalSequences).toBe(2);
    expect(summary.merge(summary.toJSON()).totalSequences).toBe(4);
    expect(new ProcessingSummary({ totalRows: 3 }).totalRows).toBe(3);
  });
});
