// Measures one implementation's load in a fresh process: RSS and JS heap after
// loading LLaMA-3, minus the same after importing the library (so only the
// tokenizer's own memory counts). Prints one JSON line.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [implementation, tokenizerJson, configJson] = process.argv.slice(2);
const require = createRequire(import.meta.url);
let load;
if (implementation === 'bitnet') {
  const { loadHfTokenizer } = await import('../dist/index.js');
  load = () => loadHfTokenizer(tokenizerJson);
} else if (implementation === 'hf-native') {
  const { Tokenizer } = require('tokenizers');
  load = () => Tokenizer.fromFile(tokenizerJson);
} else {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  load = () => new Tokenizer(JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')), JSON.parse(fs.readFileSync(configJson, 'utf8')));
}
globalThis.gc();
const before = process.memoryUsage();
const started = performance.now();
const tokenizer = load();
const loadMs = performance.now() - started;
globalThis.gc();
const after = process.memoryUsage();
console.log(JSON.stringify({ implementation, loadMs, rssMb: (after.rss - before.rss) / 1e6, heapMb: (after.heapUsed - before.heapUsed) / 1e6, keep: typeof tokenizer }));
