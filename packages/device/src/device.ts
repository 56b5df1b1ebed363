import { formatValue, invalidArgument, optionsObject } from '@bitnet/errors';

/** The kinds of device a backend package can provide. */
export type DeviceKind = 'cpu' | 'metal' | 'mlx' | 'cuda';

export const deviceKinds: readonly DeviceKind[] = Object.freeze(['cpu', 'metal', 'mlx', 'cuda'] as const);

/**
 * Marks Device instances across copies of this package (its ESM and CJS builds each define the class; a
 * provider registered through one must be accepted by the other).
 */
const DEVICE_BRAND = Symbol.for('@bitnet/device.Device');

/** True for a Device made by any copy of this package. */
export function isDevice(value: unknown): value is Device {
  return value instanceof Device || (value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[DEVICE_BRAND] === true);
}

export interface CacheLevel {
  level: number;
  type: 'data' | 'instruction' | 'unified';
  sizeBytes: number;
  lineBytes: number;
  sharedByCpus: number;
}

export interface SimdCapabilities {
  /** Instruction-set features present and enabled by the OS (e.g. `avx2`, `avx512vnni`, `neon`, `dotprod`). */
  features: string[];
  /** Kernel tier in use: `generic`, `neon`, `avx2`, `avx512`. */
  tier: string;
  /** Best tier this CPU and build can run. */
  bestTier: string;
  /** Every tier this CPU and build can run (what BITNET_CPU_ISA may pick). */
  supportedTiers: string[];
}

export interface MemoryBandwidth {
  /** Read-only streaming, bytes per second. */
  readBytesPerSecond: number;
  /** STREAM triad, bytes per second. */
  triadBytesPerSecond: number;
  threads: number;
  /** Working-set size used by the probe. */
  bytes: number;
}

export interface DeviceCapabilities {
  /** SIMD of the host CPU; null on devices without a CPU instruction set of their own. */
  simd: SimdCapabilities | null;
  /** Parallel compute units: CPU threads the pool uses, GPU cores where known. */
  computeUnits: number;
  caches: CacheLevel[];
  /** Memory the device can address, and what is free now. */
  memoryBytes: number;
  availableMemoryBytes: number;
  /** True when host and device share memory (CPU, Apple silicon). */
  unifiedMemory: boolean;
  /** Largest single buffer the device accepts. */
  maxBufferBytes: number;
  supportedDTypes: string[];
}

export interface DeviceBenchmark {
  deviceId: string;
  /** Sustained f32 multiply-add throughput. */
  flopsPerSecond: number;
  /** Streaming read bandwidth of the device memory. */
  readBytesPerSecond: number;
  durationMs: number;
}

export interface DeviceInit {
  kind: DeviceKind;
  id: string;
  name: string;
  capabilities: DeviceCapabilities;
  /** Measures memory bandwidth (the physical limit of memory-bound kernels). */
  measureBandwidth: (options: { threads?: number }) => Promise<MemoryBandwidth>;
  /** A short benchmark used by compareDevices(). */
  benchmark: (options: { durationMs: number }) => Promise<DeviceBenchmark>;
}

/** Deep copy of plain data (objects, arrays, primitives), every level frozen; a cycle is refused. */
function frozenCopy<T>(value: T, path: string, ancestors: Set<object> = new Set()): T {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
      throw invalidArgument('Device', `${path} must be plain data (objects, arrays, strings, numbers, booleans), got ${formatValue(value)}`);
    }
    return value;
  }
  if (ancestors.has(value)) throw invalidArgument('Device', `${path} refers back to an object that contains it (capabilities must be plain data, without cycles)`);
  ancestors.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = Object.freeze(value.map((item, i) => frozenCopy(item, `${path}[${i}]`, ancestors)));
  } else {
    const fields: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) fields[key] = frozenCopy(item, `${path}.${key}`, ancestors);
    copy = Object.freeze(fields);
  }
  ancestors.delete(value);
  return copy as T;
}

/** A device that works now. Providers create them; users get them from listDevices() / autoSelectDevice(). */
export class Device {
  readonly kind: DeviceKind;
  readonly id: string;
  readonly name: string;
  /** Frozen at every level (arrays and nested objects too). */
  readonly capabilities: DeviceCapabilities;
  readonly #measure: DeviceInit['measureBandwidth'];
  readonly #benchmark: DeviceInit['benchmark'];
  readonly #bandwidth = new Map<number, Promise<MemoryBandwidth>>();
  /** The measurement running now: the next waits for it (two at once share the memory bus and read half). */
  #measuring: Promise<unknown> = Promise.resolve();

