// One of the paired bench's capacity encoders: its own tokenizer, the same texts as the others
// (so alone and together time the same work), cold cache each pass, no batching code
// (see paired-child.mjs).
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
