// F32 matmul GFLOPS (1024³; 2560×6912 at batch 1 and 32) next to MLX on CPU
// (@frost-beta/mlx, OpenBLAS), and elementwise / reduction / conversion GB/s
// next to the memory-bandwidth probe of the same run. Runs against dist/.
//   pnpm --filter @bitnet/tensor bench
import os from 'node:os';
import { createRequire } from 'node:module';
import { BenchSuite } from '@bitnet/bench';
import { getNative } from '@bitnet/native';
import { BitNetTensor, add, exp, matmul, mul, sum, softmax } from '../dist/index.js';

const require = createRequire(import.meta.url);
let mx = null;
let mlxError = null;
try {
  mx = require('@frost-beta/mlx').core;
  mx.setDefaultDevice(mx.defaultDevice()); // CPU build: the default device is the CPU
} catch (error) {
  mlxError = error instanceof Error ? error.message : String(error);
}

const threads = getNative().getThreadInfo().poolThreads;
const suite = new BenchSuite('tensor', { bandwidth: { threads: [threads] } });
suite.note(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; native pool threads ${threads}; ISA ${getNative().getIsa().selected}`);
if (!mx) suite.note(`MLX peer unavailable: ${mlxError}`);

const held = [];
const keep = (t) => (held.push(t), t);

function matmulCase(group, m, k, n) {
  const a = keep(BitNetTensor.random([m, k], { seed: 1, low: -1, high: 1 }));
  const b = keep(BitNetTensor.random([k, n], { seed: 2, low: -1, high: 1 }));
  const flops = 2 * m * n * k;
  suite.add({ group, name: 'bitnet', run: () => matmul(a, b).dispose(), work: { amount: flops, unit: 'flops' }, meta: { m, k, n } });
  if (mx) {
    const x = mx.random.uniform(-1, 1, [m, k]);
    const y = mx.random.uniform(-1, 1, [k, n]);
    mx.eval(x, y);
    suite.add({ group, name: 'mlx-cpu', peer: true, run: () => mx.eval(mx.matmul(x, y)), work: { amount: flops, unit: 'flops' }, meta: { m, k, n } });
  }
}

matmulCase('matmul f32 1024x1024x1024', 1024, 1024, 1024);
matmulCase('matmul f32 [1,2560]x[2560,6912]', 1, 2560, 6912);
matmulCase('matmul f32 [32,2560]x[2560,6912]', 32, 2560, 6912);

// 256 MiB per F32 tensor: about the probe's working set and past the 260 MiB L3 once
// two operands and the output stream together.
const N = 1 << 26;
const x = keep(BitNetTensor.full([N], 0.5));
const y = keep(BitNetTensor.full([N], 0.25));
const row = keep(BitNetTensor.random([4096], { seed: 5 }));
const mxX = mx ? mx.full([N], 0.5) : null;
const mxY = mx ? mx.full([N], 0.25) : null;
if (mx) mx.eval(mxX, mxY);

const elementwise = [
  ['add f32 64M', () => add(x, y).dispose(), 3 * 4 * N, () => mx.eval(mx.add(mxX, mxY))],
  ['mul broadcast [16384,4096]*[4096]', () => mul(x.view([16384, 4096]), row).dispose(), 2 * 4 * N, null],
  ['exp f32 64M', () => exp(x).dispose(), 2 * 4 * N, () => mx.eval(mx.exp(mxX))],
  ['sum f32 64M', () => sum(x).dispose(), 4 * N, () => mx.eval(mx.sum(mxX))],
  ['sum axis 0 [16384,4096]', () => sum(x.view([16384, 4096]), 0).dispose(), 4 * N, null],
  ['softmax rows [16384,4096]', () => softmax(x.view([16384, 4096])).dispose(), 2 * 4 * N, null],
  ['f32->f16 64M', () => x.to('F16').dispose(), 6 * N, () => mx.eval(mxX.astype(mx.float16))],
];
for (const [group, run, bytes, peer] of elementwise) {
  suite.add({ group, name: 'bitnet', run, work: { amount: bytes, unit: 'bytes' } });
  if (mx && peer) suite.add({ group, name: 'mlx-cpu', peer: true, run: peer, work: { amount: bytes, unit: 'bytes' } });
}

await suite.run();
for (const t of held) t.dispose();
