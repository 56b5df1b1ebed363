import { BitNetError, ErrorCode, invalidArgument } from '@bitnet/errors';
import { getNative, requireNative } from '@bitnet/native';
import { markAsUntransferable } from 'node:worker_threads';

/**
 * Memory of one arena, as a backend hands it out. The pool carves blocks out
 * of arenas and never touches the memory itself; backends do.
 */
export interface ArenaMemory {
  /** Bytes in the arena. */
  readonly bytes: number;
  /** Host-visible arenas: the ArrayBuffer spanning the whole arena. */
  readonly buffer?: ArrayBuffer;
  /** Anything the backend needs to find the memory again (a device buffer, a native handle). */
  readonly native?: unknown;
}

/**
 * What a device kind supplies so pools can hold its memory. `cpu` is built in;
 * `metal`, `mlx` and `cuda` packages call `registerMemoryBackend` on import.
 */
export interface MemoryBackend {
  /** Arena memory of at least `bytes` bytes, aligned to `alignment` (a power of two ≤ 4096). */
  allocateArena(bytes: number, alignment: number): ArenaMemory;
  /** Gives an arena back to the device; no block of it is live when this is called. */
  freeArena(arena: ArenaMemory): void;
  /** True when blocks can be seen from JS (`blockBuffer` works). */
  readonly hostVisible: boolean;
  /**
   * An ArrayBuffer over exactly [offset, offset + length) of the arena that
   * `detachBlockBuffer` can detach, so no view outlives the block.
   */
  blockBuffer?(arena: ArenaMemory, offset: number, length: number): ArrayBuffer;
  detachBlockBuffer?(buffer: ArrayBuffer): void;
  /** Native address of the arena's first byte (for kernels that take pointers). */
  addressOf?(arena: ArenaMemory): bigint;
  /** Sets [offset, offset + length) of the arena to `value`. */
  fill?(arena: ArenaMemory, offset: number, length: number, value: number): void;
  /** Bytes the device can hold, for the default memory limit; null when unknown. */
  capacity?(): number | null;
  /** Device-specific cleanup after the pool released arenas (driver caches); returns bytes released. */
  trim?(): number;
}

const backends = new Map<string, MemoryBackend>();

/** Kind of a device id: `cuda:1` → `cuda`. */
export function deviceKindOf(device: string): string {
  const colon = device.indexOf(':');
  return colon === -1 ? device : device.slice(0, colon);
}

/**
 * Registers the backend of a device kind. Returns a function that removes it
 * again (pools that already hold its memory keep their reference).
 */
export function registerMemoryBackend(deviceKind: string, backend: MemoryBackend): () => void {
  const op = 'registerMemoryBackend';
  if (typeof deviceKind !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(deviceKind)) {
    throw invalidArgument(op, `deviceKind must be a lower-case name like "cuda", got ${JSON.stringify(deviceKind)}`);
  }
  if (deviceKind === 'cpu') throw invalidArgument(op, 'the cpu backend is built in and cannot be replaced');
  if (!backend || typeof backend.allocateArena !== 'function' || typeof backend.freeArena !== 'function') {
    throw invalidArgument(op, `backend for "${deviceKind}" needs allocateArena and freeArena functions`);
  }
  if (backend.hostVisible && (typeof backend.blockBuffer !== 'function' || typeof backend.detachBlockBuffer !== 'function')) {
    throw invalidArgument(op, `host-visible backend "${deviceKind}" needs blockBuffer and detachBlockBuffer`);
  }
  if (backends.has(deviceKind)) throw invalidArgument(op, `a memory backend for "${deviceKind}" is already registered`);
  backends.set(deviceKind, backend);
  return () => {
    if (backends.get(deviceKind) === backend) backends.delete(deviceKind);
  };
}

/** Device kinds with a memory backend, `cpu` first. */
export function listMemoryBackends(): string[] {
  return ['cpu', ...backends.keys()];
}

export function getMemoryBackend(device: string, op = 'getMemoryBackend'): MemoryBackend {
  const kind = deviceKindOf(device);
  if (kind === 'cpu') {
    if (device !== 'cpu') throw invalidArgument(op, `the cpu device has no index, got ${JSON.stringify(device)}`);
    return cpuBackend;
  }
  const backend = backends.get(kind);
  if (!backend) {
    throw new BitNetError(
      ErrorCode.UNAVAILABLE,
      op,
      `no memory backend for device ${JSON.stringify(device)}; registered: ${listMemoryBackends().join(', ')}`,
    );
  }
  return backend;
}

interface CpuArena extends ArenaMemory {
  readonly buffer: ArrayBuffer;
  address: bigint | null;
}

/** Host memory from @bitnet/native's aligned allocator. */
export const cpuBackend: MemoryBackend = {
  hostVisible: true,
  allocateArena(bytes: number, alignment: number): ArenaMemory {
    const native = requireNative('HybridMemoryPool.allocate');
    // Uninitialised: the pool hands out memory like Buffer.allocUnsafe unless asked to zero it.
    const buffer = native.allocateAligned(bytes, alignment, true);
    // The arena must never move to another thread: the pool's blocks point into it.
    markAsUntransferable(buffer);
    const arena: CpuArena = { bytes, buffer, address: null };
    return arena;
  },
  freeArena(arena: ArenaMemory): void {
    getNative().freeAligned((arena as CpuArena).buffer);
  },
  blockBuffer(arena: ArenaMemory, offset: number, length: number): ArrayBuffer {
    const buffer = getNative().memoryBlockBuffer((arena as CpuArena).buffer, offset, length);
    markAsUntransferable(buffer);
    return buffer;
  },
  detachBlockBuffer(buffer: ArrayBuffer): void {
    getNative().memoryDetach(buffer);
  },
  addressOf(arena: ArenaMemory): bigint {
    const cpu = arena as CpuArena;
    return (cpu.address ??= getNative().addressOf(cpu.buffer));
  },
  fill(arena: ArenaMemory, offset: number, length: number, value: number): void {
    getNative().memoryFill((arena as CpuArena).buffer, offset, length, value);
  },
  capacity(): number | null {
    const info = requireNative('HybridMemoryPool').getMemoryInfo();
    return info.cgroupLimitBytes !== null ? Math.min(info.cgroupLimitBytes, info.totalBytes) : info.totalBytes;
  },
};
