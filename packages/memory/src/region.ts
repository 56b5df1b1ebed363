import { BitNetRangeError, ErrorCode } from '@bitnet/errors';
import type { ArenaMemory, MemoryBackend } from './backend.js';
import { BuddyArena } from './buddy-allocator.js';
import { nextPowerOfTwo } from './size-classes.js';

/** Alignment of every arena: the largest block alignment the pool offers. */
export const ARENA_ALIGNMENT = 4096;

let nextArenaId = 1;

/** One arena: the device memory plus its buddy bookkeeping. */
export class Arena {
  readonly id = nextArenaId++;
  readonly memory: ArenaMemory;
  readonly buddy: BuddyArena;
  /** Runs handed out and not yet returned (slabs in the small region, blocks in the large one). */
  liveRuns = 0;
  released = false;

  constructor(memory: ArenaMemory, minBlock: number) {
    this.memory = memory;
    this.buddy = new BuddyArena(memory.bytes, minBlock);
  }
}

/**
 * The arenas of one (device, small|large) pair: a buddy allocator per arena,
 * new arenas on demand up to `maxBytes`, empty ones given back by cleanup.
 */
export class BuddyRegion {
  readonly arenas: Arena[] = [];
  reservedBytes = 0;
  /** Offset of the run the last successful allocate() returned. */
  lastOffset = 0;
  /** Largest power of two ≤ maxBytes: the biggest arena, hence the biggest request. */
  readonly largestArena: number;

  constructor(
    readonly name: 'small' | 'large',
    readonly device: string,
    readonly backend: MemoryBackend,
    readonly minBlock: number,
    readonly growthBytes: number,
    readonly maxBytes: number,
    readonly limitName: string,
  ) {
    this.largestArena = 2 ** Math.floor(Math.log2(maxBytes));
  }

  /** Arena holding a run of `bytes` (its offset in `lastOffset`); grows the region if needed. */
  allocate(bytes: number, op: string): Arena {
    const arenas = this.arenas;
    for (let i = 0; i < arenas.length; i++) {
      const arena = arenas[i]!;
      const offset = arena.buddy.allocate(bytes);
      if (offset !== -1) {
        arena.liveRuns++;
        this.lastOffset = offset;
        return arena;
      }
    }
    const arena = this.grow(bytes, op);
    const offset = arena.buddy.allocate(bytes);
    arena.liveRuns++;
    this.lastOffset = offset;
    return arena;
  }

  free(arena: Arena, offset: number, bytes: number): void {
    arena.buddy.free(offset, bytes);
    arena.liveRuns--;
  }

  /** Bytes a run of `bytes` occupies once rounded to whole units. */
  roundedBytes(bytes: number): number {
    return Math.ceil(bytes / this.minBlock) * this.minBlock;
  }

  /** True when a request of `bytes` fits an arena this region may create (a power of two ≤ maxBytes). */
  canEverHold(bytes: number): boolean {
    return this.roundedBytes(bytes) <= this.largestArena;
  }

  private grow(bytes: number, op: string): Arena {
    const needed = nextPowerOfTwo(this.roundedBytes(bytes));
    let size = Math.max(needed, this.growthBytes);
    if (this.reservedBytes + size > this.maxBytes) size = needed;
    // Empty arenas too small for this request may make room for one that fits; they are counted here and
    // given back only once the new arena exists, so a call that fails leaves the region as it was.
    let emptyBytes = 0;
    for (const arena of this.arenas) if (arena.liveRuns === 0 && arena.buddy.isEmpty()) emptyBytes += arena.memory.bytes;
    if (size / this.minBlock > 2 ** 30) {
      // Beyond what one arena's bookkeeping can index: refused before the device is asked for memory.
      throw new BitNetRangeError(
        ErrorCode.OUT_OF_MEMORY,
        op,
        `the ${this.name} pool of device "${this.device}" cannot hold ${bytes} bytes: an arena of ${size} bytes has more than 2^30 units of ${this.minBlock} bytes`,
        { details: { bytes, arenaBytes: size } },
      );
    }
    if (this.reservedBytes - emptyBytes + size > this.maxBytes) {
      throw new BitNetRangeError(
        ErrorCode.OUT_OF_MEMORY,
        op,
        `the ${this.name} pool of device "${this.device}" needs a ${size}-byte arena for ${bytes} bytes but holds ` +
          `${this.reservedBytes} of at most ${this.maxBytes} bytes (${this.limitName})`,
        { details: { bytes, arenaBytes: size, reservedBytes: this.reservedBytes, maxBytes: this.maxBytes } },
      );
    }
    let memory: ArenaMemory;
    try {
      memory = this.backend.allocateArena(size, ARENA_ALIGNMENT);
    } catch (error) {
      throw new BitNetRangeError(
        ErrorCode.OUT_OF_MEMORY,
        op,
        `device "${this.device}" could not provide a ${size}-byte arena for the ${this.name} pool`,
        { cause: error, details: { bytes, arenaBytes: size } },
      );
    }
    let arena: Arena;
    try {
      arena = new Arena(memory, this.minBlock);
    } catch (error) {
      this.backend.freeArena(memory);
      throw error;
    }
    if (this.reservedBytes + size > this.maxBytes) this.releaseEmptyArenas(0, Infinity, this.maxBytes - size);
    this.arenas.push(arena);
    this.reservedBytes += size;
    return arena;
  }

  /**
   * Gives empty arenas back to the device, keeping the first `keep` of them. Stops when `deadline`
   * (performance.now() value) has passed, or once no more than `target` bytes stay reserved. Returns bytes released.
   */
  releaseEmptyArenas(keep: number, deadline: number, target = 0): number {
    let kept = 0;
    let released = 0;
    for (let i = 0; i < this.arenas.length && this.reservedBytes > target; ) {
      const arena = this.arenas[i]!;
      if (arena.liveRuns !== 0 || !arena.buddy.isEmpty()) {
        i++;
        continue;
      }
      if (kept < keep) {
        kept++;
        i++;
        continue;
      }
      if (performance.now() > deadline) break;
      this.arenas.splice(i, 1);
      this.reservedBytes -= arena.memory.bytes;
      released += arena.memory.bytes;
      arena.released = true;
      this.backend.freeArena(arena.memory);
    }
    return released;
  }

  /** Gives back one empty arena (one this region just grew for a block whose allocation then failed). */
  releaseArena(arena: Arena): void {
    const index = this.arenas.indexOf(arena);
    if (index < 0 || arena.liveRuns !== 0 || !arena.buddy.isEmpty()) return;
    this.arenas.splice(index, 1);
    this.reservedBytes -= arena.memory.bytes;
    arena.released = true;
    this.backend.freeArena(arena.memory);
  }

  /** Frees every arena; only called when the pool is disposed. */
  releaseAll(): void {
    for (const arena of this.arenas) {
      arena.released = true;
      this.backend.freeArena(arena.memory);
    }
    this.arenas.length = 0;
    this.reservedBytes = 0;
  }

  freeBytes(): number {
    let free = 0;
    for (const arena of this.arenas) free += arena.buddy.freeBytes;
    return free;
  }

  largestFreeBlock(): number {
    let largest = 0;
    for (const arena of this.arenas) largest = Math.max(largest, arena.buddy.largestFreeBlock());
    return largest;
  }
}
