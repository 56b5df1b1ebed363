// Tensor lifecycle: create tensors in pool memory, take views that share the
// storage, compute, and see memory return to the pool as tensors are disposed.
//   node examples/tensor-lifecycle.mjs
import { getDefaultPool } from '@bitnet/memory';
import { BitNetTensor, matmul, softmax } from '@bitnet/tensor';

const pool = getDefaultPool();
const live = () => pool.getMetrics().currentAllocated;
console.log(`pool bytes live at start: ${live()}`);
// (TypeScript and Node ≥ 24 can write `using x = …` instead of the explicit dispose calls.)
const x = BitNetTensor.random([4, 8], { seed: 1 });
const w = BitNetTensor.random([16, 8], { seed: 2 });
const view = w.T; // a view: no copy, shares w's storage
const y = matmul(x, view);
const p = softmax(y, -1);
const sums = p.sum(-1);
console.log(`y shape ${JSON.stringify(y.shape)}, row sums of softmax: ${sums.toArray().map((v) => v.toFixed(3)).join(' ')}`);
console.log(`pool bytes live while tensors exist: ${live()}`);
w.dispose();
console.log(`after w.dispose(), its view still reads: ${view.toFlatArray().length} values`);
for (const tensor of [x, view, y, p, sums]) tensor.dispose();
console.log(`pool bytes live after the block (all disposed): ${live()}`);
const t = BitNetTensor.zeros([2, 2]);
t.dispose();
try {
  t.toArray();
} catch (error) {
  console.log(`use after dispose → ${error.code}`);
}
