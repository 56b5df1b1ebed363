import { getBackendStatus, listDevices, selectDevice } from '@bitnet/device';
import { getNativeLoadInfo, runtimeKey } from '@bitnet/native';
import type { CommandIO } from '../io.js';

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
  const selection = selectDevice({ log: () => {} });
  const loaded = getNativeLoadInfo().at(-1)!;
  const devices = [];
  for (const device of listDevices()) {
    const bandwidth = [];
    if (options.bandwidth) {
      for (const threads of [...new Set([1, device.capabilities.computeUnits])]) {
        bandwidth.push(await device.measureMemoryBandwidth({ threads }));
      }
    }
    devices.push({ ...device.toJSON(), bandwidth });
  }
  const report = {
    runtime: runtimeKey(),
    node: process.version,
    native: { source: loaded.source, location: loaded.location },
    selected: { id: selection.device.id, reason: selection.reason, skipped: selection.skipped },
    backends,
    devices,
  };
  if (options.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  lines.push(`runtime        ${report.runtime}, Node.js ${report.node}`);
  lines.push(`native addon   ${loaded.source} ${loaded.location}`);
  lines.push(`selected       ${selection.device.id} — ${selection.reason}`);
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
  return 0;
}
