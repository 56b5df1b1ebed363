// Execution path / device selection: which devices work here, which one is
// picked and why, and how BITNET_DEVICE, prefer and exclude change the choice.
//   node examples/device-selection.mjs
import { autoSelectDevice, getBackendStatus, getDeviceInfo, listDevices, selectDevice } from '@bitnet/device';

console.log('device kinds available:', getDeviceInfo());
for (const status of getBackendStatus()) {
  console.log(`  ${status.kind.padEnd(5)} ${status.available ? 'available' : `unavailable: ${status.reason}`}`);
}

const selection = selectDevice({ log: (message) => console.log(`  log: ${message}`) });
console.log(`auto-selected: ${selection.device.id} (${selection.reason})`);

// Preferences come first; unavailable ones are skipped with their reason.
const preferred = selectDevice({ prefer: ['mlx', 'cpu'], log: () => {} });
console.log(`prefer mlx, cpu → ${preferred.device.id}; skipped: ${preferred.skipped.map((s) => s.candidate).join(', ') || 'none'}`);

// BITNET_DEVICE wins, and an unavailable one is an error rather than a silent fallback.
try {
  autoSelectDevice({ env: { BITNET_DEVICE: 'metal' } });
} catch (error) {
  console.log(`BITNET_DEVICE=metal → ${error.code}`);
}

for (const device of listDevices()) {
  const c = device.capabilities;
  console.log(`${device.id}: ${device.name}, ${c.computeUnits} threads, SIMD ${c.simd?.tier ?? 'n/a'}, ${(c.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
}
