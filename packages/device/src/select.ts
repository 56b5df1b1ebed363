import { BitNetError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';
import type { Device, DeviceKind } from './device.js';
import { deviceKinds } from './device.js';
import { type DeviceLogger, defaultLogger } from './log.js';
import { getDevice, probeDeviceKind } from './registry.js';

/**
 * The default preference order: GPUs first (only one of metal/cuda exists on a
 * machine; metal's own kernels come before MLX's general ops), the CPU last
 * because it always works when the native addon loads.
 */
export const defaultPreferenceOrder: readonly DeviceKind[] = Object.freeze(['metal', 'mlx', 'cuda', 'cpu'] as const);

export interface AutoSelectOptions {
  /** Kinds or ids to try first, in order; the default order follows. */
  prefer?: string | readonly string[];
  /**
   * Kinds never to pick: one kind or a list. Absolute among the candidates, `cpu` included: when every
   * kind left is unavailable the call fails with ERR_BITNET_UNAVAILABLE rather than run on an excluded one.
   * BITNET_DEVICE, the user's explicit choice, still wins over it (rule 1).
   */
  exclude?: DeviceKind | readonly DeviceKind[];
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

/** `prefer` / `exclude` as a list: one string is one entry (never split into characters). */
function toList(name: 'prefer' | 'exclude', value: unknown): string[] {
  if (value === undefined) return [];
  const list: unknown[] | null = typeof value === 'string' ? [value] : Array.isArray(value) ? value : null;
  if (list === null) {
    const what = name === 'prefer' ? 'a device kind or id, or an array of them' : 'a device kind or an array of kinds';
    throw invalidArgument('autoSelectDevice', `${name} must be ${what}, got ${formatValue(value)}`);
  }
  for (const entry of list) {
    if (name === 'prefer') {
      if (typeof entry !== 'string' || !deviceKinds.includes(entry.split(':')[0] as DeviceKind)) {
        throw invalidArgument('autoSelectDevice', `prefer must name device kinds or ids (${deviceKinds.join(', ')}), got ${formatValue(entry)}`);
      }
    } else if (typeof entry !== 'string' || !deviceKinds.includes(entry as DeviceKind)) {
      throw invalidArgument('autoSelectDevice', `exclude has an unknown kind ${formatValue(entry)}; kinds are ${deviceKinds.join(', ')}`);
    }
  }
  return list as string[];
}

/**
 * Picks a device and explains the choice. BITNET_DEVICE (a kind or id) wins
 * over everything and fails loudly when that device is unavailable; otherwise
 * `prefer`, then the default order metal → mlx → cuda → cpu, skipping
 * `exclude`d kinds and logging each fallback with its reason.
 */
export function selectDevice(options: AutoSelectOptions = {}): DeviceSelection {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument('autoSelectDevice', `options must be an object, got ${formatValue(options)}`);
  }
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw invalidArgument('autoSelectDevice', `log must be a function, got ${formatValue(options.log)}`);
  }
  if (options.env !== undefined && (options.env === null || typeof options.env !== 'object')) {
    throw invalidArgument('autoSelectDevice', `env must be an object of environment variables, got ${formatValue(options.env)}`);
  }
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLogger;
  // Both checked before anything else, so a bad option fails even when BITNET_DEVICE decides.
  const prefer = toList('prefer', options.prefer);
  const exclude = new Set(toList('exclude', options.exclude));

  const setting: unknown = env.BITNET_DEVICE;
  if (setting !== undefined && typeof setting !== 'string') {
    throw invalidArgument('autoSelectDevice', `BITNET_DEVICE must be a string (a device kind or id, or auto), got ${formatValue(setting)}`);
  }
  const forced = setting?.trim();
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

  const order = [...prefer, ...defaultPreferenceOrder];
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
      // A provider that failed to list its devices is now unavailable: its reason says more than getDevice's message.
      const after = probeDeviceKind(kind);
      skipped.push({ candidate, reason: after.available ? (error as Error).message : after.reason! });
      continue;
    }
    const preferred = prefer.includes(candidate);
    const reason = preferred
      ? `${candidate} was preferred and is available`
      : skipped.length === 0
        ? `${device.kind} is the first available kind in the order ${defaultPreferenceOrder.join(' → ')}`
        : `${device.kind} is the first available kind after ${skipped.map((s) => s.candidate).join(', ')}`;
    // Each fallback names the next kind actually tried: excluded kinds are skipped silently, not "fallen back to".
    const tried = skipped.filter((step) => step.reason !== 'excluded');
    tried.forEach((step, index) => {
      const next = tried[index + 1]?.candidate ?? device.id;
      log(`${step.candidate} unavailable (${step.reason}), falling back to ${next}`, `${step.candidate} unavailable (${step.reason})`);
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
