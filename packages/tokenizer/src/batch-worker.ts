// Worker entry for encodeBatch: rebuilds the tokenizer from the spec it is
// given once, then claims chunks of each batch it is sent (its own range first,
// then what is left in the others: batch-schedule.ts) until none are left,
// reading each chunk's texts from shared memory once the calling thread has
// copied them there. Short encodings are made straight in the reply's blocks.
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLevelBpeTokenizer, type ByteLevelBpeSpec } from './byte-level-bpe.js';
import { EncodingPacker, awaitChunk, chunkTexts, replyTransfer, type BatchJob, type WorkerResult } from './batch.js';
import { claimChunk } from './batch-schedule.js';
import { setBlockSource } from './encoding.js';

const tokenizer = new ByteLevelBpeTokenizer((workerData as { spec: ByteLevelBpeSpec }).spec);

parentPort?.on('message', (message: BatchJob | { clearCache: true }) => {
  if ('clearCache' in message) {
    tokenizer.clearCache();
    return;
  }
  const packer = new EncodingPacker();
  setBlockSource(packer);
  try {
    const { chunks, claims, range, ready, units, layout, addSpecialTokens } = message;
    const unitBuffer = Buffer.from(units);
    const claimed: number[] = [];
    for (let chunk = claimChunk(claims, range); chunk >= 0; chunk = claimChunk(claims, range)) {
      // The batch failed on the calling thread: nothing of this reply will be read.
      if (!awaitChunk(ready, chunk)) break;
      chunkTexts(unitBuffer, layout, chunks[2 * chunk], chunks[2 * chunk + 1], (text, pair) => {
        packer.add(tokenizer.encode(text, { addSpecialTokens, ...(pair !== undefined ? { pair } : {}) }));
      });
      claimed.push(chunk);
    }
    setBlockSource(null);
    const packed = packer.finish();
    const result: WorkerResult = { chunks: claimed, packed };
    parentPort?.postMessage({ job: message.job, result }, replyTransfer(packed));
  } catch (error) {
    setBlockSource(null);
    parentPort?.postMessage({ job: message.job, error: error instanceof Error ? error.message : String(error) });
  }
});
