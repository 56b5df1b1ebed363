export interface BenchCase {
  /** Rows with the same group are compared; the first non-peer row is "ours". */
  group: string;
  /** Implementation name, e.g. "bitnet", "hf-native", "mlx-cpu". */
  name: string;
  /** True for other libraries measured for comparison. */
  peer?: boolean;
  /** One iteration. May return a promise. */
  run: () => unknown;
  /** Called once before timing (allocate, warm caches). */
  setup?: () => unknown;
  /** Called once after timing. */
  teardown?: () => unknown;
  /** Called before every iteration, warm-up included, outside the timed span (a `gc()`, a cache reset). */
  beforeEach?: () => unknown;
  /** Work per iteration, in `unit`s of throughput (bytes → GB/s, flops → GFLOPS, items → items/s). */
  work?: { amount: number; unit: 'bytes' | 'flops' | 'items' | 'tokens' | 'sequences' };
  /** Minimum measuring time in ms (default 300) and iteration bounds. */
  minTimeMs?: number;
  minIterations?: number;
  maxIterations?: number;
  /** Extra facts to record with the row (shapes, threads). */
  meta?: Record<string, unknown>;
}

export interface BenchRow {
  group: string;
  name: string;
  peer: boolean;
  iterations: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  throughput: number | null;
  throughputUnit: string | null;
  /** Median throughput over the bandwidth probe's read GB/s, when work is in bytes. */
  fractionOfBandwidth: number | null;
  /** ours.median / this.median per group, computed for peers: > 1 means we are faster. */
  speedupVsPeer?: number | null;
  meta?: Record<string, unknown>;
  error?: string;
}

export interface BenchSuiteOptions {
  /** Measure the native memory-bandwidth probe at the start and the end of the run, keeping the better of each (needs @bitnet/native). */
  bandwidth?: boolean | { threads?: number[] };
  /** Where JSON goes; default <cwd>/bench-results/<name>.json. */
  outputFile?: string;
}

export interface BenchReport {
  suite: string;
  /** The package script that ran the suite (from npm_package_name and npm_lifecycle_event), or null outside one. */
  source: { package: string; script: string } | null;
  date: string;
  machine: Record<string, unknown>;
  /** Per thread count: the better of the probes at the start and the end of the run, and the two reads. */
  bandwidth: Array<{ threads: number; readBytesPerSecond: number; triadBytesPerSecond: number; readAtStartBytesPerSecond: number; readAtEndBytesPerSecond: number | null }>;
  rows: BenchRow[];
}

export class BenchSuite {
  constructor(name: string, options?: BenchSuiteOptions);
  add(benchCase: BenchCase): this;
  /** Runs every case, prints the table, writes JSON, returns the report. */
  run(): Promise<BenchReport>;
  /** Adds a free-form note printed under the table and saved in JSON. */
  note(text: string): this;
}

export function formatTable(report: BenchReport): string;
export function measure(fn: () => unknown, options?: { minTimeMs?: number; minIterations?: number; maxIterations?: number; beforeEach?: () => unknown }): Promise<number[]>;
