// The batched speed-up, paired, in a fresh process: one-thread and encodeBatch
// cold passes alternate over the same corpus, and each pair gives one ratio.
// A process of its own, away from the suite's garbage and the peers' heaps: run
// in the bench's process, the first pair's batched pass took 2.5–3× the others
// in two of three full runs. Each pass starts after a full GC (run with
// --expose-gc), so neither pays for the other's garbage. Prints one JSON line.
import fs from 'node:fs';
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
  pairs.push({ singleMs, batchedMs, ratio: singleMs / batchedMs });
}
releaseWorkers(tokenizer);
console.log(JSON.stringify(pairs));
