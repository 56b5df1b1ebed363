// encodeBatch over worker threads: each worker rebuilds the tokenizer once from
// its plain-data spec, encodes a contiguous share of the batch, and sends typed
// arrays back (transferred, not copied). The calling thread encodes a share too.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BitNetError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { TokenEncoding, ownsBuffer, type EncodingArrays } from './encoding.js';
import type { EncodeBatchOptions, Encoding, Tokenizer } from './types.js';
import { checkText, checkTexts, optionsObject } from './common.js';
import { claimChunk, closeClaims, createClaims, planChunks, planCopyOrder } from './batch-schedule.js';

/** Below this many UTF-16 units in the whole batch, threads cost more than they save. */
const MIN_PARALLEL_CHARS = 64 * 1024;
/** Chunks per thread: enough that the last ones are small next to a thread's share. */
const CHUNKS_PER_THREAD = 128;
/** Smallest chunk worth a claim and a packed reply. */
const MIN_CHUNK_CHARS = 8 * 1024;
/**
 * A text at least this long (pair included) comes back from a worker with the
 * arrays `encode` made for it, transferred, instead of copied into the packed
 * reply arrays: on the bench corpus packing cost ~5% of a worker's time, mostly
 * first-touch page faults on the fresh reply arrays, and 93% of its text is in
 * such documents. Short texts stay packed: postMessage's cost grows faster than
 * the number of transferables (here 1000 took 0.8 ms, 10000 took 42 ms).
 */
export const OWN_ARRAYS_CHARS = 16 * 1024;
/** At most this many encodings per reply come back with their own arrays (one buffer each: allocateEncodingArrays). */
export const MAX_OWN_ARRAYS = 256;

export interface PackedEncodings {
  /** Tokens of each encoding, in order; -1 - k for the encoding sent as `own[k]`. */
  counts: Int32Array;
  ids: Int32Array;
  offsets: Int32Array;
  typeIds: Uint8Array;
  special: Uint8Array;
  sequenceIds: Int8Array;
  own: EncodingArrays[];
  /** [encoding index, its TokenEncoding.tokenTexts] for the rare encodings that have them. */
  tokenTexts: Array<[number, ReadonlyArray<readonly [number, string]>]>;
}

export interface SpecSource {
  toSpec(): unknown;
  encode(text: string, options?: { addSpecialTokens?: boolean; pair?: string }): Encoding;
  /** id → token table the returned encodings read their `tokens` from. */
  idTableView(): ArrayLike<string | undefined>;
}

/**
 * Appends encodings to one set of growing arrays as they are made (or, for
 * long texts, keeps the arrays `encode` made: see OWN_ARRAYS_CHARS), so the
 * worker's reply needs no final packing pass: packing half of the 13.5 MB bench
 * corpus (2.2M tokens) at the end took 13–40 ms in the worker while the calling
 * thread, done with its share, waited.
 */
export class EncodingPacker {
  private counts = new Int32Array(64);
  private ids: Int32Array;
  private offsets: Int32Array;
  private typeIds: Uint8Array;
  private special: Uint8Array;
  private sequenceIds: Int8Array;
  private encodings = 0;
  private tokens = 0;
  private readonly own: EncodingArrays[] = [];
  private readonly tokenTexts: Array<[number, ReadonlyArray<readonly [number, string]>]> = [];

  /**
   * `expectedTokens` sizes the arrays up front: growing them by doubling from
   * small copied and page-faulted ~2× the final size (4% of a worker's time on
   * the bench corpus). Pages past the tokens actually written are never touched.
   */
  constructor(expectedTokens = 4096) {
    const capacity = Math.max(4096, Math.ceil(expectedTokens));
    this.ids = new Int32Array(capacity);
    this.offsets = new Int32Array(2 * capacity);
    this.typeIds = new Uint8Array(capacity);
    this.special = new Uint8Array(capacity);
    this.sequenceIds = new Int8Array(capacity);
  }

