// One of the two independent encoders of the paired bench's ceiling: its own tokenizer, its own
// share of the texts, cold cache each pass, no batching code (see paired-child.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import { loadHfTokenizer } from '../dist/index.js';

const tokenizer = loadHfTokenizer(workerData.tokenizerJson);
for (const text of workerData.texts) tokenizer.encode(text); // warm-up: compile the paths
parentPort.postMessage('ready');
parentPort.on('message', () => {
  tokenizer.clearCache();
  const started = performance.now();
  for (const text of workerData.texts) tokenizer.encode(text);
  parentPort.postMessage(performance.now() - started);
});
