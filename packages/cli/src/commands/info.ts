import { type DeviceSelection, getBackendStatus, listDevices, selectDevice } from '@bitnet/device';
import { isBitNetError } from '@bitnet/errors';
import { getNativeLoadInfo, runtimeKey } from '@bitnet/native';
import { type CommandIO, progress } from '../io.js';

export const infoHelp = `Usage: bitnet info [--json] [--no-bandwidth]

Devices, their capabilities and SIMD tier, which backends are available and why not,
and the measured memory bandwidth (1 thread and all threads).

Options:
  --json           print one JSON object instead of text
  --no-bandwidth   skip the bandwidth measurement (about a second per thread count)
`;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const size = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);

export async function info(io: CommandIO, options: { json: boolean; bandwidth: boolean }): Promise<number> {
  const backends = getBackendStatus();
  // With no usable device the report still shows every backend and why it is unavailable
  // (e.g. a bad BITNET_NUM_THREADS), then the command fails.
  let selection: DeviceSelection | null = null;
  let unavailable: { code: string; message: string } | null = null;
  try {
    selection = selectDevice({ log: () => {} });
  } catch (error) {
    if (!isBitNetError(error)) throw error;
    unavailable = { code: error.code, message: error.message };
  }
  const loaded = getNativeLoadInfo().at(-1)!;
  const devices = [];
  for (const device of listDevices()) {
    const bandwidth = [];
    if (options.bandwidth) {
      for (const threads of [...new Set([1, device.capabilities.computeUnits])]) {
        // The probe runs off the main thread (about a second), so the bar's timer keeps it moving.
        const bar = progress(io, `measuring ${device.id} memory bandwidth on ${threads} thread(s)`);
        try {
          bandwidth.push(await device.measureMemoryBandwidth({ threads }));
        } finally {
          bar.done();
        }
      }
    }
    devices.push({ ...device.toJSON(), bandwidth });
  }
  const report = {
    runtime: runtimeKey(),
    node: process.version,
    native: { source: loaded.source, location: loaded.location },
    selected: selection ? { id: selection.device.id, reason: selection.reason, skipped: selection.skipped } : null,
    ...(unavailable ? { error: unavailable } : {}),
    backends,
    devices,
  };
  const failed = () => {
    io.err(`bitnet info: no usable device: ${unavailable!.message} (${unavailable!.code})\n`);
    return 1;
  };
  if (options.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return unavailable ? failed() : 0;
  }
  const lines: string[] = [];
  lines.push(`runtime        ${report.runtime}, Node.js ${report.node}`);
  lines.push(`native addon   ${loaded.source} ${loaded.location}`);
  lines.push(selection ? `selected       ${selection.device.id} — ${selection.reason}` : 'selected       none (see the backends below)');
  lines.push('backends');
  for (const backend of backends) {
    lines.push(`  ${backend.available ? '✓' : '✗'} ${backend.kind.padEnd(6)} ${backend.available ? 'available' : backend.reason}`);
  }
  for (const device of devices) {
    const c = device.capabilities;
    lines.push(`${device.id}: ${device.name}`);
    if (c.simd) {
      lines.push(`  SIMD tier    ${c.simd.tier} (best ${c.simd.bestTier}; this CPU runs ${c.simd.supportedTiers.join(', ')})`);
      lines.push(`  features     ${c.simd.features.join(' ')}`);
    }
    lines.push(`  threads      ${c.computeUnits}`);
    lines.push(`  caches       ${c.caches.map((k) => `L${k.level}${k.type === 'unified' ? '' : k.type[0]} ${size(k.sizeBytes)}`).join(', ')}`);
    lines.push(`  memory       ${gib(c.memoryBytes)} total, ${gib(c.availableMemoryBytes)} available`);
    for (const b of device.bandwidth) {
      lines.push(`  bandwidth    ${b.threads} thread(s): read ${(b.readBytesPerSecond / 1e9).toFixed(1)} GB/s, triad ${(b.triadBytesPerSecond / 1e9).toFixed(1)} GB/s`);
    }
  }
  io.out(`${lines.join('\n')}\n`);
  return unavailable ? failed() : 0;
}