  constructor(init: DeviceInit) {
    const op = 'Device';
    if (init === null || typeof init !== 'object') throw invalidArgument(op, `expected { kind, id, name, capabilities, measureBandwidth, benchmark }, got ${formatValue(init)}`);
    if (!deviceKinds.includes(init.kind)) throw invalidArgument(op, `kind must be one of ${deviceKinds.join(', ')}, got ${formatValue(init.kind)}`);
    if (typeof init.id !== 'string' || !init.id) throw invalidArgument(op, `id must be a non-empty string, got ${formatValue(init.id)}`);
    // `cpu` or `cpu:…`: getDevice finds a device by the kind before the colon.
    if (init.id !== init.kind && !init.id.startsWith(`${init.kind}:`)) {
      throw invalidArgument(op, `id "${init.id}" must be its kind "${init.kind}" or start with "${init.kind}:" (e.g. "${init.kind}:0")`);
    }
    if (typeof init.name !== 'string' || !init.name) throw invalidArgument(op, `name must be a non-empty string, got ${formatValue(init.name)}`);
    if (init.capabilities === null || typeof init.capabilities !== 'object' || Array.isArray(init.capabilities)) {
      throw invalidArgument(op, `capabilities must be an object, got ${formatValue(init.capabilities)}`);
    }
    for (const name of ['measureBandwidth', 'benchmark'] as const) {
      if (typeof init[name] !== 'function') throw invalidArgument(op, `${name} must be a function, got ${formatValue(init[name])}`);
    }
    this.kind = init.kind;
    this.id = init.id;
    this.name = init.name;
    // A frozen deep copy: devices are cached and shared, so no caller may alter what the next one reads
    // (and freezing a copy leaves the provider's own objects writable).
    this.capabilities = frozenCopy(init.capabilities, 'capabilities');
    this.#measure = init.measureBandwidth;
    this.#benchmark = init.benchmark;
    Object.defineProperty(this, DEVICE_BRAND, { value: true });
    // Shared by every caller of listDevices/getDevice: nobody may rename or re-kind it for the next one.
    // (A backend's subclass freezes its own instances, after its fields.)
    if (new.target === Device) Object.freeze(this);
  }

  /**
   * Memory bandwidth measured on first call (about a second) and cached per thread count. `threads` 0 or
   * absent = all the device's compute units; more than it has are capped to them (one cache entry per
   * count actually used). Measurements run one at a time: two at once would each read about half.
   */
  measureMemoryBandwidth(options: { threads?: number; refresh?: boolean } | null = {}): Promise<MemoryBandwidth> {
    const op = 'device.measureMemoryBandwidth';
    options = optionsObject(op, options);
    const requested = options.threads ?? 0;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 0) {
      throw invalidArgument(op, `threads must be a non-negative integer, got ${formatValue(requested)}`);
    }
    if (options.refresh !== undefined && typeof options.refresh !== 'boolean') throw invalidArgument(op, `refresh must be true or false, got ${formatValue(options.refresh)}`);
    const units = this.capabilities.computeUnits;
    const threads = Number.isInteger(units) && units > 0 ? (requested === 0 ? units : Math.min(requested, units)) : requested;
    let cached = this.#bandwidth.get(threads);
    if (!cached || options.refresh) {
      const measurement = this.#measuring.then(() => this.#measure({ threads }));
      this.#measuring = measurement.catch(() => undefined);
      cached = measurement;
      // A failed measurement is not cached: the next call tries again (unless a newer one took its place).
      measurement.catch(() => {
        if (this.#bandwidth.get(threads) === measurement) this.#bandwidth.delete(threads);
      });
      this.#bandwidth.set(threads, measurement);
    }
    return cached;
  }

  /** A short compute + bandwidth benchmark. */
  benchmark(options: { durationMs?: number } | null = {}): Promise<DeviceBenchmark> {
    const op = 'device.benchmark';
    const durationMs = optionsObject(op, options).durationMs ?? 200;
    if (typeof durationMs !== 'number' || !(durationMs > 0 && durationMs <= 60_000)) {
      throw invalidArgument(op, `durationMs must be a number in (0, 60000], got ${formatValue(durationMs)}`);
    }
    // After any bandwidth measurement in flight, which it would halve (and be halved by).
    const run = this.#measuring.then(() => this.#benchmark({ durationMs }));
    this.#measuring = run.catch(() => undefined);
    return run;
  }

  toJSON(): { kind: DeviceKind; id: string; name: string; capabilities: DeviceCapabilities } {
    return { kind: this.kind, id: this.id, name: this.name, capabilities: this.capabilities };
  }

  toString(): string {
    return `${this.id} (${this.name})`;
  }
}
