// `pnpm demo`: what this machine offers bitnet: the devices, why one is
// chosen, their capabilities, and the measured memory bandwidth (the limit
// every memory-bound kernel is judged against). Grows as packages land.
import { compareDevices, getBackendStatus, listDevices, selectDevice } from '@bitnet/device';
import { getNativeLoadInfo } from '@bitnet/native';

const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const size = (bytes) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);

/** Runs a slow step with a spinner on a TTY, a single line elsewhere. */
async function step(label, work) {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  const started = Date.now();
  let frame = 0;
  const timer = process.stdout.isTTY
    ? setInterval(() => process.stdout.write(`\r${frames[frame++ % frames.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)}s`), 100)
    : null;
  if (!timer) process.stdout.write(`… ${label}\n`);
  try {
    return await work();
  } finally {
    if (timer) {
      clearInterval(timer);
      process.stdout.write(`\r✓ ${label} ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    }
  }
}

console.log('bitnet demo — devices and capabilities\n');
const loaded = getNativeLoadInfo().at(-1);
console.log(`native addon: ${loaded.source} ${loaded.location}`);

console.log('\nbackends:');
for (const status of getBackendStatus()) {
  console.log(`  ${status.available ? '✓' : '✗'} ${status.kind.padEnd(6)} ${status.available ? 'available' : status.reason}`);
}

const selection = selectDevice({ log: () => {} });
console.log(`\nselected device: ${selection.device} — ${selection.reason}`);

for (const device of listDevices()) {
  const c = device.capabilities;
  console.log(`\n${device.id}: ${device.name}`);
  if (c.simd) {
    console.log(`  SIMD tier      ${c.simd.tier} (best ${c.simd.bestTier}; runs ${c.simd.supportedTiers.join(', ')})`);
    console.log(`  features       ${c.simd.features.join(' ')}`);
  }
  console.log(`  threads        ${c.computeUnits}`);
  console.log(`  caches         ${c.caches.map((k) => `L${k.level}${k.type === 'unified' ? '' : k.type[0]} ${size(k.sizeBytes)}`).join(', ')}`);
  console.log(`  memory         ${gib(c.memoryBytes)} total, ${gib(c.availableMemoryBytes)} available, unified: ${c.unifiedMemory}`);
  for (const threads of [1, c.computeUnits]) {
    const bandwidth = await step(`measuring memory bandwidth on ${threads} thread(s)`, () => device.measureMemoryBandwidth({ threads }));
    console.log(
      `  bandwidth      ${threads} thread(s): read ${(bandwidth.readBytesPerSecond / 1e9).toFixed(1)} GB/s, triad ${(bandwidth.triadBytesPerSecond / 1e9).toFixed(1)} GB/s (${size(bandwidth.bytes)} working set)`,
    );
  }
}

const ranking = await step('comparing devices', () => compareDevices({ durationMs: 200 }));
console.log('\ndevice ranking (f32 FMA throughput, then bandwidth):');
for (const entry of ranking) {
  console.log(`  ${entry.rank}. ${entry.deviceId.padEnd(8)} ${(entry.flopsPerSecond / 1e9).toFixed(0)} GFLOPS peak FMA, ${(entry.readBytesPerSecond / 1e9).toFixed(1)} GB/s read`);
}
