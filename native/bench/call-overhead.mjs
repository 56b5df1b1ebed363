// The fixed cost of one ternaryMatmul call, cold and warm: a tiny matrix
// (8 × 256) timed right after a 8 MiB streaming read has pushed the call path's
// code and data out of L1/L2 (as a batch-1 GEMV over cold weights leaves them),
// and again at once (warm), next to probeRead of the same 512 bytes and an
// empty JS function. Medians of alternating rounds; no suite, no JSON: this is
// the per-call overhead that the batch-1 GEMV rows of bench:bitlinear carry on
// top of their weight stream. The 2-thread row's cold call also wakes the
// pool's worker when the 8 MiB read (one thread) outlasted its spin
// (BITNET_SPIN_US, default 500 µs); run with BITNET_SPIN_US=5000 to see it spin.
//
//   node native/bench/call-overhead.mjs [rounds]
import { getNative, packTernary, ternaryMatmul } from '../dist/index.js';

const native = getNative();
const rounds = Number(process.argv[2] ?? 2000);
const evictBytes = 8 << 20;
const evict = new Uint8Array(native.allocateAligned(8 * evictBytes, 64, true)).fill(1);
const slices = Array.from({ length: 8 }, (_, i) => evict.subarray(i * evictBytes, (i + 1) * evictBytes));
const tiny = packTernary({ rows: 8, columns: 256, values: new Int8Array(8 * 256).map((_, i) => (i % 3) - 1), scales: new Float32Array(8).fill(0.5), granularity: 'row', groupSize: null });
const x = new Float32Array(256).map((_, i) => Math.sin(i));
const y = new Float32Array(8);
const data = tiny.data;

const ops = {
  'ternaryMatmul 8x256, 1 thread': () => ternaryMatmul(tiny, x, 1, { out: y, threads: 1 }),
  'ternaryMatmul 8x256, 2 threads': () => ternaryMatmul(tiny, x, 1, { out: y, threads: 2 }),
  'native.ternaryMatmul (no JS checks), 1 thread': () => native.ternaryMatmul(data, tiny.scales, 8, 256, x, 1, null, y, 1, undefined, null),
  'probeRead 512 B, 1 thread': () => native.probeRead(data, 1),
  'empty JS function': () => {},
};
const times = Object.fromEntries(Object.keys(ops).map((name) => [name, { cold: [], warm: [] }]));
for (let round = 0; round < rounds; round++) {
  for (const [name, op] of Object.entries(ops)) {
    native.probeRead(slices[round % slices.length], 1);
    let started = performance.now();
    op();
    times[name].cold.push(performance.now() - started);
    started = performance.now();
    op();
    times[name].warm.push(performance.now() - started);
  }
}
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1] * 1000;
console.log(`per-call cost, median of ${rounds} rounds (cold: right after an 8 MiB read; warm: the next call)`);
for (const [name, { cold, warm }] of Object.entries(times)) {
  console.log(`  ${name.padEnd(48)} cold ${median(cold).toFixed(2).padStart(6)} µs   warm ${median(warm).toFixed(2).padStart(6)} µs`);
}
tiny.dispose();
native.freeAligned(evict.buffer);
