import { BitNetError, DisposedError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import type { DevicePool } from './device-pool.js';
import type { Arena } from './region.js';
import type { Slab } from './slab-pool.js';
import type { AllocationRecord } from './tracking.js';

/** Handle states. */
export const LIVE = 0;
export const DEALLOCATED = 1;

/** Strong reference from a block's ArrayBuffer to its handle, so the handle lives as long as any view. */
const owner = Symbol('bitnet.memory.owner');

const constructing = Symbol('bitnet.memory.constructing');

/**
 * One block of pool memory. The block is live until `pool.deallocate(handle)`
 * (or until the pool is disposed); after that every accessor that could reach
 * the memory throws ERR_BITNET_DISPOSED, and the ArrayBuffer behind earlier
 * views is detached, so those views read as empty instead of reading whatever
 * the block holds next.
 */
export class MemoryHandle {
  readonly id: number;
  readonly size: number;
  readonly alignment: number;
  readonly device: string;
  /** @internal */ readonly owner: object;
  /** @internal */ readonly devicePool: DevicePool;
  /** @internal Small blocks: their slab and index in it; null for large blocks. */
  readonly slab: Slab | null;
  /** @internal */ readonly slot: number;
  /** @internal */ readonly arena: Arena;
  /** @internal Byte offset of the block in its arena. */
  readonly offset: number;
  /** @internal Bytes the block really occupies. */
  readonly blockBytes: number;
  // What changes over a handle's life lives in private fields behind accessors: a user may freeze the handle
  // (Object.freeze makes its own properties read-only), and deallocate must still be able to free it.
  #state: number;
  #blockBuffer: ArrayBuffer | null;
  #bufferRef: WeakRef<ArrayBuffer> | null;
  #time: number;
  #stack: { stack?: string } | null;
  #record: AllocationRecord | null;
  #youngIndex: number;
  /** @internal */ get state(): number {
    return this.#state;
  }
  set state(value: number) {
    this.#state = value;
  }
  /** @internal */ get blockBuffer(): ArrayBuffer | null {
    return this.#blockBuffer;
  }
  set blockBuffer(value: ArrayBuffer | null) {
    this.#blockBuffer = value;
  }
  /** @internal */ get bufferRef(): WeakRef<ArrayBuffer> | null {
    return this.#bufferRef;
  }
  set bufferRef(value: WeakRef<ArrayBuffer> | null) {
    this.#bufferRef = value;
  }
  /** @internal Tracking (standard level and up). */ get time(): number {
    return this.#time;
  }
  set time(value: number) {
    this.#time = value;
  }
  /** @internal */ get stack(): { stack?: string } | null {
    return this.#stack;
  }
  set stack(value: { stack?: string } | null) {
    this.#stack = value;
  }
  /** @internal */ get record(): AllocationRecord | null {
    return this.#record;
  }
  set record(value: AllocationRecord | null) {
    this.#record = value;
  }
  /** @internal */ get youngIndex(): number {
    return this.#youngIndex;
  }
  set youngIndex(value: number) {
    this.#youngIndex = value;
  }

  /** @internal Pools create handles; user code cannot. */
  constructor(
    token: symbol,
    id: number,
    size: number,
    alignment: number,
    device: string,
    poolOwner: object,
    devicePool: DevicePool,
    slab: Slab | null,
    slot: number,
    arena: Arena,
    offset: number,
    blockBytes: number,
  ) {
    if (token !== constructing) {
      throw new BitNetError(ErrorCode.INVALID_ARGUMENT, 'MemoryHandle', 'handles come from HybridMemoryPool.allocate()');
    }
    this.id = id;
    this.size = size;
    this.alignment = alignment;
    this.device = device;
    this.#state = LIVE;
    this.owner = poolOwner;
    this.devicePool = devicePool;
    this.slab = slab;
    this.slot = slot;
    this.arena = arena;
    this.offset = offset;
    this.blockBytes = blockBytes;
    // Assigned here rather than as field initialisers: V8 builds the object faster.
    this.#blockBuffer = null;
    this.#bufferRef = null;
    this.#time = 0.5; // a double from the start, so the field never changes representation
    this.#stack = null;
    this.#record = null;
    this.#youngIndex = -1;
  }

  /** True until the block is deallocated or its pool disposed. */
  get isLive(): boolean {
    return this.state === LIVE && !this.devicePool.disposed;
  }

  /**
   * The ArrayBuffer holding exactly this block (created on first use, then
   * reused). It is detached when the block is freed.
   */
  get buffer(): ArrayBuffer {
    this.check('MemoryHandle.buffer');
    return this.blockBuffer ?? this.createBuffer();
  }

  /** Offset of the block inside `buffer`: always 0, the buffer spans the block alone. */
  get byteOffset(): number {
    this.check('MemoryHandle.byteOffset');
    return 0;
  }

  /** Native address of the block's first byte, for kernels that take pointers. */
  get address(): bigint {
    this.check('MemoryHandle.address');
    const backend = this.devicePool.backend;
    if (!backend.addressOf) {
      throw new BitNetError(ErrorCode.UNSUPPORTED, 'MemoryHandle.address', `device "${this.device}" has no native addresses`);
    }
    return backend.addressOf(this.arena.memory) + BigInt(this.offset);
  }

  asUint8Array(): Uint8Array {
    return new Uint8Array(this.viewBuffer('MemoryHandle.asUint8Array'), 0, this.size);
  }
  asInt8Array(): Int8Array {
    return new Int8Array(this.viewBuffer('MemoryHandle.asInt8Array'), 0, this.size);
  }
  asUint8ClampedArray(): Uint8ClampedArray {
    return new Uint8ClampedArray(this.viewBuffer('MemoryHandle.asUint8ClampedArray'), 0, this.size);
  }
  asUint16Array(): Uint16Array {
    return new Uint16Array(this.viewBuffer('MemoryHandle.asUint16Array'), 0, this.size >>> 1);
  }
  asInt16Array(): Int16Array {
    return new Int16Array(this.viewBuffer('MemoryHandle.asInt16Array'), 0, this.size >>> 1);
  }
  asUint32Array(): Uint32Array {
    return new Uint32Array(this.viewBuffer('MemoryHandle.asUint32Array'), 0, Math.floor(this.size / 4));
  }
  asInt32Array(): Int32Array {
    return new Int32Array(this.viewBuffer('MemoryHandle.asInt32Array'), 0, Math.floor(this.size / 4));
  }
  asFloat32Array(): Float32Array {
    return new Float32Array(this.viewBuffer('MemoryHandle.asFloat32Array'), 0, Math.floor(this.size / 4));
  }
  asFloat64Array(): Float64Array {
    return new Float64Array(this.viewBuffer('MemoryHandle.asFloat64Array'), 0, Math.floor(this.size / 8));
  }
  asBigInt64Array(): BigInt64Array {
    return new BigInt64Array(this.viewBuffer('MemoryHandle.asBigInt64Array'), 0, Math.floor(this.size / 8));
  }
  asBigUint64Array(): BigUint64Array {
    return new BigUint64Array(this.viewBuffer('MemoryHandle.asBigUint64Array'), 0, Math.floor(this.size / 8));
  }
  asDataView(): DataView {
    return new DataView(this.viewBuffer('MemoryHandle.asDataView'), 0, this.size);
  }

  /** Sets every byte of the block to `value`, an integer byte 0..255 (native memset, no view needed). */
  fill(value = 0): this {
    this.check('MemoryHandle.fill');
    // Checked rather than masked: fill(256) or fill('0xff') writing 0 or 255 would hide a caller bug.
    if (typeof value !== 'number') {
      throw invalidArgument('MemoryHandle.fill', `value must be a number (a byte from 0 to 255), got ${typeof value === 'bigint' ? 'a bigint ' : ''}${formatValue(value)}`);
    }
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw outOfRange('MemoryHandle.fill', `value must be an integer from 0 to 255, got ${value}`);
    }
    const backend = this.devicePool.backend;
    if (!backend.fill) {
      throw new BitNetError(ErrorCode.UNSUPPORTED, 'MemoryHandle.fill', `device "${this.device}" cannot fill memory`);
    }
    backend.fill(this.arena.memory, this.offset, this.size, value);
    return this;
  }

  toString(): string {
    return `MemoryHandle #${this.id} (${this.size} bytes, alignment ${this.alignment}, ${this.device}, ${this.isLive ? 'live' : 'freed'})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** @internal */
  check(op: string): void {
    if (this.state !== LIVE || this.devicePool.disposed) {
      throw new DisposedError(
        op,
        `memory handle #${this.id} (${this.size} bytes on ${this.device}, ${this.devicePool.disposed ? 'pool disposed' : 'deallocated'})`,
      );
    }
  }

  private viewBuffer(op: string): ArrayBuffer {
    this.check(op);
    return this.blockBuffer ?? this.createBuffer();
  }

  private createBuffer(): ArrayBuffer {
    const backend = this.devicePool.backend;
    if (!backend.hostVisible || !backend.blockBuffer) {
      throw new BitNetError(
        ErrorCode.UNSUPPORTED,
        'MemoryHandle.buffer',
        `memory of device "${this.device}" is not visible from JS; pass the handle to that device's kernels`,
      );
    }
    const buffer = backend.blockBuffer(this.arena.memory, this.offset, this.size);
    Object.defineProperty(buffer, owner, { value: this });
    const ref = new WeakRef(buffer);
    this.devicePool.views.add(ref);
    this.blockBuffer = buffer;
    this.bufferRef = ref;
    if (this.record) this.record.bufferRef = ref;
    return buffer;
  }
}

/** @internal */
export function createHandle(
  id: number,
  size: number,
  alignment: number,
  device: string,
  poolOwner: object,
  devicePool: DevicePool,
  slab: Slab | null,
  slot: number,
  arena: Arena,
  offset: number,
  blockBytes: number,
): MemoryHandle {
  return new MemoryHandle(constructing, id, size, alignment, device, poolOwner, devicePool, slab, slot, arena, offset, blockBytes);
}

/** @internal Detaches the block's ArrayBuffer (if one was made) so no view reaches the memory again. */
export function detachViews(devicePool: DevicePool, buffer: ArrayBuffer | null, ref: WeakRef<ArrayBuffer> | null): void {
  if (ref) devicePool.views.delete(ref);
  if (buffer) devicePool.backend.detachBlockBuffer!(buffer);
}
