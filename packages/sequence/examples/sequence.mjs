// Sequence batching: pad and truncate token sequences into dense model-ready
// batches, build masks, and see how bucketing cuts padding.
//   node examples/sequence.mjs
import {
  PaddingStrategy,
  SequenceManager,
  TruncationStrategy,
  analyzeBatchLengths,
  createBatches,
  createProcessingSummary,
} from '@bitnet/sequence';

const manager = new SequenceManager()
  .withMaxLength(8)
  .withPaddingStrategy(PaddingStrategy.LongestInBatch)
  .withTruncationStrategy(TruncationStrategy.TruncateRight)
  .withPadTokenId(0)
  .withStatistics();

const batch = manager.processBatch([[5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15, 16, 17], [18]]);
console.log(`batch shape [${batch.batchSize}, ${batch.sequenceLength}]`);
for (let row = 0; row < batch.batchSize; row++) {
  const ids = batch.inputIds.subarray(row * batch.sequenceLength, (row + 1) * batch.sequenceLength);
  const mask = batch.attentionMask.subarray(row * batch.sequenceLength, (row + 1) * batch.sequenceLength);
  console.log(`  ids ${[...ids].join(' ').padEnd(24)} mask ${[...mask].join('')}`);
}
const summary = createProcessingSummary(batch);
console.log(`truncation rate ${summary.truncationRate().toFixed(2)}, padding rate ${summary.paddingRate().toFixed(2)}`);

// 1,000 sequences of realistic lengths: naive batches vs length buckets.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const sequences = Array.from({ length: 1000 }, () => Array.from({ length: 1 + Math.floor(Math.exp(3 + 1.2 * random() * 2)) }, (_, i) => i + 1));
console.log('lengths:', JSON.stringify(analyzeBatchLengths(sequences), (key, value) => (key === 'histogram' ? undefined : value)));
for (const strategy of ['sequential', 'bucketed', 'sorted']) {
  const batches = createBatches(sequences, { maxBatchSize: 32, strategy, boundaries: [32, 64, 128], shuffle: true, seed: 1 });
  let cells = 0;
  let tokens = 0;
  for (const batch of batches) {
    cells += batch.paddedLength * batch.indices.length;
    tokens += batch.tokens;
  }
  console.log(`${strategy.padEnd(10)} ${batches.length} batches, padding ${(100 * (1 - tokens / cells)).toFixed(1)}% of cells`);
}
