import { BitNetError, ErrorCode, invalidArgument } from '@bitnet/errors';
import type { Device, DeviceKind } from './device.js';
import { deviceKinds } from './device.js';
import { type DeviceLogger, defaultLogger } from './log.js';
import { getDevice, probeDeviceKind } from './registry.js';

/**
 * The default preference order: GPUs first (only one of metal/cuda exists on a
 * machine; metal's own kernels come before MLX's general ops), the CPU last
 * because it always works when the native addon loads.
 */
export const defaultPreferenceOrder: readonly DeviceKind[] = ['metal', 'mlx', 'cuda', 'cpu'];

export interface AutoSelectOptions {
  /** Kinds or ids to try first, in order; the default order follows. */
  prefer?: string | string[];
  /** Kinds never to pick. `cpu` cannot be excluded when nothing else is available. */
  exclude?: DeviceKind[];
  /** Where to log fallbacks; default prints each distinct message once to stderr. */
  log?: DeviceLogger;
  /** Environment to read BITNET_DEVICE from (tests). */
  env?: NodeJS.ProcessEnv;
}

export interface DeviceSelection {
  device: Device;
  /** Why this device was chosen, in one sentence. */
  reason: string;
  /** Every candidate skipped before it, with why. */
  skipped: Array<{ candidate: string; reason: string }>;
}

function toList(prefer: string | string[] | undefined): string[] {
  if (prefer === undefined) return [];
  const list = Array.isArray(prefer) ? prefer : [prefer];
  for (const entry of list) {
    const kind = entry.split(':')[0] as DeviceKind;
    if (typeof entry !== 'string' || !deviceKinds.includes(kind)) {
      throw invalidArgument('autoSelectDevice', `prefer must name device kinds or ids (${deviceKinds.join(', ')}), got ${JSON.stringify(entry)}`);
    }
  }
  return list;
}

/**
 * Picks a device and explains the choice. BITNET_DEVICE (a kind or id) wins
 * over everything and fails loudly when that device is unavailable; otherwise
 * `prefer`, then the default order metal → mlx → cuda → cpu, skipping
 * `exclude`d kinds and logging each fallback with its reason.
 */
export function selectDevice(options: AutoSelectOptions = {}): DeviceSelection {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLogger;
  const exclude = new Set(options.exclude ?? []);
  for (const kind of exclude) {
    if (!deviceKinds.includes(kind)) throw invalidArgument('autoSelectDevice', `exclude has an unknown kind ${JSON.stringify(kind)}`);
  }

  const forced = env.BITNET_DEVICE?.trim();
  if (forced && forced !== 'auto') {
    const kind = forced.split(':')[0] as DeviceKind;
    if (!deviceKinds.includes(kind)) {
      throw invalidArgument('autoSelectDevice', `BITNET_DEVICE=${forced} is not a device kind or id (${deviceKinds.join(', ')}, or auto)`);
    }
    try {
      const device = getDevice(forced);
      return { device, reason: `BITNET_DEVICE=${forced}`, skipped: [] };
    } catch (error) {
      throw new BitNetError(ErrorCode.UNAVAILABLE, 'autoSelectDevice', `BITNET_DEVICE=${forced} asks for a device that is unavailable: ${(error as Error).message}`, { cause: error });
    }
  }

  const order = [...toList(options.prefer), ...defaultPreferenceOrder];
  const seen = new Set<string>();
  const skipped: DeviceSelection['skipped'] = [];
  for (const candidate of order) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const kind = candidate.split(':')[0] as DeviceKind;
    if (exclude.has(kind)) {
      skipped.push({ candidate, reason: 'excluded' });
      continue;
    }
    const probe = probeDeviceKind(kind);
    if (!probe.available) {
      skipped.push({ candidate, reason: probe.reason! });
      continue;
    }
    let device: Device;
    try {
      device = getDevice(candidate);
    } catch (error) {
      skipped.push({ candidate, reason: (error as Error).message });
      continue;
    }
    const preferred = toList(options.prefer).includes(candidate);
    const reason = preferred
      ? `${candidate} was preferred and is available`
      : skipped.length === 0
        ? `${device.kind} is the first available kind in the order ${defaultPreferenceOrder.join(' → ')}`
        : `${device.kind} is the first available kind after ${skipped.map((s) => s.candidate).join(', ')}`;
    skipped.forEach((step, index) => {
      const next = skipped[index + 1]?.candidate ?? device.id;
      if (step.reason !== 'excluded') log(`${step.candidate} unavailable (${step.reason}), falling back to ${next}`);
    });
    return { device, reason, skipped };
  }
  const details = skipped.map((step) => `${step.candidate}: ${step.reason}`).join('; ');
  throw new BitNetError(ErrorCode.UNAVAILABLE, 'autoSelectDevice', `no device is available (${details})`, { details: { skipped } });
}

/** The device selectDevice() picks. */
export function autoSelectDevice(options: AutoSelectOptions = {}): Device {
  return selectDevice(options).device;
}
