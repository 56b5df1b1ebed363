import { BitNetError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';
import { type Device, type DeviceKind, deviceKinds, isDevice } from './device.js';
import { processWide } from './process-wide.js';

export interface ProbeResult {
  available: boolean;
  /** Why not, in words a user can act on (required when unavailable). */
  reason?: string;
}

/**
 * What a backend package registers on import (`@bitnet/metal`, `@bitnet/mlx`, …).
 * `probe()` must be cheap after its first call and must never throw.
 */
export interface DeviceProvider {
  kind: DeviceKind;
  probe(): ProbeResult;
  /**
   * The devices of this kind; only called when probe() says available. If it throws, the kind
   * counts as unavailable with the error's message as the reason (until the provider is registered again).
   */
  devices(): Device[];
}

interface RegistryState {
  providers: Map<DeviceKind, DeviceProvider>;
  deviceCache: Map<DeviceKind, Device[]>;
  /** Why a provider's devices() failed: the kind then counts as unavailable with this reason (until re-registered). */
  deviceFailures: Map<DeviceKind, string>;
}

/**
 * One registry per process, whichever copy of this package (its ESM or CJS build) is loaded: a backend that
 * registers through `import` must be seen by code that `require`s the package, and the reverse.
 */
const { providers, deviceCache, deviceFailures } = processWide<RegistryState>('registry', () => ({ providers: new Map(), deviceCache: new Map(), deviceFailures: new Map() }));

/** Registers (or replaces) the provider of one device kind. Returns a function that unregisters it. */
export function registerDeviceProvider(provider: DeviceProvider): () => void {
  if (provider === null || typeof provider !== 'object' || !deviceKinds.includes(provider.kind)) {
    throw invalidArgument('registerDeviceProvider', `kind must be one of ${deviceKinds.join(', ')}, got ${formatValue((provider as DeviceProvider | null)?.kind)}`);
  }
  if (typeof provider.probe !== 'function' || typeof provider.devices !== 'function') {
    throw invalidArgument('registerDeviceProvider', 'a provider needs probe() and devices() functions');
  }
  providers.set(provider.kind, provider);
  deviceCache.delete(provider.kind);
  deviceFailures.delete(provider.kind);
  return () => {
    if (providers.get(provider.kind) === provider) {
      providers.delete(provider.kind);
      deviceCache.delete(provider.kind);
      deviceFailures.delete(provider.kind);
    }
  };
}

function platformName(): string {
  return `${process.platform}-${process.arch}`;
}

/** Why a kind with no registered provider is missing, with the fix. */
function missingProviderReason(kind: DeviceKind): string {
  switch (kind) {
    // @bitnet/metal and @bitnet/mlx are not published yet: say so, rather than send the user to install them.
    case 'metal':
      return process.platform === 'darwin'
        ? 'no Metal provider is registered: the Metal backend (@bitnet/metal) is not available in this release; it comes later'
        : `Metal needs macOS on Apple hardware; this is ${platformName()}`;
    case 'mlx':
      return process.platform === 'darwin' || process.platform === 'linux'
        ? 'no MLX provider is registered: the MLX backend (@bitnet/mlx) is not available in this release; it comes later'
        : `MLX does not run on ${platformName()}`;
    case 'cuda':
      return 'no CUDA provider is registered: bitnet has no CUDA backend yet';
    case 'cpu':
      return 'the CPU provider is not registered (import @bitnet/device)';
  }
}

/** Availability of one kind, with the reason when it is not available. Never throws. */
export function probeDeviceKind(kind: DeviceKind): ProbeResult {
  const provider = providers.get(kind);
  if (!provider) return { available: false, reason: missingProviderReason(kind) };
  let result: unknown;
  try {
    result = provider.probe();
  } catch (error) {
    return { available: false, reason: `the ${kind} provider's probe failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  // A probe must answer { available: boolean, reason?: string } at once; anything else is a broken provider.
  const answer = result as ProbeResult | null;
  if (answer === null || typeof answer !== 'object' || typeof answer.available !== 'boolean') {
    const promise = typeof answer === 'object' && answer !== null && typeof (answer as { then?: unknown }).then === 'function';
    const what = promise ? 'a promise (probe() must answer at once)' : formatValue(answer);
    return { available: false, reason: `the ${kind} provider's probe returned ${what}, not { available, reason }` };
  }
  if (!answer.available) return { available: false, reason: typeof answer.reason === 'string' && answer.reason ? answer.reason : 'the provider reported it unavailable without a reason' };
  const failure = deviceFailures.get(kind);
  return failure === undefined ? { available: true } : { available: false, reason: failure };
}

/** What is wrong with a provider's devices() answer, or null: it must be an array of Devices of its kind, ids unique. */
function devicesProblem(kind: DeviceKind, listed: unknown): string | null {
  if (!Array.isArray(listed)) return `${formatValue(listed)} instead of an array of devices`;
  const ids = new Set<string>();
  for (const [i, device] of listed.entries()) {
    if (!isDevice(device)) return `${formatValue(device)} at ${i}, which is not a Device`;
    if (device.kind !== kind) return `a ${device.kind} device (${device.id}) among its own`;
    if (ids.has(device.id)) return `the id ${device.id} twice`;
    ids.add(device.id);
  }
  return null;
}

function devicesOf(kind: DeviceKind): Device[] {
  if (!probeDeviceKind(kind).available) return [];
  let devices = deviceCache.get(kind);
  if (!devices) {
    let listed: unknown;
    try {
      listed = providers.get(kind)!.devices();
    } catch (error) {
      // Kept as the kind's reason, so listDevices, getDevice, selectDevice and `bitnet info` can say why it is missing.
      deviceFailures.set(kind, `the ${kind} provider could not list its devices: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
    const problem = devicesProblem(kind, listed);
    if (problem !== null) {
      deviceFailures.set(kind, `the ${kind} provider listed ${problem}`);
      return [];
    }
    devices = Object.freeze([...(listed as Device[])]) as Device[];
    deviceCache.set(kind, devices);
  }
  return devices;
}

/** Devices that work now, in kind order cpu, metal, mlx, cuda. */
export function listDevices(): Device[] {
  return deviceKinds.flatMap(devicesOf);
}

/** One device by id (`cpu`, `metal:0`, `mlx:gpu`) or by kind (its first device). */
export function getDevice(idOrKind: string): Device {
  if (typeof idOrKind !== 'string' || !idOrKind) {
    throw invalidArgument('getDevice', `expected a device id or kind, got ${String(idOrKind)}`);
  }
  const kind = idOrKind.split(':')[0] as DeviceKind;
  if (!deviceKinds.includes(kind)) {
    throw invalidArgument('getDevice', `unknown device "${idOrKind}"; kinds are ${deviceKinds.join(', ')}`);
  }
  // Listed first: a provider whose devices() fails turns unavailable, with its reason, in the probe below.
  const devices = devicesOf(kind);
  const probe = probeDeviceKind(kind);
  if (!probe.available) {
    throw new BitNetError(ErrorCode.UNAVAILABLE, 'getDevice', `${kind} is unavailable: ${probe.reason}`, { details: { kind, reason: probe.reason } });
  }
  const device = idOrKind.includes(':') ? devices.find((candidate) => candidate.id === idOrKind) : devices[0];
  if (!device) {
    throw new BitNetError(ErrorCode.UNAVAILABLE, 'getDevice', `no device "${idOrKind}"; ${kind} devices: ${devices.map((d) => d.id).join(', ') || 'none'}`);
  }
  return device;
}

export interface DeviceInfo {
  cpu: boolean;
  metal: boolean;
  mlx: boolean;
  cuda: boolean;
}

/** Which kinds work now: `{ cpu, metal, mlx, cuda }`. */
export function getDeviceInfo(): DeviceInfo {
  // Listed first (cached after the first call): a kind whose devices() fails must not read as available.
  for (const kind of deviceKinds) devicesOf(kind);
  return {
    cpu: probeDeviceKind('cpu').available,
    metal: probeDeviceKind('metal').available,
    mlx: probeDeviceKind('mlx').available,
    cuda: probeDeviceKind('cuda').available,
  };
}

/** Each kind with its availability and reason, for `bitnet info`. */
export function getBackendStatus(): Array<{ kind: DeviceKind } & ProbeResult> {
  // Listing the devices first lets a provider that fails there report unavailable with its reason.
  for (const kind of deviceKinds) devicesOf(kind);
  return deviceKinds.map((kind) => ({ kind, ...probeDeviceKind(kind) }));
}
