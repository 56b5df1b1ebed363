// Test-only stand-in for @bitnet/memory's pool (same contract), built on
// getNative().allocateAligned. Not exported from the package.
import { BitNetError, ErrorCode } from '@bitnet/errors';
import { getNative } from '@bitnet/native';
import type { MemoryHandle, TensorMemoryPool } from '../storage.js';

class LocalHandle implements MemoryHandle {
  #buffer: ArrayBuffer | null;
  constructor(readonly id: number, buffer: ArrayBuffer, readonly size: number, readonly alignment: number, readonly device: string) {
    this.#buffer = buffer;
  }
  get isLive(): boolean { return this.#buffer !== null; }
  get buffer(): ArrayBuffer {
    if (!this.#buffer) throw new BitNetError(ErrorCode.DISPOSED, 'MemoryHandle', `handle ${this.id} has been freed`);
    return this.#buffer;
  }
  get byteOffset(): number { return 0; }
  asUint8Array(): Uint8Array { return new Uint8Array(this.buffer, 0, this.size); }
  asFloat32Array(): Float32Array { return new Float32Array(this.buffer, 0, Math.floor(this.size / 4)); }
  free(): ArrayBuffer {
    const b = this.buffer;
    this.#buffer = null;
    return b;
  }
}

export class LocalPool implements TensorMemoryPool {
  private nextId = 1;
  readonly live = new Set<LocalHandle>();
  allocated = 0;
  freed = 0;

  allocate(size: number, alignment = 64, device = 'cpu'): MemoryHandle {
    const handle = new LocalHandle(this.nextId++, getNative().allocateAligned(size, alignment), size, alignment, device);
    this.live.add(handle);
    this.allocated++;
    return handle;
  }

  deallocate(handle: MemoryHandle): void {
    if (!(handle instanceof LocalHandle) || !this.live.has(handle))
      throw new BitNetError(ErrorCode.DOUBLE_FREE, 'deallocate', `handle ${handle.id} is not live in this pool`);
    this.live.delete(handle);
    this.freed++;
    getNative().freeAligned(handle.free());
  }

  get liveCount(): number { return this.live.size; }
}
