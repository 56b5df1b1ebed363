// Cleanup: fill a pool, free most of it, and let the cleanup manager give the
// idle arenas back to the OS without touching the blocks still in use.
//   node examples/cleanup.mjs
import { HybridMemoryPool } from '@bitnet/memory';

// 16 MiB arenas, none kept warm: every arena left empty goes back to the OS.
const pool = new HybridMemoryPool({ initialLargePoolSize: 16 << 20, cleanupConfig: { keepArenasPerRegion: 0 } });
const blocks = Array.from({ length: 32 }, () => pool.allocate(4 << 20, 64));
const keep = blocks.slice(0, 2);
keep[0].asUint8Array().fill(7);
for (const handle of blocks.slice(2)) pool.deallocate(handle);

const before = pool.getMetrics();
const report = pool.cleanup({ strategy: 'manual' });
const after = pool.getMetrics();
console.log(`reserved before: ${before.reservedBytes} bytes, after: ${after.reservedBytes} bytes`);
console.log(`cleanup freed ${report.bytesFreed} bytes, released ${report.arenasReleased} arena(s) in ${report.durationMs.toFixed(2)} ms`);
console.log(`kept block still intact: ${keep[0].asUint8Array().every((byte) => byte === 7)}`);
for (const handle of keep) pool.deallocate(handle);
pool.dispose();
