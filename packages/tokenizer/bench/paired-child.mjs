// The batched speed-up, paired, in a fresh process: one-thread and encodeBatch
// cold passes alternate over the same corpus, and each pair gives one ratio.
// A process of its own, away from the suite's garbage and the peers' heaps: run
// in the bench's process, the first pair's batched pass took 2.5–3× the others
// in two of three full runs. Each pass starts after a full GC (run with
// --expose-gc), so neither pays for the other's garbage. Prints one JSON line.
//
// Each pair also measures what this host gives `threads` threads of this very work: `threads`
// worker threads, each with its own tokenizer and the same texts (every threads-th one), encode
// them cold, first one alone, then all at once, with no batching code. capacity = threads ×
// alone / together: `threads` on a host whose threads do not slow each other, less where they
// share a core's units (SMT siblings under a VM) or other processes hold a core. encodeBatch's
// ratio over it is the batching's own efficiency.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { loadHfTokenizer, releaseWorkers } from '../dist/index.js';

const [tokenizerJson, corpusFile, threadsArg, pairsArg] = process.argv.slice(2);
const texts = JSON.parse(fs.readFileSync(corpusFile, 'utf8'));
const threads = Number(threadsArg);
const tokenizer = loadHfTokenizer(tokenizerJson);
// Warm-up: compiles both paths and starts the workers. Three batched passes: after one, a
// worker has encoded half the corpus once, and the first timed batched pass ran 10–25%
// slower than the rest (first-pair ratios 1.23–1.44 against 1.59–1.90 with three; the
// one-thread pass was not slower first).
tokenizer.clearCache();
for (const text of texts) tokenizer.encode(text);
for (let i = 0; i < 3; i++) {
  tokenizer.clearCache();
  await tokenizer.encodeBatch(texts, { threads });
}
const shared = texts.filter((_, i) => i % threads === 0);
const encoders = await Promise.all(
  Array.from({ length: threads }, () => new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./capacity-worker.mjs', import.meta.url), { workerData: { tokenizerJson, texts: shared } });
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  })),
);
const pass = (worker) => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage('go'); });
const pairs = [];
for (let i = 0; i < Number(pairsArg); i++) {
  tokenizer.clearCache();
  globalThis.gc?.();
  let started = performance.now();
  for (const text of texts) tokenizer.encode(text);
  const singleMs = performance.now() - started;
  tokenizer.clearCache();
  globalThis.gc?.();
  started = performance.now();
  await tokenizer.encodeBatch(texts, { threads });
  const batchedMs = performance.now() - started;
  const aloneMs = await pass(encoders[0]);
  started = performance.now();
  await Promise.all(encoders.map(pass));
  const togetherMs = performance.now() - started;
  const capacity = (threads * aloneMs) / togetherMs;
  const ratio = singleMs / batchedMs;
  pairs.push({ singleMs, batchedMs, ratio, aloneMs, togetherMs, capacity, efficiency: ratio / capacity });
}
releaseWorkers(tokenizer);
await Promise.all(encoders.map((worker) => worker.terminate()));
console.log(JSON.stringify(pairs));
