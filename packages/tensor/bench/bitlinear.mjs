// BitLinear at BitNet-b1.58-2B shapes, in two parts, one run:
//
// 1. The kernel matrix the BitLinear issue asks for: native/bench/bitlinear.mjs
//    with the same arguments (every shape × batch 1/8/32/128 × 1 and 2 threads,
//    cold weights, GFLOPS and weight GB/s, the bandwidth probe of the same run,
//    our F32 matmul, MLX on CPU dense and 2-bit quantizedMatmul, and each batch-1
//    GEMV paired with a plain read of the same bytes). JSON: bench-results/bitlinear*.json.
// 2. The layer: BitLinear.forward (tensor in, tensor out: input view, int8
//    quantization + ternary kernel, output in pool memory) next to the raw
//    kernel on the same packed weights, and the tensor package's F32 matmul
//    (x · Wᵀ), all with cold weights (each call uses the next of enough layers
//    to exceed twice the last-level cache). The difference between the first
//    two rows is the per-call cost of the tensor layer. JSON: bench-results/tensor-bitlinear.json.
//
//   pnpm --filter @bitnet/tensor bench:bitlinear [-- --shapes 6912x2560 --batch 1,8 --threads 1,2 --no-mlx --layer-batch 1,32 --no-kernel --no-layer]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { BenchSuite } from '@bitnet/bench';
import { getNative, ternaryMatmul } from '@bitnet/native';
import { BitLinear, BitNetTensor, matmul, quantize158, ternaryKernelTiers } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (!args.includes('--no-kernel')) {
  const require = createRequire(import.meta.url);
  const kernelBench = path.join(path.dirname(require.resolve('@bitnet/native/package.json')), 'bench', 'bitlinear.mjs');
  const result = spawnSync(process.execPath, [kernelBench, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`kernel bench (${kernelBench}) exited with ${result.status ?? result.signal}`);
    process.exit(1);
  }
}
if (args.includes('--no-layer')) process.exit(0);

const shapes = option('shapes', '6912x2560,2560x6912,2560x2560,640x2560').split(',').map((s) => s.split('x').map(Number));
const batches = option('layer-batch', '1,32').split(',').map(Number);
const threads = getNative().getThreadInfo().poolThreads;
const minTimeMs = Number(option('min-time', '300'));

const native = getNative();
const llc = Math.max(0, ...native.getCacheInfo().map((c) => c.sizeBytes));
// Twice the LLC defeats it; bounded so the run fits in memory next to other work.
const coldBytes = Math.min(Math.max(2 * llc, 256 << 20), 1 << 30);
const copiesFor = (bytes) => Math.max(2, Math.ceil(coldBytes / bytes));

const suite = new BenchSuite('tensor-bitlinear', { bandwidth: { threads: [threads] } });
const tiers = ternaryKernelTiers();
suite.note(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; threads ${threads}; ternary tier ${tiers.selected}`);
suite.note(`cold weights: each call uses the next of N layers (and N F32 copies) totalling ≥ ${(coldBytes / 2 ** 20).toFixed(0)} MiB (LLC ${(llc / 2 ** 20).toFixed(0)} MiB)`);

// One shape's objects at a time: built by the first case of the shape, freed when the next shape starts.
let current = null;
function shapeSet(rows, columns) {
  const key = `${rows}x${columns}`;
  if (current?.key === key) return current;
  current?.release();
  const w = BitNetTensor.random([rows, columns], { seed: rows + columns, low: -0.04, high: 0.04 });
  const ternary = quantize158(w);
  const packed = ternary.pack('i2_r4');
  ternary.dispose();
  // fromPacked copies the packed weights: every layer is its own cold copy (no latent weights: inference only).
  const copies = copiesFor((rows * columns) / 4);
  const layers = Array.from({ length: copies }, () => BitLinear.fromPacked(packed));
  const packedCopies = Array.from({ length: copies }, () => packed.convert('i2_r4'));
  const f32 = Array.from({ length: copiesFor(rows * columns * 4) }, (_, i) => (i === 0 ? w : w.clone()));
  const transposed = f32.map((t) => t.T);
  current = {
    key,
    packed,
    layers,
    packedCopies,
    transposed,
    release() {
      for (const layer of layers) layer.dispose();
      for (const copy of packedCopies) copy.dispose();
      for (const t of [...transposed, ...f32]) t.dispose();
      packed.dispose();
      if (current === this) current = null;
    },
  };
  return current;
}

// Inputs and out= tensors of every case, disposed after the run (the leak detector would warn otherwise).
const held = [];
for (const [rows, columns] of shapes) {
  for (const batch of batches) {
    const group = `${rows}x${columns} b${batch}`;
    // Batch 1 is bound by weight traffic (GB/s, % of the probe), larger batches by arithmetic (GFLOPS).
    const flops = { amount: 2 * rows * columns * batch, unit: 'flops' };
    const work = batch === 1 ? { amount: (rows * columns) / 4, unit: 'bytes' } : flops;
    const f32Work = batch === 1 ? { amount: rows * columns * 4, unit: 'bytes' } : flops;
    const meta = { rows, columns, batch, threads, tier: tiers.selected };
    const x = BitNetTensor.random([batch, columns], { seed: batch, low: -1, high: 1 });
    held.push(x);
    const xData = x.toTypedArray();
    const out = new Float32Array(batch * rows);
    let set;
    let i = 0;
    suite.add({
      group,
      name: 'BitLinear.forward (tensor)',
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => set.layers[i++ % set.layers.length].forward(x, { threads }).dispose(),
      work,
      minTimeMs,
      meta,
    });
    const outTensor = BitNetTensor.empty([batch, rows]);
    held.push(outTensor);
    suite.add({
      group,
      name: 'BitLinear.forward (out=)',
      peer: true,
      setup: () => {
        set = shapeSet(rows, columns);
      },
      run: () => set.layers[i++ % set.layers.length].forward(x, { threads, out: outTensor }),
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
      run: () => ternaryMatmul(set.packedCopies[i++ % set.packedCopies.length].packed, xData, batch, { out, threads }),
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
      run: () => matmul(x, set.transposed[i++ % set.transposed.length]).dispose(),
      work: f32Work,
      minTimeMs,
      meta,
    });
  }
}

await suite.run();
current?.release();
for (const t of held) t.dispose();
