// Allocate+free pairs: the pool against new ArrayBuffer, Buffer.allocUnsafe,
// plain native malloc/free through the addon, and a process-wide native pool
// reached by one Node-API call per operation (the design not chosen); tracking
// overhead per level; fragmentation after a tensor-like workload.
//   pnpm --filter @bitnet/memory bench
import os from 'node:os';
import { BenchSuite } from '@bitnet/bench';
import { getNative } from '@bitnet/native';
import { HybridMemoryPool } from '../dist/index.js';

const native = getNative();
const suite = new BenchSuite('memory');
const KiB = 1024;
const MiB = 1024 * 1024;
let sink = null;

function pairCases(group, size, pairs, { peers = true, view = true } = {}) {
  const pool = new HybridMemoryPool();
  const work = { amount: pairs, unit: 'items' };
  const meta = { size, pairsPerIteration: pairs };
  suite.add({
    group,
    name: 'bitnet (tracking off)',
    work,
    meta,
    run: () => {
      for (let i = 0; i < pairs; i++) pool.deallocate(pool.allocate(size));
    },
  });
  if (view) {
    suite.add({
      group,
      name: 'bitnet + Uint8Array view',
      work,
      meta,
      run: () => {
        for (let i = 0; i < pairs; i++) {
          const handle = pool.allocate(size);
          sink = handle.asUint8Array();
          pool.deallocate(handle);
        }
      },
    });
  }
  if (!peers) return;
  suite.add({ group, name: 'new ArrayBuffer', peer: true, work, meta, run: () => { for (let i = 0; i < pairs; i++) sink = new ArrayBuffer(size); } });
  suite.add({ group, name: 'Buffer.allocUnsafe', peer: true, work, meta, run: () => { for (let i = 0; i < pairs; i++) sink = Buffer.allocUnsafe(size); } });
  suite.add({ group, name: 'native malloc/free (1 addon call)', peer: true, work, meta, run: () => { for (let i = 0; i < pairs; i++) native.memoryBenchMallocFree(size); } });
  if (size === 64) {
    suite.add({
      group,
      name: 'native shared pool (2 addon calls)',
      peer: true,
      work,
      meta,
      run: () => { for (let i = 0; i < pairs; i++) native.memoryBenchSharedPoolFree(native.memoryBenchSharedPoolAllocate()); },
    });
  }
}

pairCases('small pair 64 B', 64, 1000);
pairCases('small pair 4 KiB', 4 * KiB, 1000);
pairCases('small pair 64 KiB', 64 * KiB, 200);
pairCases('large pair 1 MiB', MiB, 50);
pairCases('large pair 16 MiB', 16 * MiB, 10);
pairCases('large pair 64 MiB', 64 * MiB, 4);

// Tracking overhead: the same pair at each level.
const levels = [
  ['off', {}],
  ['basic', { trackingConfig: { level: 'basic' } }],
  ['standard', { trackingConfig: { level: 'standard' } }],
  ['detailed (1 stack in 256, default)', { trackingConfig: { level: 'detailed' } }],
  ['detailed (every stack)', { trackingConfig: { level: 'detailed', stackSampleInterval: 1 } }],
];
for (const [size, pairs, label] of [[64, 1000, '64 B'], [MiB, 50, '1 MiB']]) {
  for (const [name, config] of levels) {
    const pool = new HybridMemoryPool({ ...config, trackingConfig: config.trackingConfig && { ...config.trackingConfig, leakDetectionIntervalMs: 0 } });
    suite.add({
      group: `tracking ${label}`,
      name: `tracking ${name}`,
      work: { amount: pairs, unit: 'items' },
      meta: { size, pairsPerIteration: pairs },
      run: () => { for (let i = 0; i < pairs; i++) pool.deallocate(pool.allocate(size)); },
    });
  }
}

