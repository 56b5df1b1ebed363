// Worker entry for encodeBatch: rebuilds the tokenizer from the spec it is
// given once, then claims chunks of each batch it is sent from the shared
// counter until none are left.
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLevelBpeTokenizer, type ByteLevelBpeSpec } from './byte-level-bpe.js';
import { packEncodings, type BatchJob, type WorkerResult } from './batch.js';

const tokenizer = new ByteLevelBpeTokenizer((workerData as { spec: ByteLevelBpeSpec }).spec);

parentPort?.on('message', (message: BatchJob | { clearCache: true }) => {
  if ('clearCache' in message) {
    tokenizer.clearCache();
    return;
  }
  try {
    const { chunks, counter, texts, pairs, addSpecialTokens } = message;
    const result: WorkerResult = { chunks: [], packed: [] };
    const transfer: ArrayBuffer[] = [];
    for (let chunk = Atomics.add(counter, 0, 1); 2 * chunk < chunks.length; chunk = Atomics.add(counter, 0, 1)) {
      const encodings = [];
      for (let i = chunks[2 * chunk]; i < chunks[2 * chunk + 1]; i++) {
        encodings.push(tokenizer.encode(texts[i], { addSpecialTokens, ...(pairs ? { pair: pairs[i] } : {}) }));
      }
      const packed = packEncodings(encodings);
      result.chunks.push(chunk);
      result.packed.push(packed);
      for (const array of [packed.counts, packed.ids, packed.offsets, packed.typeIds, packed.special, packed.sequenceIds]) transfer.push(array.buffer as ArrayBuffer);
    }
    parentPort?.postMessage({ job: message.job, result }, transfer);
  } catch (error) {
    parentPort?.postMessage({ job: message.job, error: error instanceof Error ? error.message : String(error) });
  }
});
