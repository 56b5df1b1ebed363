// Memory tracking: allocate through a pool with detailed tracking, watch the
// metrics, pressure levels and leak detection, then free everything.
//   node examples/memory-tracking.mjs
import { HybridMemoryPool } from '@bitnet/memory';

const pool = new HybridMemoryPool({
  memoryLimit: 64 << 20,
  trackingConfig: { level: 'detailed', enablePressureDetection: true, enableLeakDetection: true },
});
pool.registerPressureCallback((event) => console.log(`pressure: ${JSON.stringify(event)}`));

const handles = [];
for (let i = 0; i < 100; i++) handles.push(pool.allocate(1024 * (1 + (i % 8)), 64));
for (let i = 0; i < 12; i++) handles.push(pool.allocate(4 << 20, 4096));
handles[0].asFloat32Array().fill(1.5);

const metrics = pool.getMetrics();
console.log(`live: ${metrics.currentAllocated} bytes in ${metrics.allocationCount - metrics.deallocationCount} blocks, peak ${metrics.peakAllocated}`);
const detailed = pool.getDetailedMetrics();
console.log(`pressure level: ${detailed.pressureLevel}, fragmentation ratio: ${detailed.fragmentationRatio.toFixed(3)}`);
for (const suggestion of detailed.suggestions) console.log(`suggestion: ${suggestion}`);

const report = pool.detectLeaks(0);
console.log(`live allocations older than 0 ms: ${report.leaks.length} of ${report.liveAllocations}; oldest: ${report.leaks[0]?.size} bytes`);

for (const handle of handles) pool.deallocate(handle);
console.log(`after freeing: ${pool.getMetrics().currentAllocated} bytes live`);
try {
  pool.deallocate(handles[0]);
} catch (error) {
  console.log(`double free → ${error.code}`);
}
pool.dispose();
