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
  /** How long an idle worker spins before it blocks (BITNET_SPIN_US, default 500). */
  spinMicroseconds: number;
  /** Times a worker spun out and blocked waiting for a job (each costs a wake-up later). */
  workerSleeps: number;
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

// ---- tensor area (native/src/napi/tensor.cc) ----
// Operands are (buffer, byteOffset, strides in elements); every reachable element
// is bounds-checked natively. `tier` runs one ISA tier's kernels (tests).
export type TensorBuffer = ArrayBuffer | ArrayBufferView;

export interface NativeTensorBinding {
  /** op: add, sub, mul, div, pow, maximum, minimum = 0..6. */
  tensorBinary(op: number, shape: number[], out: TensorBuffer, outOffset: number, outStrides: readonly number[], a: TensorBuffer, aOffset: number, aStrides: readonly number[], b: TensorBuffer, bOffset: number, bStrides: readonly number[], tier?: IsaTierName): void;
  /** op: eq, ne, lt, le, gt, ge = 0..5; out is bytes (0/1). */
  tensorCompare(op: number, shape: number[], out: TensorBuffer, outOffset: number, outStrides: readonly number[], a: TensorBuffer, aOffset: number, aStrides: readonly number[], b: TensorBuffer, bOffset: number, bStrides: readonly number[], tier?: IsaTierName): void;
  /** op: neg, abs, sqrt, rsqrt, exp, log, relu, gelu, geluTanh, silu, sigmoid, tanh, clamp(p0, p1), square = 0..13. */
  tensorUnary(op: number, shape: number[], out: TensorBuffer, outOffset: number, outStrides: readonly number[], a: TensorBuffer, aOffset: number, aStrides: readonly number[], p0: number, p1: number, tier?: IsaTierName): void;
  tensorWhere(shape: number[], out: TensorBuffer, outOffset: number, outStrides: readonly number[], cond: TensorBuffer, condOffset: number, condStrides: readonly number[], a: TensorBuffer, aOffset: number, aStrides: readonly number[], b: TensorBuffer, bOffset: number, bStrides: readonly number[]): void;
  tensorCopy(elementSize: number, shape: number[], out: TensorBuffer, outOffset: number, outStrides: readonly number[], input: TensorBuffer, inOffset: number, inStrides: readonly number[]): void;
  /** op: sum, mean, max, min, argmax, argmin, var = 0..6; out contiguous over the kept axes (int32 for arg ops). */
  tensorReduce(op: number, shape: number[], input: TensorBuffer, inOffset: number, inStrides: readonly number[], axes: number[], out: TensorBuffer, outOffset: number, correction: number, tier?: IsaTierName): void;
  tensorSoftmax(x: TensorBuffer, xOffset: number, y: TensorBuffer, yOffset: number, rows: number, n: number, log: boolean, tier?: IsaTierName): void;
  tensorRmsNorm(x: TensorBuffer, xOffset: number, weight: TensorBuffer | null, weightOffset: number, y: TensorBuffer, yOffset: number, rows: number, n: number, eps: number, tier?: IsaTierName): void;
  tensorLayerNorm(x: TensorBuffer, xOffset: number, weight: TensorBuffer | null, weightOffset: number, bias: TensorBuffer | null, biasOffset: number, y: TensorBuffer, yOffset: number, rows: number, n: number, eps: number, tier?: IsaTierName): void;
  tensorConvert(kind: 'f32->f16' | 'f16->f32' | 'f32->bf16' | 'bf16->f32', input: TensorBuffer, inOffset: number, out: TensorBuffer, outOffset: number, count: number, tier?: IsaTierName): void;
  /** a/b strides: [batch strides..., row, col]; c contiguous [...batch, m, n]. threads 0 = the whole pool. */
  tensorMatmul(batchShape: number[], m: number, n: number, k: number, a: TensorBuffer, aOffset: number, aStrides: readonly number[], b: TensorBuffer, bOffset: number, bStrides: readonly number[], c: TensorBuffer, cOffset: number, threads?: number, tier?: IsaTierName): void;
  tensorMatmulAsync(batchShape: number[], m: number, n: number, k: number, a: TensorBuffer, aOffset: number, aStrides: readonly number[], b: TensorBuffer, bOffset: number, bStrides: readonly number[], c: TensorBuffer, cOffset: number, threads?: number, tier?: IsaTierName): Promise<void>;
}

export interface NativeBinding extends NativeTensorBinding {
  version: string;
  /** Throws ERR_BITNET_NATIVE_LOAD unless `jsVersion` is the version this binary was built for. */
  checkJsVersion(jsVersion: string): true;
  getCpuFeatures(): NativeCpuFeatures;
  getIsa(): NativeIsa;
  getCacheInfo(): NativeCacheInfo[];
  getMemoryInfo(): NativeMemoryInfo;
  getThreadInfo(): NativeThreadInfo;
  allocateAligned(size: number, alignment?: number, uninitialized?: boolean): ArrayBuffer;
  freeAligned(buffer: ArrayBuffer): void;
  /** Largest external ArrayBuffer this Node.js makes (buffer.constants.MAX_LENGTH); the loader sets it. */
  setArrayBufferLimit(bytes: number): void;
  addressOf(value: ArrayBuffer | ArrayBufferView): bigint;
  nativeMemoryStats(): { liveBytes: number; liveBlocks: number };
  measureBandwidth(options?: BandwidthOptions): BandwidthResult;
  measureBandwidthAsync(options?: BandwidthOptions): Promise<BandwidthResult>;
  measureCompute(options?: { threads?: number; seconds?: number }): ComputeResult;
  threadPoolSum(values: Float64Array, threads?: number): { sum: number; threadsRan: number };
  streamSum(values: Float32Array, tier: IsaTierName): number;
  /** The bandwidth probe's read kernel over caller memory on `threads` pool threads (0 = all): lets a benchmark time a plain read of the bytes a kernel streams, at the same moments. Returns the sum of the whole 64-byte lines read as float32. */
  probeRead(data: ArrayBuffer | ArrayBufferView, threads?: number): number;
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