  /**
   * Appends an encoding. With `ownArrays` (and fewer than MAX_OWN_ARRAYS so far)
   * its arrays go in the reply as they are, to be transferred: the encoding must
   * not be used after the reply is sent.
   */
  add(encoding: Encoding, ownArrays = false): void {
    const e = encoding as TokenEncoding;
    const count = e.ids.length;
    if (this.encodings === this.counts.length) this.counts = grown(this.counts, 2 * this.counts.length, this.encodings);
    if (e.tokenTexts !== null) this.tokenTexts.push([this.encodings, e.tokenTexts]);
    // Only an encoding whose arrays are their own buffer: transferring a shared block would take it from the others.
    if (ownArrays && this.own.length < MAX_OWN_ARRAYS && ownsBuffer(e.ids)) {
      this.counts[this.encodings++] = -1 - this.own.length;
      this.own.push({ ids: e.ids, offsets: e.offsetPairs, typeIds: e.typeIds, special: e.specialTokensMask, sequenceIds: e.sequenceIds });
      return;
    }
    if (this.tokens + count > this.ids.length) {
      let capacity = 2 * this.ids.length;
      while (capacity < this.tokens + count) capacity *= 2;
      const used = this.tokens;
      this.ids = grown(this.ids, capacity, used);
      this.offsets = grown(this.offsets, 2 * capacity, 2 * used);
      this.typeIds = grown(this.typeIds, capacity, used);
      this.special = grown(this.special, capacity, used);
      this.sequenceIds = grown(this.sequenceIds, capacity, used);
    }
    const n = this.tokens;
    this.counts[this.encodings++] = count;
    this.ids.set(e.ids, n);
    this.offsets.set(e.offsetPairs, 2 * n);
    this.typeIds.set(e.typeIds, n);
    this.special.set(e.specialTokensMask, n);
    this.sequenceIds.set(e.sequenceIds, n);
    this.tokens += count;
  }

  /** Views of exactly the appended data (their buffers are larger: transfer them whole). */
  finish(): PackedEncodings {
    return {
      counts: this.counts.subarray(0, this.encodings),
      ids: this.ids.subarray(0, this.tokens),
      offsets: this.offsets.subarray(0, 2 * this.tokens),
      typeIds: this.typeIds.subarray(0, this.tokens),
      special: this.special.subarray(0, this.tokens),
      sequenceIds: this.sequenceIds.subarray(0, this.tokens),
      own: this.own,
      tokenTexts: this.tokenTexts,
    };
  }
}

/** The buffers to transfer with a packed reply, each once. */
export function replyTransfer(packed: PackedEncodings): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of [packed.counts, packed.ids, packed.offsets, packed.typeIds, packed.special, packed.sequenceIds]) buffers.add(array.buffer as ArrayBuffer);
  for (const a of packed.own) for (const array of [a.ids, a.offsets, a.typeIds, a.special, a.sequenceIds]) buffers.add(array.buffer as ArrayBuffer);
  return [...buffers];
}

/** A `size`-element copy of `array`'s first `used` elements. */
function grown<T extends Int32Array | Uint8Array | Int8Array>(array: T, size: number, used: number): T {
  const next = new (array.constructor as new (length: number) => T)(size);
  next.set(array.subarray(0, used));
  return next;
}

export function unpackEncodings(packed: PackedEncodings, table: ArrayLike<string | undefined>): TokenEncoding[] {
  const out: TokenEncoding[] = [];
  let n = 0;
  let nextTexts = 0;
  for (let i = 0; i < packed.counts.length; i++) {
    const count = packed.counts[i];
    let texts: ReadonlyArray<readonly [number, string]> | null = null;
    if (nextTexts < packed.tokenTexts.length && packed.tokenTexts[nextTexts][0] === i) texts = packed.tokenTexts[nextTexts++][1];
    if (count < 0) {
      const a = packed.own[-1 - count];
      out.push(new TokenEncoding(a.ids, a.offsets, a.typeIds, a.special, a.sequenceIds, table, undefined, texts));
      continue;
    }
    out.push(
      new TokenEncoding(
        packed.ids.subarray(n, n + count),
        packed.offsets.subarray(2 * n, 2 * (n + count)),
        packed.typeIds.subarray(n, n + count),
        packed.special.subarray(n, n + count),
        packed.sequenceIds.subarray(n, n + count),
        table,
        undefined,
        texts,
      ),
    );
    n += count;
  }
  return out;
}

