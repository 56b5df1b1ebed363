import { invalidArgument } from '@bitnet/errors';

/** The kinds of device a backend package can provide. */
export type DeviceKind = 'cpu' | 'metal' | 'mlx' | 'cuda';

export const deviceKinds: readonly DeviceKind[] = ['cpu', 'metal', 'mlx', 'cuda'];

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

/** Deep copy of plain data (objects, arrays, primitives), every level frozen. */
function frozenCopy<T>(value: T): T {
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = frozenCopy(item);
    return Object.freeze(copy) as T;
  }
  return value;
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

  constructor(init: DeviceInit) {
    if (!init || typeof init.id !== 'string' || !init.id) throw invalidArgument('Device', 'id must be a non-empty string');
    if (!init.id.startsWith(init.kind)) {
      throw invalidArgument('Device', `id "${init.id}" must start with its kind "${init.kind}" (e.g. "${init.kind}:0")`);
    }
    if (init.capabilities === null || typeof init.capabilities !== 'object') throw invalidArgument('Device', 'capabilities must be an object');
    this.kind = init.kind;
    this.id = init.id;
    this.name = init.name;
    // A frozen deep copy: devices are cached and shared, so no caller may alter what the next one reads
    // (and freezing a copy leaves the provider's own objects writable).
    this.capabilities = frozenCopy(init.capabilities);
    this.#measure = init.measureBandwidth;
    this.#benchmark = init.benchmark;
  }

  /**
   * Memory bandwidth measured on first call (about a second) and cached per thread count.
   * `threads` 0 or absent = all threads.
   */
  measureMemoryBandwidth(options: { threads?: number; refresh?: boolean } = {}): Promise<MemoryBandwidth> {
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0) {
      throw invalidArgument('device.measureMemoryBandwidth', `threads must be a non-negative integer, got ${threads}`);
    }
    let cached = this.#bandwidth.get(threads);
    if (!cached || options.refresh) {
      cached = this.#measure({ threads });
      // A failed measurement is not cached: the next call tries again.
      cached.catch(() => this.#bandwidth.delete(threads));
      this.#bandwidth.set(threads, cached);
    }
    return cached;
  }

  /** A short compute + bandwidth benchmark. */
  benchmark(options: { durationMs?: number } = {}): Promise<DeviceBenchmark> {
    const durationMs = options.durationMs ?? 200;
    if (!(durationMs > 0 && durationMs <= 60_000)) {
      throw invalidArgument('device.benchmark', `durationMs must be in (0, 60000], got ${durationMs}`);
    }
    return this.#benchmark({ durationMs });
  }

  toJSON(): { kind: DeviceKind; id: string; name: string; capabilities: DeviceCapabilities } {
    return { kind: this.kind, id: this.id, name: this.name, capabilities: this.capabilities };
  }

  toString(): string {
    return `${this.id} (${this.name})`;
  }
}
