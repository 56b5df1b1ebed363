// Tensor-level BitLinear at BitNet-b1.58-2B shapes: BitLinear.forward (tensor
// in, tensor out: input view, int8 quantization + ternary kernel, output tensor
// in pool memory) next to the raw kernel on the same packed weights
// (ternaryMatmul on TypedArrays, as native/bench/bitlinear.mjs measures it) and
// the tensor package's F32 matmul of the same shape (x · Wᵀ). The difference
// between the first and third rows is the per-call cost of the tensor layer
// (the second row reuses its output tensor: no pool allocation per call). Weights
// are cache-warm here (one copy per shape); the native bench measures cold weights.
//
//   pnpm --filter @bitnet/tensor bench:bitlinear [-- --shapes 6912x2560 --batch 1,32 --threads 2]
import os from 'node:os';
import { BenchSuite } from '@bitnet/bench';
import { getNative, ternaryMatmul } from '@bitnet/native';
import { BitLinear, BitNetTensor, matmul, quantize158, ternaryKernelTiers } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const shapes = option('shapes', '6912x2560,2560x6912,2560x2560,640x2560').split(',').map((s) => s.split('x').map(Number));
const batches = option('batch', '1,32').split(',').map(Number);
const threads = Number(option('threads', String(getNative().getThreadInfo().poolThreads)));
const minTimeMs = Number(option('min-time', '300'));

const suite = new BenchSuite('tensor-bitlinear', { bandwidth: { threads: [threads] } });
const tiers = ternaryKernelTiers();
suite.note(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; threads ${threads}; ternary tier ${tiers.selected}; weights cache-warm`);

// One shape's objects at a time: built by the first case of the shape, freed by its last.
let current = null;
function shapeSet(rows, columns) {
  const key = `${rows}x${columns}`;
  if (current?.key === key) return current;
  current?.release();
  const w = BitNetTensor.random([rows, columns], { seed: rows + columns, low: -0.04, high: 0.04 });
  const ternary = quantize158(w);
  const packed = ternary.pack('i2_r4');
  ternary.dispose();
  const layer = BitLinear.fromPacked(packed); // no latent copy: inference only
  const wT = w.T;
  current = {
    key,
    w,
    wT,
    packed,
    layer,
    release() {
      layer.dispose();
      packed.dispose();
      wT.dispose();
      w.dispose();
    },
  };
  return current;
}

for (const [rows, columns] of shapes) {
  for (const batch of batches) {
    const group = `${rows}x${columns} b${batch}`;
    const work = { amount: 2 * rows * columns * batch, unit: 'flops' };
    const meta = { rows, columns, batch, threads, tier: tiers.selected };
    const x = BitNetTensor.random([batch, columns], { seed: batch, low: -1, high: 1 });
    const xData = x.toTypedArray();
    const out = new Float32Array(batch * rows);
    let set;
    suite.add({
      group,
      name: 'BitLinear.forward (tensor)',
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => set.layer.forward(x, { threads }).dispose(),
      work,
      minTimeMs,
      meta,
    });
    const outTensor = BitNetTensor.empty([batch, rows]);
    suite.add({
      group,
      name: 'BitLinear.forward (out=)',
      peer: true,
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => set.layer.forward(x, { threads, out: outTensor }),
      work,
      minTimeMs,
      meta,
    });
    suite.add({
      group,
      name: 'ternaryMatmul (raw kernel)',
      peer: true,
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => ternaryMatmul(set.packed.packed, xData, batch, { out, threads }),
      work,
      minTimeMs,
      meta,
    });
    suite.add({
      group,
      name: 'matmul F32 (tensor)',
      peer: true,
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => matmul(x, set.wT).dispose(),
      work,
      minTimeMs,
      meta,
    });
  }
}

await suite.run();
current?.release();