let workerScript: string | null | undefined;

/** The built worker entry; from sources (tests), the package's dist build. */
function findWorkerScript(): string | null {
  if (workerScript !== undefined) return workerScript;
  const candidates = ['./batch-worker.js', '../dist/batch-worker.js'];
  workerScript = null;
  for (const candidate of candidates) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (fs.existsSync(file)) {
      workerScript = file;
      break;
    }
  }
  return workerScript;
}

/** True when encodeBatch can use worker threads in this installation. */
export function workerThreadsAvailable(): boolean {
  return findWorkerScript() !== null;
}

/** What a worker sends back: the chunks it claimed and their encodings. */
export interface WorkerResult {
  chunks: number[];
  /** The encodings of those chunks' texts, chunk after chunk: packed, long texts' with their own arrays. */
  packed: PackedEncodings;
}

/**
 * A batch as sent to every worker. The texts are not structured-cloned: the
 * calling thread copies their UTF-16 code units into shared memory chunk by
 * chunk, the workers' ranges first, and marks each chunk ready, so a worker
 * starts on its first chunk while the rest are still being copied (a clone of a
 * 13 MB batch kept the worker idle for ~50 ms per call here).
 */
export interface BatchJob {
  job: number;
  /** UTF-16 code units of every text, each followed by its pair when there are pairs. */
  units: SharedArrayBuffer;
  /** Per text: start of its units, its length, its pair's length (-1 without a pair). */
  layout: Int32Array;
  addSpecialTokens: boolean;
  /** [from0, to0, from1, to1, …] text ranges: the chunk plan (see batch-schedule.ts). */
  chunks: Int32Array;
  /** Claim state of the plan's ranges (see claimChunk). */
  claims: BigInt64Array;
  /** The range this worker owns. */
  range: number;
  /** Per chunk: 0 until its texts are in shared memory, then 1 (2: the batch failed, stop). */
  ready: Int32Array;
  /** A thread's expected share of the tokens (its reply arrays start this large). */
  expectedTokens: number;
}

/** Reads text `i` (and its pair) of a batch back from shared memory. */
export function batchText(units: Buffer, layout: Int32Array, i: number): { text: string; pair?: string } {
  const start = layout[3 * i];
  const length = layout[3 * i + 1];
  const pairLength = layout[3 * i + 2];
  const text = units.toString('utf16le', 2 * start, 2 * (start + length));
  if (pairLength < 0) return { text };
  return { text, pair: units.toString('utf16le', 2 * (start + length), 2 * (start + length + pairLength)) };
}

/** Waits until the texts of `chunk` are in shared memory; false when the batch failed instead. */
export function awaitChunk(ready: Int32Array, chunk: number): boolean {
  for (let state = Atomics.load(ready, chunk); ; state = Atomics.load(ready, chunk)) {
    if (state !== 0) return state === 1;
    Atomics.wait(ready, chunk, 0, 1000);
  }
}

interface PendingJob {
  resolve: (value: WorkerResult) => void;
  reject: (error: Error) => void;
}

/**
 * Worker threads serving one tokenizer version. A pool that is replaced or released while batches
 * are in flight ("retired") stops its workers only when the last of those batches ends, so they
 * finish with the vocabulary they started with. A worker that fails or exits rejects every pending
 * job with a typed error and takes the pool out of service.
 */
