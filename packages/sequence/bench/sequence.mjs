// pnpm --filter @bitnet/sequence bench
// 100k variable-length sequences (log-normal lengths, median ~120 tokens, clipped to [8, 2048]) into dense
// Int32Array batches on one thread, and the padding waste of naive vs bucketed vs packed batching.
import { BenchSuite } from '@bitnet/bench';
import { createBatches, packSequences, paddingWaste, SequenceManager } from '../dist/index.js';

const COUNT = 100_000;
let state = 12345;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const lengths = Array.from({ length: COUNT }, () => {
  const normal = Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  return Math.min(2048, Math.max(8, Math.round(Math.exp(4.8 + 0.9 * normal))));
});
const typed = lengths.map((n) => {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = (random() * 128000) | 0;
  return ids;
});
const plain = typed.map((ids) => Array.from(ids));
const totalTokens = lengths.reduce((a, b) => a + b, 0);

// Token-budget batches (16k cells), sorted by length: the plan is made once, like a data loader's epoch.
const batches = createBatches(lengths, { maxTokens: 16384, maxBatchSize: 256, shuffle: true, seed: 1 });
const plans = batches.map((batch) => Array.from(batch.indices, (i) => typed[i]));
const plansPlain = batches.map((batch) => Array.from(batch.indices, (i) => plain[i]));
const manager = new SequenceManager().withMaxLength(2048).withPadTokenId(128001);
const withVocab = new SequenceManager().withMaxLength(2048).withPadTokenId(128001).withVocabSize(128256);

// Peer: the obvious JS way (pad arrays, then flatten into an Int32Array).
function naiveDense(sequences, pad) {
  const width = Math.max(...sequences.map((s) => s.length));
  const rows = sequences.map((s) => [...s, ...new Array(width - s.length).fill(pad)]);
  const ids = Int32Array.from(rows.flat());
  const mask = Uint8Array.from(sequences.flatMap((s) => [...new Array(s.length).fill(1), ...new Array(width - s.length).fill(0)]));
  return { ids, mask };
}

const suite = new BenchSuite('sequence');
const work = { amount: totalTokens, unit: 'tokens' };
suite.add({ group: 'dense batches, Int32Array inputs', name: 'processBatch', work, run: () => { for (const p of plans) manager.processBatch(p); } });
suite.add({ group: 'dense batches, Int32Array inputs', name: 'processBatch + vocab check', work, run: () => { for (const p of plans) withVocab.processBatch(p); } });
suite.add({ group: 'dense batches, number[] inputs', name: 'processBatch', work, run: () => { for (const p of plansPlain) manager.processBatch(p); } });
suite.add({ group: 'dense batches, number[] inputs', name: 'naive-js', peer: true, work, run: () => { for (const p of plansPlain) naiveDense(p, 128001); }, minIterations: 2 });
suite.add({ group: 'sequences/s', name: 'processBatch', work: { amount: COUNT, unit: 'sequences' }, run: () => { for (const p of plans) manager.processBatch(p); } });
suite.add({ group: 'planning', name: 'createBatches (sorted, 100k)', work: { amount: COUNT, unit: 'sequences' }, run: () => createBatches(lengths, { maxTokens: 16384, maxBatchSize: 256, shuffle: true, seed: 1 }) });
suite.add({ group: 'planning', name: 'packSequences (BFD, 100k)', work, run: () => packSequences(typed, { maxLength: 2048 }), minIterations: 3 });

// Padding waste on the same length distribution.
const naive = paddingWaste(createBatches(lengths, { maxBatchSize: 32, strategy: 'sequential' }));
const bucketed = paddingWaste(createBatches(lengths, { maxBatchSize: 32, boundaries: [64, 128, 256, 512, 1024], shuffle: true, seed: 1 }));
const sorted = paddingWaste(createBatches(lengths, { maxBatchSize: 32, shuffle: true, seed: 1 }));
const packed = packSequences(typed, { maxLength: 2048 });
const pct = (x) => `${(x * 100).toFixed(2)}%`;
suite.note(`lengths: ${COUNT} sequences, ${totalTokens} tokens, mean ${(totalTokens / COUNT).toFixed(1)}, max ${Math.max(...lengths)}`);
suite.note(`padding waste, 32 per batch: naive (input order) ${pct(naive.paddingRate)} of cells (${naive.paddingTokens} pad tokens)`);
suite.note(`padding waste, 32 per batch: bucketed [64,128,256,512,1024] ${pct(bucketed.paddingRate)} (${bucketed.paddingTokens})`);
suite.note(`padding waste, 32 per batch: sorted by length ${pct(sorted.paddingRate)} (${sorted.paddingTokens})`);
suite.note(`padding waste, packed rows of 2048 (best-fit decreasing): ${pct(packed.paddingRate)} (${packed.paddingTokens}), ${packed.rows} rows`);
await suite.run();
