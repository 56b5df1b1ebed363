/** Shape of the compiled addon's exports. Kept in step with native/src/napi/*.cc. */
export interface NativeCpuFeatures {
  architecture: string;
  vendor: string;
  brand: string;
  flags: Record<string, boolean>;
}

export type IsaTierName = 'generic' | 'neon' | 'avx2' | 'avx512';

export interface NativeIsa {
  selected: IsaTierName;
  best: IsaTierName;
  overridden: boolean;
  warning: string | null;
  supported: IsaTierName[];
}

export interface NativeCacheInfo {
  level: number;
  type: 'data' | 'instruction' | 'unified';
  sizeBytes: number;
  lineBytes: number;
  sharedByCpus: number;
}

export interface NativeMemoryInfo {
  totalBytes: number;
  availableBytes: number;
  cgroupLimitBytes: number | null;
}

export interface NativeThreadInfo {
  poolThreads: number;
  availableCpus: number;
  jobsRun: number;
  jobsInline: number;
}

export interface BandwidthOptions {
  /** Working set in bytes; default 2 × last-level cache within [256 MiB, 1 GiB], capped at 1/8 of free memory. */
  bytes?: number;
  /** Threads; 0 or absent = every pool thread. */
  threads?: number;
  /** Best of this many passes (default 5). */
  repetitions?: number;
}

export interface BandwidthResult {
  readBytesPerSecond: number;
  triadBytesPerSecond: number;
  bytes: number;
  threads: number;
  isa: IsaTierName;
}

export interface ComputeResult {
  flopsPerSecond: number;
  threads: number;
  isa: IsaTierName;
}

export interface NativeBinding {
  version: string;
  getCpuFeatures(): NativeCpuFeatures;
  getIsa(): NativeIsa;
  getCacheInfo(): NativeCacheInfo[];
  getMemoryInfo(): NativeMemoryInfo;
  getThreadInfo(): NativeThreadInfo;
  allocateAligned(size: number, alignment?: number, uninitialized?: boolean): ArrayBuffer;
  freeAligned(buffer: ArrayBuffer): void;
  addressOf(value: ArrayBuffer | ArrayBufferView): bigint;
  nativeMemoryStats(): { liveBytes: number; liveBlocks: number };
  measureBandwidth(options?: BandwidthOptions): BandwidthResult;
  measureBandwidthAsync(options?: BandwidthOptions): Promise<BandwidthResult>;
  measureCompute(options?: { threads?: number; seconds?: number }): ComputeResult;
  threadPoolSum(values: Float64Array, threads?: number): { sum: number; threadsRan: number };
  streamSum(values: Float32Array, tier: IsaTierName): number;
  streamTriad(a: Float32Array, b: Float32Array, c: Float32Array, scalar: number, tier: IsaTierName): void;
  metalStatus(): { available: boolean; reason?: string };

  // ---- memory area (native/src/napi/memory.cc), used by @bitnet/memory ----
  /** ArrayBuffer over [offset, offset + length) of an allocateAligned arena; no finalizer (the arena owns the memory). */
  memoryBlockBuffer(arena: ArrayBuffer, offset: number, length: number): ArrayBuffer;
  /** Detaches an ArrayBuffer so every view over it reads as empty; a no-op when already detached. */
  memoryDetach(buffer: ArrayBuffer): void;
  /** memset of [offset, offset + length) of an arena. */
  memoryFill(arena: ArrayBuffer, offset: number, length: number, value?: number): void;
  /** Benchmark peers: an empty call, one malloc+free per call, a C++ loop of them (returns ns per pair). */
  memoryBenchNoop(): void;
  memoryBenchMallocFree(size: number): void;
  memoryBenchMallocFreeLoop(size: number, count: number): number;
  /** Benchmark peer: a process-wide, mutex-guarded native pool of 64-byte blocks. */
  memoryBenchSharedPoolAllocate(): number;
  memoryBenchSharedPoolFree(index: number): void;
  /** Areas added by later packages' kernels register more functions here. */
  [name: string]: unknown;
}