class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, PendingJob>();
  private nextJob = 0;
  private active = 0;
  private retired = false;
  /** Why this pool runs no more jobs, once it does not. */
  private failure: Error | null = null;
  readonly version: number;

  constructor(script: string, spec: unknown, count: number, version: number, onFailure: (pool: WorkerPool) => void) {
    this.version = version;
    const fail = (message: string, cause?: unknown): void => {
      if (this.failure === null) {
        this.failure = new BitNetError(ErrorCode.INTERNAL, 'encodeBatch', message, cause === undefined ? {} : { cause });
        onFailure(this);
        // The other workers may still be on the batch: nothing uses this pool again.
        for (const worker of this.workers) void worker.terminate();
      }
      this.rejectPending();
    };
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script, { workerData: { spec } });
      worker.on('message', (message: { job: number; result?: WorkerResult; error?: string }) => {
        const job = this.pending.get(message.job);
        if (!job) return;
        this.pending.delete(message.job);
        if (message.result) job.resolve(message.result);
        else job.reject(new BitNetError(ErrorCode.INTERNAL, 'encodeBatch', `a worker thread failed to encode its share of the batch: ${message.error ?? 'unknown error'}`));
      });
      worker.on('error', (error) => fail(`a worker thread failed: ${error.message}`, error));
      worker.on('exit', (code) => fail(`a worker thread exited (code ${code}) while ${this.pending.size} batch job(s) were pending`));
      // After the 'message' listener, which refs the worker's port: an idle pool must not keep the process alive.
      worker.unref();
      this.workers.push(worker);
    }
  }

  private rejectPending(): void {
    const error = this.failure as Error;
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }

  get size(): number {
    return this.workers.length;
  }

  /** Shared memory of the last finished batch, reused by the next (never by two batches at once). */
  spareUnits: SharedArrayBuffer | null = null;

  /** A batch starts using the pool; `end` must follow once its jobs have settled. */
  begin(): void {
    // While a batch waits on the workers, they keep the process alive (an awaited batch then always settles).
    if (this.active++ === 0 && this.failure === null) for (const worker of this.workers) worker.ref();
  }

  end(): void {
    if (--this.active > 0) return;
    if (this.retired) this.stop();
    else if (this.failure === null) for (const worker of this.workers) worker.unref();
  }

  run(worker: number, batch: Omit<BatchJob, 'job' | 'range'>): Promise<WorkerResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      // The calling thread owns range 0, worker w range w + 1.
      this.workers[worker].postMessage({ job, range: worker + 1, ...batch });
    });
  }

  clearCaches(): void {
    if (this.failure === null) for (const worker of this.workers) worker.postMessage({ clearCache: true });
  }

  /** No new batches: the workers stop now, or when the batches in flight end. */
  retire(): void {
    orphanedPools.unregister(this);
    this.retired = true;
    if (this.active === 0) this.stop();
  }

  private stop(): void {
    if (this.failure !== null) return;
    this.failure = new BitNetError(ErrorCode.DISPOSED, 'encodeBatch', 'the worker threads of this tokenizer were released');
    for (const worker of this.workers) void worker.terminate();
  }
}

const pools = new WeakMap<object, WorkerPool>();
const versions = new WeakMap<object, number>();
/**
 * Retires a tokenizer's pool once the tokenizer is garbage-collected: unref'd workers do not keep the
 * process alive, but without this each dropped tokenizer left its idle threads (~70 MB each) for the
 * life of the process. Nothing a pool's workers can reach holds its tokenizer (see the WeakRef below).
 */
const orphanedPools = new FinalizationRegistry<WorkerPool>((pool) => pool.retire());

/** Call after the tokenizer changes (added tokens): workers must rebuild from the new spec. */
export function invalidateWorkers(tokenizer: object): void {
  versions.set(tokenizer, (versions.get(tokenizer) ?? 0) + 1);
  releaseWorkers(tokenizer);
}

export function clearWorkerCaches(tokenizer: object): void {
  pools.get(tokenizer)?.clearCaches();
}

/**
 * Stops the worker threads serving this tokenizer now; batches already running finish first. They
 * are unref'd (they never keep the process alive) and stop by themselves once the tokenizer is
 * garbage-collected, so this only makes the release prompt.
 */
