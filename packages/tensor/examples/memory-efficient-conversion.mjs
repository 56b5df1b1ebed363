// Memory-efficient conversion: F32 → F16 / BF16 in place, streamed in chunks,
// or batched, with the conversion engine's metrics.
//   node examples/memory-efficient-conversion.mjs
import { BitNetDType, BitNetTensor, ConversionConfig, ConversionEngine } from '@bitnet/tensor';

const engine = new ConversionEngine(ConversionConfig.lowMemory());
const weights = BitNetTensor.random([1024, 1024], { seed: 7 });
const bytesBefore = weights.byteSize ?? weights.numel * 4;

// onProgress gets the fraction converted so far (0 to 1], once per chunk.
let chunks = 0;
const streamed = await engine.streamingConvert(weights, BitNetDType.F16, 256 << 10, (fraction) => {
  chunks++;
  if (fraction === 1) console.log(`streamed ${weights.numel} elements in ${chunks} chunks of 256 KiB`);
});
console.log(`F32 ${bytesBefore} bytes → F16 ${streamed.numel * 2} bytes; first values ${weights.toFlatArray().slice(0, 3).map((v) => v.toFixed(4)).join(', ')} → ${streamed.toFlatArray().slice(0, 3).map((v) => v.toFixed(4)).join(', ')}`);

const batch = engine.batchConvert([BitNetTensor.ones([8]), BitNetTensor.arange(0, 8)], BitNetDType.BF16);
console.log(`batch converted ${batch.length} tensors to ${batch[0].dtype.name ?? batch[0].dtype}`);

const inPlace = engine.inPlaceConvert(BitNetTensor.full([4], 3.14159), BitNetDType.F16);
console.log(`in place: ${inPlace.toFlatArray().join(', ')}`);
console.log('metrics:', JSON.stringify(engine.metrics));
for (const t of [weights, streamed, inPlace, ...batch]) t.dispose();