// Tensor-like workload: long-lived weights, per-step activations of varying
// length, a KV cache that grows, scratch buffers; then fragmentation.
function tensorWorkload(pool, steps) {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const weights = [];
  for (let layer = 0; layer < 12; layer++) {
    weights.push(pool.allocate(4 * MiB + Math.floor(random() * 2 * MiB)));
    weights.push(pool.allocate(768 * 4));
    weights.push(pool.allocate(1536 * 4));
  }
  const cache = [];
  let operations = 0;
  for (let step = 0; step < steps; step++) {
    const tokens = 1 + Math.floor(random() * 512);
    const activations = [];
    for (let layer = 0; layer < 12; layer++) {
      activations.push(pool.allocate(tokens * 768 * 4));
      activations.push(pool.allocate(tokens * 64));
      if (activations.length > 6) pool.deallocate(activations.shift());
      operations += 2;
    }
    if (step % 8 === 0) {
      cache.push(pool.allocate(tokens * 2 * 768 * 2));
      operations++;
    }
    for (const handle of activations) pool.deallocate(handle);
    operations += activations.length;
  }
  return { weights, cache, operations };
}
{
  const pool = new HybridMemoryPool({ trackingConfig: { level: 'basic' } });
  const started = performance.now();
  const { weights, cache, operations } = tensorWorkload(pool, 400);
  const elapsed = performance.now() - started;
  const fragmentation = pool.getFragmentation();
  const metrics = pool.getMetrics();
  const before = { ...fragmentation };
  const cleanup = pool.cleanup({ keepArenas: 0, maxTimeMs: 1000 });
  const after = pool.getFragmentation();
  suite.note(
    `tensor-like workload (12 layers, 400 steps, ${operations} allocate/deallocate ops in ${elapsed.toFixed(1)} ms): ` +
      `live ${(metrics.currentAllocated / MiB).toFixed(1)} MiB in ${(metrics.reservedBytes / MiB).toFixed(1)} MiB of arenas, ` +
      `fragmentationRatio ${before.fragmentationRatio.toFixed(3)} (largest free ${(before.largestFreeBlock / MiB).toFixed(2)} MiB of ${(before.freeBytes / MiB).toFixed(1)} MiB free), ` +
      `internal ${(before.internalFragmentation * 100).toFixed(1)}%; after cleanup: ${(cleanup.bytesFreed / MiB).toFixed(1)} MiB returned in ${cleanup.durationMs.toFixed(2)} ms, ` +
      `fragmentationRatio ${after.fragmentationRatio.toFixed(3)}, reserved ${(pool.getMetrics().reservedBytes / MiB).toFixed(1)} MiB`,
  );
  suite.add({
    group: 'tensor-like workload',
    name: 'bitnet pool',
    work: { amount: operations, unit: 'items' },
    meta: { fragmentationRatio: before.fragmentationRatio, internalFragmentation: before.internalFragmentation, reservedBytes: metrics.reservedBytes, liveBytes: metrics.currentAllocated },
    run: () => {
      const p = new HybridMemoryPool();
      tensorWorkload(p, 400);
      p.dispose();
    },
    minIterations: 3,
    minTimeMs: 200,
  });
  for (const handle of [...weights, ...cache]) pool.deallocate(handle);
}

suite.note(`C++ loop, no addon call: malloc/free 64 B ${native.memoryBenchMallocFreeLoop(64, 1e6).toFixed(1)} ns/pair, 1 MiB ${native.memoryBenchMallocFreeLoop(MiB, 1e5).toFixed(1)} ns/pair`);
suite.note(`load average at start ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const report = await suite.run();
console.log('\nns per allocate+free pair (median):');
for (const row of report.rows) {
  if (row.error || !row.meta?.pairsPerIteration) continue;
  console.log(`  ${row.group.padEnd(20)} ${row.name.padEnd(36)} ${((row.medianMs * 1e6) / row.meta.pairsPerIteration).toFixed(1)} ns`);
}
console.log(`load average at end ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
