// BitLinear: quantize float weights to 1.58 bits, run the int8 × ternary
// forward, compare it with the float layer, train a few steps with the
// straight-through estimator, and save / load the packed layer.
//   node examples/bitlinear.mjs
import os from 'node:os';
import path from 'node:path';
import { BitLinear, BitNetTensor, matmul, quantize158 } from '@bitnet/tensor';

/** ‖a − b‖ / ‖b‖ of two tensors' values. */
function relativeError(a, b) {
  const x = a.toFlatArray();
  const y = b.toFlatArray();
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    difference += (x[i] - y[i]) ** 2;
    norm += y[i] ** 2;
  }
  return Math.sqrt(difference / norm);
}

const w = BitNetTensor.random([256, 512], { seed: 1, distribution: 'normal', std: 0.05 });
const ternary = quantize158(w);
console.log(`absmean scale ${ternary.scales.item().toFixed(5)}; weights in {-1, 0, 1}`);

const layer = BitLinear.fromFloatWeights(w, null, { subLayerNorm: false });
const packed = layer.packedWeight();
console.log(`packed ${packed.byteLength} bytes (${packed.layout}) vs F32 ${w.byteSize} bytes: ${(w.byteSize / packed.byteLength).toFixed(1)}× smaller`);

const x = BitNetTensor.random([4, 512], { seed: 2, distribution: 'normal' });
const y = layer.forward(x);
const wq = layer.dequantizedWeight();
const wqT = wq.T;
const reference = matmul(x, wqT);
const relative = relativeError(y, reference);
console.log(`forward ${JSON.stringify(y.shape)}; int8-activation error against F32 with the same ternary weights: ${(relative * 100).toFixed(2)}%`);

// Train toward a target map with SGD (straight-through estimator).
const target = BitNetTensor.random([256, 512], { seed: 3, distribution: 'normal', std: 0.05 });
const targetT = target.T;
layer.train();
let first = 0;
let last = 0;
for (let step = 0; step < 60; step++) {
  const inputs = BitNetTensor.random([32, 512], { seed: 100 + step, distribution: 'normal' });
  const out = layer.forward(inputs);
  const wanted = matmul(inputs, targetT);
  const error = out.sub(wanted);
  const values = error.toFlatArray();
  const loss = values.reduce((sum, v) => sum + v * v, 0) / values.length;
  if (step === 0) first = loss;
  last = loss;
  const grad = error.mul(2 / values.length);
  const gradients = layer.backward(grad);
  layer.sgdStep(gradients, 5);
  gradients.dispose();
  for (const t of [inputs, out, wanted, error, grad]) t.dispose();
}
layer.eval();
console.log(`training: MSE ${first.toFixed(5)} → ${last.toFixed(5)}`);

const file = path.join(os.tmpdir(), `bitlinear-example-${process.pid}.safetensors`);
await layer.save(file);
const loaded = await BitLinear.load(file);
(await import("node:fs")).rmSync(file);
const y1 = layer.forward(x);
const y2 = loaded.forward(x);
const same = y1.toFlatArray().every((v, i) => v === y2.toFlatArray()[i]);
console.log(`saved and loaded ${path.basename(file)}: identical forward ${same}`);
for (const t of [w, x, y, wq, wqT, reference, target, targetT, y1, y2]) t.dispose();
for (const o of [ternary, packed, layer, loaded]) o.dispose();
