// bitnet's side of the bench, in a process of its own (forked with an IPC
// channel): the bench process calls one operation at a time and times the
// round trip (~0.2 ms next to passes of hundreds of ms). Why a process of its
// own: the bench process holds the peers, the HF reference encodings and id
// arrays (~180 MB of heap), and there the 66 MB of typed arrays that one pass
// over the corpus allocates set off full collections of that heap ("external
// memory pressure", ~100 ms each here) inside the timed passes: a batched pass
// took 475 ms there against 358 ms in a fresh process.
import fs from 'node:fs';
import { createBpeTokenizer, loadHfTokenizer, releaseWorkers } from '../dist/index.js';
import { shortLines } from './corpus.mjs';

const [tokenizerJson, corpusFile, gpt2Vocab, gpt2Merges, threadsArg] = process.argv.slice(2);
const texts = JSON.parse(fs.readFileSync(corpusFile, 'utf8'));
const threads = Number(threadsArg);
const tokenizer = loadHfTokenizer(tokenizerJson);
const gpt2 = createBpeTokenizer(gpt2Vocab, gpt2Merges);
const idsPerDocument = texts.map((text) => tokenizer.encode(text).ids);
const lines = shortLines(texts);

const operations = {
  gc: () => globalThis.gc?.(),
  load: () => void loadHfTokenizer(tokenizerJson),
  clearCache: () => tokenizer.clearCache(),
  encode: () => {
    for (const text of texts) tokenizer.encode(text);
  },
  // Kept, as encodeBatch's are: the one-thread row pays for holding every result too.
  encodeLines: () => void lines.map((line) => tokenizer.encode(line)),
  encodeLinesBatch: async () => void (await tokenizer.encodeBatch(lines, { threads })),
  encodeBatch: async () => void (await tokenizer.encodeBatch(texts, { threads })),
  decode: () => {
    for (const ids of idsPerDocument) tokenizer.decode(ids);
  },
  gpt2ClearCache: () => gpt2.clearCache(),
  gpt2Encode: () => {
    for (const text of texts) gpt2.encode(text);
  },
  cacheSize: () => tokenizer.cacheSize,
  exit: () => {
    releaseWorkers(tokenizer);
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async ({ id, operation }) => {
  try {
    const value = await operations[operation]();
    process.send({ id, value: value ?? null });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
process.send({ ready: true });
