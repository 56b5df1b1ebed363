import { BitNetError, DisposedError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';

/** A block of pool memory (the @bitnet/memory contract). */
export interface MemoryHandle {
  readonly id: number;
  readonly size: number;
  readonly alignment: number;
  readonly device: string;
  readonly isLive: boolean;
  /** Throws once the handle has been freed. */
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
  asUint8Array(): Uint8Array;
  asFloat32Array(): Float32Array;
}

/** The part of @bitnet/memory's HybridMemoryPool that tensors use. */
export interface TensorMemoryPool {
  allocate(size: number, alignment?: number, device?: string): MemoryHandle;
  deallocate(handle: MemoryHandle): void;
}

/** Called when a tensor's storage is collected without dispose(): it is freed and reported. */
export type LeakReporter = (info: { bytes: number; device: string; label: string }) => void;

let leakReporter: LeakReporter = (info) => {
  process.emitWarning(`a ${info.bytes}-byte tensor storage on ${info.device} (${info.label}) was garbage-collected without dispose(); it has been freed`, { code: 'BITNET_TENSOR_LEAK' });
};
let leakCount = 0;

export function setLeakReporter(reporter: LeakReporter): void {
  leakReporter = reporter;
}
export function leakedStorageCount(): number {
  return leakCount;
}

interface HeldBlock {
  pool: TensorMemoryPool;
  handle: MemoryHandle;
  released: boolean;
  label: string;
}

const registry = new FinalizationRegistry<HeldBlock>((block) => {
  if (block.released) return;
  block.released = true;
  leakCount++;
  try {
    if (block.handle.isLive) block.pool.deallocate(block.handle);
  } finally {
    leakReporter({ bytes: block.handle.size, device: block.handle.device, label: block.label });
  }
});

/**
 * One pool block shared by a tensor and its views. Each holder retains it once;
 * the last release returns the block to its pool. A storage that becomes
 * unreachable while still retained is freed by the FinalizationRegistry and
 * reported as a leak.
 */
export class Storage {
  private references = 1;
  private readonly block: HeldBlock;
  readonly byteLength: number;

  constructor(pool: TensorMemoryPool, handle: MemoryHandle, byteLength: number, label = 'tensor') {
    this.block = { pool, handle, released: false, label };
    this.byteLength = byteLength;
    registry.register(this, this.block, this);
  }

  static allocate(pool: TensorMemoryPool, byteLength: number, device: string, label?: string): Storage {
    // A pool from plain JS (e.g. `{ pool: {} }`) would otherwise fail with an untyped TypeError.
    const candidate = pool as unknown as { allocate?: unknown; deallocate?: unknown } | null;
    if (candidate === null || (typeof candidate !== 'object' && typeof candidate !== 'function') || typeof candidate.allocate !== 'function' || typeof candidate.deallocate !== 'function')
      throw invalidArgument('tensor', `pool must be a memory pool with allocate() and deallocate(), got ${formatValue(pool)}`);
    // Zero-byte tensors still get a (small) block so every tensor has a live handle.
    const handle = pool.allocate(Math.max(byteLength, 1), 64, device);
    return new Storage(pool, handle, byteLength, label);
  }

  get isLive(): boolean { return !this.block.released && this.block.handle.isLive; }
  get device(): string { return this.block.handle.device; }
  get pool(): TensorMemoryPool { return this.block.pool; }
  get handle(): MemoryHandle { return this.block.handle; }
  get referenceCount(): number { return this.block.released ? 0 : this.references; }

  private check(op: string): void {
    if (this.block.released) throw new DisposedError(op, 'tensor storage');
    if (!this.block.handle.isLive) throw new BitNetError(ErrorCode.DISPOSED, op, `the pool block under this tensor (handle ${this.block.handle.id}) was freed by its pool`);
  }

  /** The ArrayBuffer and byte offset of the block (checked live on every call). */
  region(op: string): { buffer: ArrayBuffer; byteOffset: number } {
    this.check(op);
    return { buffer: this.block.handle.buffer, byteOffset: this.block.handle.byteOffset };
  }

  retain(op = 'retain'): this {
    this.check(op);
    this.references++;
    return this;
  }

  release(): void {
    if (this.block.released) return;
    if (--this.references > 0) return;
    this.block.released = true;
    registry.unregister(this);
    if (this.block.handle.isLive) this.block.pool.deallocate(this.block.handle);
  }
}
