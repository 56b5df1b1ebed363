// Worker entry for encodeBatch: rebuilds the tokenizer from the spec it is
// given once, then encodes the shares it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLevelBpeTokenizer, type ByteLevelBpeSpec } from './byte-level-bpe.js';
import { packEncodings, type PackedEncodings } from './batch.js';

const tokenizer = new ByteLevelBpeTokenizer((workerData as { spec: ByteLevelBpeSpec }).spec);

parentPort?.on('message', (message: { job: number; texts: string[]; pairs: string[] | null; addSpecialTokens: boolean; clearCache?: boolean }) => {
  if (message.clearCache) {
    tokenizer.clearCache();
    return;
  }
  try {
    const encodings = message.texts.map((text, i) =>
      tokenizer.encode(text, { addSpecialTokens: message.addSpecialTokens, ...(message.pairs ? { pair: message.pairs[i] } : {}) }),
    );
    const packed: PackedEncodings = packEncodings(encodings);
    parentPort?.postMessage({ job: message.job, packed }, [
      packed.counts.buffer,
      packed.ids.buffer,
      packed.offsets.buffer,
      packed.typeIds.buffer,
      packed.special.buffer,
      packed.sequenceIds.buffer,
    ] as ArrayBuffer[]);
  } catch (error) {
    parentPort?.postMessage({ job: message.job, error: error instanceof Error ? error.message : String(error) });
  }
});
