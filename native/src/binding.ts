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

  // ---- ternary area (napi/ternary.cc); typed wrappers live in ternary.ts ----
  ternaryVariants(): { selected: string; supported: string[] };
  packTernary(values: Int8Array, rows: number, columns: number, layout: 'i2_r4' | 'tq2_0' | 'tq1_0', blockScales?: Float32Array | null, out?: Uint8Array): Uint8Array;
  unpackTernary(data: Uint8Array, rows: number, columns: number, layout: 'i2_r4' | 'tq2_0' | 'tq1_0'): { values: Int8Array; blockScales: Float32Array | null };
  quantizeActivationsInt8(x: Float32Array, rows: number, columns: number): { values: Int8Array; scales: Float32Array };
  ternaryMatmul(codes: Uint8Array, scales: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, bias: Float32Array | null, out: Float32Array | null, threads?: number, tier?: string): Float32Array;
  ternaryMatmulAsync(codes: Uint8Array, scales: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, bias: Float32Array | null, out: Float32Array | null, threads?: number, tier?: string): Promise<Float32Array>;
  ternaryMatmulInt8(codes: Uint8Array, rows: number, columns: number, xq: Int8Array, batch: number, threads?: number, tier?: string): Int32Array;
  denseMatmulF32(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, out: Float32Array | null, threads?: number, tier?: string): Float32Array;
  denseMatmulF32Async(w: Float32Array, rows: number, columns: number, x: Float32Array, batch: number, out: Float32Array | null, threads?: number, tier?: string): Promise<Float32Array>;
  float32ToFloat16Bits(values: Float32Array): Uint16Array;
  /** Areas added by later packages' kernels register more functions here. */
  [name: string]: unknown;
}
