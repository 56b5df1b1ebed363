import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeBatchLengths, bucketByLength, createBatches, packSequences, paddingWaste, percentile } from './index.js';
import { createRandom } from './random.js';
import { errorCode } from './testing/error-code.js';

/** A realistic length distribution: log-normal (median ~120 tokens, long tail), clipped to [4, 1024]. */
function realisticLengths(count: number, seed: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.min(1024, Math.max(4, Math.round(Math.exp(4.8 + 0.9 * normal))));
  });
}

describe('createBatches', () => {
  it('property: every index exactly once, budgets respected, batch facts exact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 300, max: 4000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom<'sorted' | 'bucketed' | 'sequential'>('sorted', 'bucketed', 'sequential'),
        fc.boolean(),
        fc.integer(),
        fc.option(fc.constantFrom(1, 8), { nil: undefined }),
        (lengths, maxTokens, maxBatchSize, strategy, shuffle, seed, multiple) => {
          const batches = createBatches(lengths, { maxTokens: Math.max(maxTokens, 304), maxBatchSize, strategy, boundaries: [32, 64, 128, 256], shuffle, seed, padToMultipleOf: multiple });
          const seen = new Int32Array(lengths.length);
          for (const batch of batches) {
            expect(batch.indices.length).toBeGreaterThan(0);
            expect(batch.indices.length).toBeLessThanOrEqual(maxBatchSize);
            expect(batch.indices.length * batch.paddedLength).toBeLessThanOrEqual(Math.max(maxTokens, 304));
            const ls = Array.from(batch.indices, (i) => lengths[i]);
            expect(batch.maxLength).toBe(Math.max(...ls));
            expect(batch.tokens).toBe(ls.reduce((a, b) => a + b, 0));
            expect(batch.paddingTokens).toBe(batch.indices.length * batch.paddedLength - batch.tokens);
            for (const i of batch.indices) seen[i]++;
          }
          expect(Array.from(seen).every((n) => n === 1)).toBe(true);
          // Same seed, same batches.
          expect(createBatches(lengths, { maxTokens: Math.max(maxTokens, 304), maxBatchSize, strategy, boundaries: [32, 64, 128, 256], shuffle, seed, padToMultipleOf: multiple })).toEqual(batches);
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });

  it('bucketing and packing waste less padding than naive batching on a realistic length distribution', () => {
    const lengths = realisticLengths(20_000, 42);
    const naive = paddingWaste(createBatches(lengths, { maxBatchSize: 32, strategy: 'sequential' }));
    const bucketed = paddingWaste(createBatches(lengths, { maxBatchSize: 32, boundaries: [32, 64, 128, 256, 512], shuffle: true, seed: 1 }));
    const sorted = paddingWaste(createBatches(lengths, { maxBatchSize: 32, shuffle: true, seed: 1 }));
    const packed = packSequences(lengths.map((n) => new Int32Array(n)), { maxLength: 1024 });
    expect(naive.paddingRate).toBeGreaterThan(0.5);
    expect(bucketed.paddingRate).toBeLessThan(naive.paddingRate / 2);
    expect(sorted.paddingRate).toBeLessThan(naive.paddingRate / 2);
    expect(packed.paddingRate).toBeLessThan(0.02);
    expect(naive.tokens).toBe(bucketed.tokens);
  });

  it('a sequence longer than the token budget is an error', () => {
    expect(() => createBatches([10, 5000], { maxTokens: 4096 })).toThrow(/sequence 1 has 5000 tokens/);
  });

  it('null options mean none (typed errors name what is missing), non-objects are rejected', () => {
    expect(() => createBatches([1, 2], null as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[createBatches] needs maxTokens, maxBatchSize or both' }));
    expect(() => createBatches([1, 2], 'x' as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[createBatches\] options must be an object/) }));
    expect(analyzeBatchLengths([1, 2, 3], null as never)).toEqual(analyzeBatchLengths([1, 2, 3]));
    expect(() => analyzeBatchLengths([1], 3 as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
  });
});

describe('bucketByLength', () => {
  it('puts each length in the first bucket whose bound is >= it', () => {
    const buckets = bucketByLength([1, 32, 33, 64, 65, 1000], [32, 64]);
    expect(buckets.map((b) => Array.from(b))).toEqual([[0, 1], [2, 3], [4, 5]]);
  });
});

describe('analyzeBatchLengths', () => {
  it('property: statistics equal a float64 reference', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }), (lengths) => {
        const analysis = analyzeBatchLengths(lengths, { bins: 7 });
        const sorted = [...lengths].sort((a, b) => a - b);
        const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
        expect(analysis.min).toBe(sorted[0]);
        expect(analysis.max).toBe(sorted.at(-1));
        expect(analysis.mean).toBeCloseTo(mean, 9);
        expect(analysis.standardDeviation).toBeCloseTo(Math.sqrt(lengths.reduce((s, x) => s + (x - mean) ** 2, 0) / lengths.length), 6);
        const mid = sorted.length >> 1;
        expect(analysis.median).toBe(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
        expect(analysis.histogram.counts.reduce((a, b) => a + b, 0)).toBe(lengths.length);
        expect(analysis.paddingIfSingleBatch).toBe(sorted.at(-1)! * lengths.length - lengths.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 200, seed: 2 },
    );
  });
  it('percentiles interpolate linearly like numpy', () => {
    // numpy.percentile([1, 2, 3, 4], [0, 25, 90]) == [1, 1.75, 3.7]
    expect([0, 25, 90].map((p) => percentile([1, 2, 3, 4], p))).toEqual([1, 1.75, 3.7]);
    expect(analyzeBatchLengths([[1, 2], [3], [4, 5, 6]]).max).toBe(3);
  });
});