export function releaseWorkers(tokenizer: object): void {
  pools.get(tokenizer)?.retire();
  pools.delete(tokenizer);
}

function resolveThreads(op: string, threads: unknown): number {
  if (threads === undefined) return Math.min(os.availableParallelism(), 8);
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1) {
    throw outOfRange(op, `options.threads must be a positive integer, got ${formatValue(threads)}`);
  }
  return threads;
}

export function checkBatchArguments(op: string, texts: unknown, options: EncodeBatchOptions): string[] | null {
  checkTexts(op, texts, 'texts');
  // Every kind checks threads, even those that encode on the calling thread only.
  if (options.threads !== undefined) resolveThreads(op, options.threads);
  if (options.pairs !== undefined) {
    checkTexts(op, options.pairs, 'options.pairs');
    if (options.pairs.length !== texts.length) {
      throw invalidArgument(op, `options.pairs has ${options.pairs.length} entries but texts has ${texts.length}`);
    }
    if (options.pair !== undefined) throw invalidArgument(op, 'give either options.pair or options.pairs, not both');
  }
  if (options.pair !== undefined) checkText(op, options.pair, 'options.pair');
  return options.pairs ? [...options.pairs] : options.pair !== undefined ? texts.map(() => options.pair as string) : null;
}

export function encodeSequentially(tokenizer: Pick<Tokenizer, 'encode'>, texts: readonly string[], pairs: readonly string[] | null, addSpecialTokens: boolean): Encoding[] {
  return texts.map((text, i) => tokenizer.encode(text, { addSpecialTokens, ...(pairs ? { pair: pairs[i] } : {}) }));
}

export async function encodeBatchWithWorkers(tokenizer: SpecSource & object, texts: readonly string[], options: EncodeBatchOptions): Promise<Encoding[]> {
  const op = 'encodeBatch';
  options = optionsObject(op, options);
  const pairs = checkBatchArguments(op, texts, options);
  const threads = resolveThreads(op, options.threads);
  const addSpecialTokens = options.addSpecialTokens ?? true;
  let chars = 0;
  for (const text of texts) chars += text.length;
  if (pairs) for (const text of pairs) chars += text.length;
  const script = findWorkerScript();
  if (threads <= 1 || texts.length < 2 || chars < MIN_PARALLEL_CHARS || script === null) {
    return encodeSequentially(tokenizer, texts, pairs, addSpecialTokens);
  }
  const version = versions.get(tokenizer) ?? 0;
  let pool = pools.get(tokenizer);
  const workerCount = Math.min(threads, texts.length) - 1;
  if (!pool || pool.version !== version || pool.size < workerCount) {
    pool?.retire();
    // The workers' listeners hold the pool and the pool this callback: a strong reference to the
    // tokenizer here would keep it alive for as long as its workers run, that is forever.
    const owner = new WeakRef(tokenizer);
    pool = new WorkerPool(script, tokenizer.toSpec(), workerCount, version, (failed) => {
      // The next batch starts fresh workers.
      const current = owner.deref();
      if (current !== undefined && pools.get(current) === failed) pools.delete(current);
    });
    pools.set(tokenizer, pool);
    orphanedPools.register(tokenizer, pool, pool);
  }
  pool.begin();
  try {
    return await runBatch(tokenizer, pool, texts, pairs, addSpecialTokens, workerCount, chars);
  } finally {
    pool.end();
  }
}

