// encodeBatch over worker threads: each worker rebuilds the tokenizer once from
// its plain-data spec, encodes a contiguous share of the batch, and sends typed
// arrays back (transferred, not copied). The calling thread encodes a share too.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, markAsUntransferable } from 'node:worker_threads';
import { BitNetError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { ENCODING_BYTES_PER_TOKEN, TokenEncoding, encodingBytes, encodingViews, ownsBuffer, type BlockSource } from './encoding.js';
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
 * At most this many encodings per reply come back in a buffer of their own (those over half a
 * block), transferred as `encode` made them: copying them cost a worker ~5% of its time on the bench
 * corpus, mostly first-touch page faults on fresh memory. Past this, those up to half an overflow
 * block are copied into 1 MiB blocks: postMessage's cost grows faster than the number of
 * transferables (here 1000 took 0.8 ms, 10000 took 42 ms).
 */
export const MAX_OWN_ARRAYS = 256;
/**
 * A worker's short encodings are made straight in blocks of this size (each laid out as
 * `allocateEncodingArrays` lays one out) that go back whole: one transferable per block, no copy,
 * and a kept short encoding holds its block alive, not the whole reply.
 */
export const REPLY_BLOCK_BYTES = 64 * 1024;
/** Blocks for the long encodings copied past MAX_OWN_ARRAYS. */
const OVERFLOW_BLOCK_BYTES = 1024 * 1024;

export interface PackedEncodings {
  /** Per encoding, in order: [buffer index, byte offset in it, tokens]. */
  entries: Int32Array;
  /** Blocks of encodings and encodings' own buffers; all transferred. */
  buffers: ArrayBuffer[];
  /** Per buffer: 1 when it is a block shared by several encodings (the receiver marks it untransferable). */
  shared: Uint8Array;
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
 * A worker's reply, collected as its encodings are made. As the thread's block source
 * (setBlockSource) it hands `encode` the blocks short encodings are made in, so those need no copy;
 * long ones go back in their own buffer; anything else is copied into a block (so the reply needs
 * no packing pass at the end: packing half of the 13.5 MB bench corpus took 13–40 ms in the worker
 * while the calling thread, done with its share, waited).
 */
export class EncodingPacker implements BlockSource {
  readonly blockBytes = REPLY_BLOCK_BYTES;
  private entries = new Int32Array(3 * 64);
  private encodings = 0;
  private readonly buffers: ArrayBuffer[] = [];
  private readonly shared: number[] = [];
  /** This reply's blocks → their index in `buffers`. */
  private readonly blocks = new Map<ArrayBuffer, number>();
  private ownCount = 0;
  // Where copies go: a short one into `copyBlock`, a long one into `overflow`.
  private copyBlock: ArrayBuffer | null = null;
  private copyUsed = 0;
  private overflow: ArrayBuffer | null = null;
  private overflowUsed = 0;
  private readonly tokenTexts: Array<[number, ReadonlyArray<readonly [number, string]>]> = [];

  newBlock(): ArrayBuffer {
    return this.newShared(REPLY_BLOCK_BYTES);
  }

  private newShared(bytes: number): ArrayBuffer {
    const block = new ArrayBuffer(bytes);
    this.blocks.set(block, this.push(block, 1));
    return block;
  }

  private push(buffer: ArrayBuffer, shared: number): number {
    this.buffers.push(buffer);
    this.shared.push(shared);
    return this.buffers.length - 1;
  }

  /** Appends an encoding; one sent in its own buffer must not be used after the reply is sent. */
  add(encoding: Encoding): void {
    const e = encoding as TokenEncoding;
    const count = e.length;
    if (3 * this.encodings === this.entries.length) {
      const grown = new Int32Array(2 * this.entries.length);
      grown.set(this.entries);
      this.entries = grown;
    }
    if (e.tokenTexts !== null) this.tokenTexts.push([this.encodings, e.tokenTexts]);
    const entry = 3 * this.encodings++;
    this.entries[entry + 2] = count;
    const ids = e.ids;
    const block = this.blocks.get(ids.buffer as ArrayBuffer);
    if (block !== undefined) {
      // Made in one of this reply's blocks.
      this.entries[entry] = block;
      this.entries[entry + 1] = ids.byteOffset;
      return;
    }
    const bytes = encodingBytes(count);
    // Only an encoding whose arrays are their own buffer: transferring a shared block would take it from
    // the others. Past the cap, one too big for an overflow block goes as it is: a copy would be one
    // transferable all the same.
    if (ownsBuffer(ids) && (this.ownCount < MAX_OWN_ARRAYS || bytes > OVERFLOW_BLOCK_BYTES / 2)) {
      this.ownCount++;
      this.entries[entry] = this.push(ids.buffer as ArrayBuffer, 0);
      this.entries[entry + 1] = 0;
      return;
    }
    let buffer: ArrayBuffer;
    let at = 0;
    if (bytes <= REPLY_BLOCK_BYTES / 2) {
      if (this.copyBlock === null || this.copyUsed + bytes > REPLY_BLOCK_BYTES) {
        this.copyBlock = this.newBlock();
        this.copyUsed = 0;
      }
      buffer = this.copyBlock;
      at = this.copyUsed;
      this.copyUsed += bytes;
      this.entries[entry] = this.blocks.get(buffer) as number;
    } else if (bytes <= OVERFLOW_BLOCK_BYTES / 2) {
      if (this.overflow === null || this.overflowUsed + bytes > OVERFLOW_BLOCK_BYTES) {
        this.overflow = this.newShared(OVERFLOW_BLOCK_BYTES);
        this.overflowUsed = 0;
      }
      buffer = this.overflow;
      at = this.overflowUsed;
      this.overflowUsed += bytes;
      this.entries[entry] = this.blocks.get(buffer) as number;
    } else {
      // Not made by `encode` (an encoding of another layout): a buffer of its own, as `encode` gives one.
      buffer = new ArrayBuffer(ENCODING_BYTES_PER_TOKEN * count);
      this.entries[entry] = this.push(buffer, 0);
    }
    this.entries[entry + 1] = at;
    const views = encodingViews(buffer, at, count);
    views.ids.set(ids);
    views.offsets.set(e.offsetPairs);
    views.typeIds.set(e.typeIds);
    views.special.set(e.specialTokensMask);
    views.sequenceIds.set(e.sequenceIds);
  }

  finish(): PackedEncodings {
    return { entries: this.entries.slice(0, 3 * this.encodings), buffers: this.buffers, shared: Uint8Array.from(this.shared), tokenTexts: this.tokenTexts };
  }
}

/** The buffers to transfer with a packed reply. */
export function replyTransfer(packed: PackedEncodings): ArrayBuffer[] {
  return packed.buffers;
}

export function unpackEncodings(packed: PackedEncodings, table: ArrayLike<string | undefined>): TokenEncoding[] {
  // As with `encode`'s own blocks: no postMessage may detach a block under the encodings that share it.
  packed.buffers.forEach((buffer, i) => packed.shared[i] && markAsUntransferable(buffer));
  const entries = packed.entries;
  const out: TokenEncoding[] = new Array(entries.length / 3);
  let nextTexts = 0;
  for (let i = 0; i < out.length; i++) {
    let texts: ReadonlyArray<readonly [number, string]> | null = null;
    if (nextTexts < packed.tokenTexts.length && packed.tokenTexts[nextTexts][0] === i) texts = packed.tokenTexts[nextTexts++][1];
    out[i] = new TokenEncoding(encodingViews(packed.buffers[entries[3 * i]], entries[3 * i + 1], entries[3 * i + 2]), table, undefined, texts);
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
}

/**
 * Calls `each` with texts `from` to `to` (and their pairs) of a batch, read back from shared memory.
 * A run of short texts is read as one string and sliced (V8 slices without copying; a read per text
 * cost ~0.1 µs more each); a long one is read on its own (sliced from a string of several, the bench
 * corpus encoded 7% slower).
 */
export function chunkTexts(units: Buffer, layout: Int32Array, from: number, to: number, each: (text: string, pair?: string) => void): void {
  const size = (i: number): number => layout[3 * i + 1] + Math.max(layout[3 * i + 2], 0);
  for (let i = from; i < to; ) {
    let end = i + 1;
    if (size(i) < JOIN_BELOW) while (end < to && size(end) < JOIN_BELOW) end++;
    const first = layout[3 * i];
    const run = units.toString('utf16le', 2 * first, 2 * (layout[3 * (end - 1)] + size(end - 1)));
    for (; i < end; i++) {
      const start = layout[3 * i] - first;
      const length = layout[3 * i + 1];
      const pairLength = layout[3 * i + 2];
      const text = end - i === 1 && start === 0 && pairLength < 0 ? run : run.slice(start, start + length);
      if (pairLength < 0) each(text);
      else each(text, run.slice(start + length, start + length + pairLength));
    }
  }
}

/** Strings shorter than this are joined with their neighbours and written to shared memory at once. */
const JOIN_BELOW = 1024;

/**
 * Writes strings into a batch's shared memory as UTF-16 code units. Each write is a call into C++, so
 * short strings are joined first and written together (158K lines of 20–200 characters: 11.5 ms
 * against 16.9 ms); a long one is written as it is (joining it would copy it into a big new string).
 */
class UnitCopier {
  private readonly pending: string[] = [];
  private pendingAt = 0;

  constructor(private readonly units: Buffer) {}

  /** Copies `text` to unit `at` (soon: see flush); returns the unit after it. */
  add(text: string, at: number): number {
    if (text.length >= JOIN_BELOW) {
      this.flush();
      this.write(text, at);
    } else {
      if (this.pending.length === 0) this.pendingAt = at;
      this.pending.push(text);
    }
    return at + text.length;
  }

  /** Writes what `add` held back. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.write(this.pending.length === 1 ? this.pending[0] : this.pending.join(''), this.pendingAt);
    this.pending.length = 0;
  }

  private write(text: string, at: number): void {
    const written = this.units.write(text, 2 * at, 'utf16le');
    if (written !== 2 * text.length) throw new BitNetError(ErrorCode.INTERNAL, 'encodeBatch', `copied ${written} bytes of a ${text.length}-unit text to shared memory`);
  }
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
  // Units per text (pair included): the chunk plan's sizes; their sum decides whether threads pay.
  const lengths = new Int32Array(texts.length);
  let chars = 0;
  for (let i = 0; i < texts.length; i++) {
    lengths[i] = texts[i].length + (pairs ? pairs[i].length : 0);
    chars += lengths[i];
  }
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
    return await runBatch(tokenizer, pool, texts, pairs, addSpecialTokens, workerCount, lengths, chars);
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
  lengths: Int32Array,
  chars: number,
): Promise<Encoding[]> {
  // Chunks of whole texts in one contiguous range per thread, claimed biggest first, the small
  // ones left at the end taken by whichever thread runs out first (batch-schedule.ts).
  const threadsUsed = workerCount + 1;
  const target = Math.max(MIN_CHUNK_CHARS, Math.ceil(chars / (threadsUsed * CHUNKS_PER_THREAD)));
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
  const batch = { units, layout, addSpecialTokens, chunks, claims, ready };
  const jobs: Array<Promise<WorkerResult>> = [];
  for (let w = 0; w < workerCount; w++) jobs.push(pool.run(w, batch));
  // Handled below by allSettled; this keeps a failure on this thread from leaving them unhandled.
  for (const job of jobs) job.catch(() => undefined);
  const copyOrder = planCopyOrder(plan);
  const copy = new UnitCopier(unitBuffer);
  let offset = 0;
  let copied = 0;
  try {
    for (; copied < chunkCount; copied++) {
      const chunk = copyOrder[copied];
      for (let i = chunks[2 * chunk]; i < chunks[2 * chunk + 1]; i++) {
        const text = texts[i];
        layout[3 * i] = offset;
        layout[3 * i + 1] = text.length;
        offset = copy.add(text, offset);
        if (pairs) {
          layout[3 * i + 2] = pairs[i].length;
          offset = copy.add(pairs[i], offset);
        } else {
          layout[3 * i + 2] = -1;
        }
      }
      copy.flush();
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