describe('inputs that used to pass unchecked', () => {

  it('createBatches: shuffle must be a boolean, the seed must fit the generator, boundaries must increase', () => {
    expect(() => createBatches([3, 1, 2], { maxBatchSize: 1, shuffle: 'no' as never })).toThrow('[createBatches] options.shuffle must be true or false, got "no"');
    expect(errorCode(() => createBatches([3, 1, 2], { maxBatchSize: 1, shuffle: true, seed: 2 ** 53 }))).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(errorCode(() => createBatches([3, 1, 2], { maxBatchSize: 1, strategy: 'sorted', boundaries: [5, 2] }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    // Seeds that agree in their low 32 bits still shuffle differently (the generator used to drop the rest).
    const order = (seed: number) => createBatches(Array.from({ length: 12 }, (_, i) => i + 1), { maxBatchSize: 1, shuffle: true, seed }).map((b) => b.indices[0]).join();
    expect(order(1)).not.toBe(order(1 + 2 ** 32));
    expect(order(-1)).not.toBe(order(2 ** 32 - 1));
    expect(order(Date.UTC(2026, 0, 1))).toBe(order(Date.UTC(2026, 0, 1)));
  });

  it('paddingWaste refuses what is not a list of batches instead of returning NaN', () => {
    expect(() => paddingWaste(null as never)).toThrow('[paddingWaste] batches must be an array of batches from createBatches, got null');
    expect(errorCode(() => paddingWaste([{}] as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(paddingWaste(createBatches([1, 2, 3], { maxBatchSize: 3 }))).toEqual({ tokens: 6, paddingTokens: 3, cells: 9, paddingRate: 1 / 3 });
  });

  it('analyzeBatchLengths and percentile refuse bad options with typed errors', () => {
    expect(errorCode(() => analyzeBatchLengths([1, 2], { percentiles: 50 as never }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(errorCode(() => analyzeBatchLengths([1, 2], { bins: 2 ** 32 }))).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(errorCode(() => percentile(null as never, 50))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(errorCode(() => percentile([1, 2], 150))).toBe('ERR_BITNET_OUT_OF_RANGE');
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('analyzeBatchLengths histogram', () => {
  it('counts what numpy.histogram counts (expected values computed with numpy 2.4)', () => {
    // numpy.histogram(values, bins)[0] for each case.
    const cases: Array<[number[], number, number[]]> = [
      [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 58, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]],
      [[3, 7, 7, 20, 21, 22, 100], 9, [3, 3, 0, 0, 0, 0, 0, 0, 1]],
      [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 7, [2, 2, 2, 1, 2, 2, 2]],
      [[5, 5, 5], 4, [0, 0, 3, 0]],
      [Array.from({ length: 34 }, (_, i) => 3 * i), 29, [2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2]],
    ];
    for (const [values, bins, counts] of cases) expect(analyzeBatchLengths(values, { bins }).histogram.counts, `${bins} bins`).toEqual(counts);
    expect(analyzeBatchLengths([5, 5, 5], { bins: 4 }).histogram.edges).toEqual([4.5, 4.75, 5, 5.25, 5.5]);
  });

  it('property: bin k holds exactly the lengths in [edges[k], edges[k+1]) (the last bin its right edge too)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (lengths, bins) => {
        const { edges, counts } = analyzeBatchLengths(lengths, { bins }).histogram;
        const expected = counts.map((_, k) => lengths.filter((x) => x >= edges[k]! && (x < edges[k + 1]! || (k === bins - 1 && x <= edges[k + 1]!))).length);
        expect(counts).toEqual(expected);
      }),
      { numRuns: 400, seed: 6 },
    );
  });
});