async function runBatch(
  tokenizer: SpecSource,
  pool: WorkerPool,
  texts: readonly string[],
  pairs: string[] | null,
  addSpecialTokens: boolean,
  workerCount: number,
  chars: number,
): Promise<Encoding[]> {
  // Chunks of whole texts in one contiguous range per thread, claimed biggest first, the small
  // ones left at the end taken by whichever thread runs out first (batch-schedule.ts).
  const threadsUsed = workerCount + 1;
  const target = Math.max(MIN_CHUNK_CHARS, Math.ceil(chars / (threadsUsed * CHUNKS_PER_THREAD)));
  const lengths = new Int32Array(texts.length);
  // Texts that come back with their own arrays (OWN_ARRAYS_CHARS) take no room in the packed ones.
  let packedChars = 0;
  for (let i = 0; i < texts.length; i++) {
    lengths[i] = texts[i].length + (pairs ? pairs[i].length : 0);
    if (lengths[i] < OWN_ARRAYS_CHARS) packedChars += lengths[i];
  }
  const plan = planChunks(lengths, threadsUsed, target);
  const { chunks, rangeStarts } = plan;
  const chunkCount = chunks.length / 2;
  const claims = createClaims(plan);
  const ready = new Int32Array(new SharedArrayBuffer(4 * Math.max(chunkCount, 1)));
  const bytes = 2 * chars;
  let units = pool.spareUnits;
  pool.spareUnits = null;
  if (units === null || units.byteLength < bytes) units = new SharedArrayBuffer(Math.max(bytes, 2));
  const unitBuffer = Buffer.from(units);
  // Shared too: the workers read each chunk's entries after it is ready, not at post time.
  const layout = new Int32Array(new SharedArrayBuffer(12 * texts.length));
  // Byte-level BPE averages 3–4 UTF-16 units per token on prose; one per 2 leaves room.
  const expectedTokens = Math.ceil(packedChars / threadsUsed / 2);
  const batch = { units, layout, addSpecialTokens, chunks, claims, ready, expectedTokens };
  const jobs: Array<Promise<WorkerResult>> = [];
  for (let w = 0; w < workerCount; w++) jobs.push(pool.run(w, batch));
  // Handled below by allSettled; this keeps a failure on this thread from leaving them unhandled.
  for (const job of jobs) job.catch(() => undefined);
  const copyOrder = planCopyOrder(plan);
  let offset = 0;
  let copied = 0;
  try {
    for (; copied < chunkCount; copied++) {
      const chunk = copyOrder[copied];
      const end = chunks[2 * chunk + 1];
      for (let i = chunks[2 * chunk]; i < end; i++) {
        const text = texts[i];
        layout[3 * i] = offset;
        layout[3 * i + 1] = text.length;
        offset += unitBuffer.write(text, 2 * offset, 'utf16le') / 2;
        if (pairs) {
          layout[3 * i + 2] = pairs[i].length;
          offset += unitBuffer.write(pairs[i], 2 * offset, 'utf16le') / 2;
        } else {
          layout[3 * i + 2] = -1;
        }
      }
      Atomics.store(ready, chunk, 1);
      Atomics.notify(ready, chunk);
    }
  } finally {
    // Never leave a worker waiting for a chunk that will not come.
    if (copied < chunkCount) {
      closeClaims(claims);
      for (; copied < chunkCount; copied++) {
        Atomics.store(ready, copyOrder[copied], 2);
        Atomics.notify(ready, copyOrder[copied]);
      }
    }
  }
  // Results land by text index, whatever order the chunks were claimed in.
  const out: Encoding[] = new Array(texts.length);
  for (let chunk = claimChunk(claims, 0); chunk >= 0; chunk = claimChunk(claims, 0)) {
    const end = chunks[2 * chunk + 1];
    for (let i = chunks[2 * chunk]; i < end; i++) {
      out[i] = tokenizer.encode(texts[i], { addSpecialTokens, ...(pairs ? { pair: pairs[i] } : {}) });
    }
  }
  const idTable = tokenizer.idTableView();
  // Wait for every worker, failed or not, before the shared texts can serve the next batch:
  // Promise.all would settle on the first failure while another worker still reads them.
  const settled = await Promise.allSettled(jobs);
  pool.spareUnits = units;
  const results: WorkerResult[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    results.push(outcome.value);
  }
  for (const result of results) {
    const encodings = unpackEncodings(result.packed, idTable);
    let next = 0;
    for (const chunk of result.chunks) {
      for (let i = chunks[2 * chunk]; i < chunks[2 * chunk + 1]; i++) out[i] = encodings[next++];
    }
  }
  return out;
}
