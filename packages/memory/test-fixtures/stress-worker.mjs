// Worker body for the worker_threads stress test: random alloc/free on this
// thread's default pool, checking a per-block pattern before every free.
import { parentPort, workerData } from 'node:worker_threads';
import { getDefaultPool } from '../dist/index.js';

const { seed, steps, shared } = workerData;
let state = seed >>> 0;
const random = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const pool = getDefaultPool();
const live = [];
let checked = 0;
const counter = new Int32Array(shared);
for (let step = 0; step < steps; step++) {
  if (live.length === 0 || random() < 0.55) {
    const size = random() < 0.9 ? 1 + Math.floor(random() * 8192) : (1 << 20) + Math.floor(random() * (2 << 20));
    const handle = pool.allocate(size, 2 ** Math.floor(random() * 13));
    const bytes = handle.asUint8Array();
    const tag = (seed * 31 + handle.id) & 0xff;
    bytes.fill(tag);
    live.push({ handle, tag });
  } else {
    const [{ handle, tag }] = live.splice(Math.floor(random() * live.length), 1);
    const bytes = handle.asUint8Array();
    for (let i = 0; i < bytes.length; i += 61) if (bytes[i] !== tag) throw new Error(`worker ${seed}: block #${handle.id} corrupted at ${i}`);
    checked++;
    pool.deallocate(handle);
  }
  Atomics.add(counter, 0, 1);
}
for (const { handle } of live) pool.deallocate(handle);
const metrics = pool.getMetrics();
parentPort.postMessage({ checked, metrics: { currentAllocated: metrics.currentAllocated, allocationCount: metrics.allocationCount, deallocationCount: metrics.deallocationCount } });
// A handle cannot cross threads: posting one clones a plain object, and its buffer is untransferable.
const handle = pool.allocate(64);
const buffer = handle.buffer;
let transferError = null;
try {
  parentPort.postMessage({ probe: true, buffer }, [buffer]);
} catch (error) {
  transferError = error.name;
}
parentPort.postMessage({ stillAttached: buffer.byteLength === 64, transferError });
pool.deallocate(handle);
pool.dispose();
