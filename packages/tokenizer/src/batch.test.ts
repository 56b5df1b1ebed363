// encodeBatch over worker threads returns exactly what encoding one text at a
// time returns. The workers run the built dist/batch-worker.js (turbo builds
// before testing).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@bitnet/errors';
import { buildCorpus } from '../bench/corpus.mjs';
import { createBpeTokenizer, encodeBatch, loadHfTokenizer, releaseWorkers, workerThreadsAvailable, type Encoding, type Tokenizer } from './index.js';
import { EncodingPacker, MAX_OWN_ARRAYS, OWN_ARRAYS_CHARS, encodeBatchWithWorkers, replyTransfer, unpackEncodings, type SpecSource } from './batch.js';
import { ENCODING_BYTES_PER_TOKEN, ownsBuffer, type TokenEncoding } from './encoding.js';
import { gpt2MergesTxt, gpt2VocabJson, llama3Oracle, llama3TokenizerJson, tempDir } from './testing/oracle.js';

const corpus = buildCorpus(1_000_000, { maxDocumentChars: 30_000 });
const texts = corpus.documents.map((d) => d.text);
let llama: Tokenizer;

function expectSame(batch: Encoding[], single: Encoding[]): void {
  expect(batch.length).toBe(single.length);
  for (let i = 0; i < batch.length; i++) {
    expect(Array.from(batch[i].ids).join(',')).toBe(Array.from(single[i].ids).join(','));
    expect(batch[i].offsets.flat().join(',')).toBe(single[i].offsets.flat().join(','));
    expect(Array.from(batch[i].typeIds).join('')).toBe(Array.from(single[i].typeIds).join(''));
    expect(Array.from(batch[i].specialTokensMask).join('')).toBe(Array.from(single[i].specialTokensMask).join(''));
    expect(Array.from(batch[i].sequenceIds).join(',')).toBe(Array.from(single[i].sequenceIds).join(','));
    expect(batch[i].tokens.join('\u0000')).toBe(single[i].tokens.join('\u0000'));
  }
}

beforeAll(() => {
  llama = loadHfTokenizer(llama3TokenizerJson);
});

afterAll(() => releaseWorkers(llama));

describe('encodeBatch', () => {
  it('finds its worker script', () => {
    expect(workerThreadsAvailable()).toBe(true);
  });

  it('matches one-at-a-time encoding and the oracle on a 1 MB batch over 2 threads', async () => {
    const batch = await llama.encodeBatch(texts, { threads: 2 });
    expectSame(batch, texts.map((t) => llama.encode(t)));
    const reference = await llama3Oracle().encodeBatch(texts.slice(-5), { addSpecialTokens: true });
    batch.slice(-5).forEach((e, i) => expect(Array.from(e.ids).join(',')).toBe(reference[i].getIds().join(',')));
  });

  it('splits a batch over 4 threads that take chunks from each other\'s ranges around one huge text', async () => {
    // The huge text is a chunk of its own in one range; the threads that finish first take what
    // is left in the others, racing for the same chunks.
    const huge = texts.slice(0, 40).join('\n');
    const skewed = [...texts.slice(0, texts.length / 2), huge, ...texts.slice(texts.length / 2)];
    const batch = await llama.encodeBatch(skewed, { threads: 4 });
    expectSame(batch, skewed.map((t) => llama.encode(t)));
  });

  it('returns thousands of short texts in order (the workers\' reply counts grow many times)', async () => {
    const lines = texts.join('\n').split('\n').filter((line) => line.length > 0).slice(0, 6000);
    const batch = await llama.encodeBatch(lines, { threads: 2 });
    expectSame(batch, lines.map((t) => llama.encode(t)));
  });

  it('packs encodings for a reply and unpacks them unchanged, from any starting size', () => {
    const encode = () => texts.slice(0, 40).map((t, i) => llama.encode(t, i % 2 ? { pair: t.slice(0, 50) } : {}));
    const encodings = encode();
    const tokens = encodings.reduce((sum, e) => sum + e.ids.length, 0);
    // 0: grows from the minimum many times; tokens - 1: grows once, at the last text; 2 × tokens: never.
    for (const expected of [0, tokens - 1, 2 * tokens]) {
      const packer = new EncodingPacker(expected);
      for (const e of encodings) packer.add(e);
      const packed = packer.finish();
      expect(packed.ids.length).toBe(tokens);
      expect(packed.own.length).toBe(0);
      expectSame(unpackEncodings(packed, (llama as unknown as SpecSource).idTableView()), encodings);
    }
  });

  it('sends the encodings it is asked to with their own buffer (transferred, at most MAX_OWN_ARRAYS), the rest packed', () => {
    const table = (llama as unknown as SpecSource).idTableView();
    const inputs = texts.slice(0, 40).map((t, i) => (i % 4 === 0 ? t.slice(0, 120) : t));
    const encodings = inputs.map((t) => llama.encode(t));
    const copies = inputs.map((t) => llama.encode(t));
    // Short encodings sit in a shared block (allocateEncodingArrays): asked or not, they are packed.
    const asked = encodings.map((_, i) => i % 3 === 0);
    const own = encodings.map((e, i) => asked[i] && ownsBuffer(e.ids));
    expect(own.filter(Boolean).length).toBeGreaterThan(3);
    expect(own.filter((o, i) => asked[i] && !o).length).toBeGreaterThan(0);
    const packer = new EncodingPacker(0);
    encodings.forEach((e, i) => packer.add(e, asked[i]));
    const packed = packer.finish();
    expect(packed.own.length).toBe(own.filter(Boolean).length);
    expect(packed.ids.length).toBe(encodings.reduce((sum, e, i) => sum + (own[i] ? 0 : e.ids.length), 0));
    const transfer = replyTransfer(packed);
    expect(transfer.length).toBe(6 + packed.own.length); // one buffer per encoding sent whole
    const received = structuredClone(packed, { transfer });
    encodings.forEach((e, i) => expect(e.ids.length).toBe(own[i] ? 0 : copies[i].ids.length)); // moved, not copied: the sender's own buffers are detached
    const unpacked = unpackEncodings(received, table);
    expectSame(unpacked, copies);
    own.forEach((o, i) => o && expect(unpacked[i].ids.buffer.byteLength).toBe(ENCODING_BYTES_PER_TOKEN * unpacked[i].length));
    // Past the cap, encodings are packed whatever the caller asks.
    const many = Array.from({ length: MAX_OWN_ARRAYS + 10 }, (_, i) => llama.encode(texts[i % texts.length].slice(0, 3000).padEnd(3000, ' word')));
    expect(many.every((e) => ownsBuffer(e.ids))).toBe(true);
    const capped = new EncodingPacker(0);
    for (const e of many) capped.add(e, true);
    const cappedPacked = capped.finish();
    expect(cappedPacked.own.length).toBe(MAX_OWN_ARRAYS);
    expectSame(unpackEncodings(cappedPacked, table), many);
  });

  it('carries the text of lstrip/rstrip added tokens (HF\'s token is the matched span) through packed and own arrays', () => {
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    json.added_tokens.push({ id: 128256, content: '<L>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true });
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(json));
    const stripping = loadHfTokenizer(folder, { config: {} });
    fs.rmSync(folder, { recursive: true, force: true });
    const inputs = ['a  <L>  b', 'none here', `x <L>\ny ${'z'.repeat(OWN_ARRAYS_CHARS)} <L>`, ' <L>'];
    const encodings = inputs.map((t) => stripping.encode(t));
    const expected = inputs.map((t) => stripping.encode(t).tokens);
    expect(expected[0]).toContain('  <L>  ');
    const packer = new EncodingPacker(0);
    encodings.forEach((e, i) => packer.add(e, i === 2));
    const packed = packer.finish();
    const received = structuredClone(packed, { transfer: replyTransfer(packed) });
    expect(unpackEncodings(received, (stripping as unknown as SpecSource).idTableView()).map((e) => e.tokens)).toEqual(expected);
  });

  it('returns long texts\' encodings with arrays of their own (holding one does not hold the batch)', async () => {
    const long = texts.filter((t) => t.length >= OWN_ARRAYS_CHARS);
    expect(long.length).toBeGreaterThan(4);
    const batch = await llama.encodeBatch(texts, { threads: 2 });
    texts.forEach((t, i) => {
      if (t.length >= OWN_ARRAYS_CHARS) {
        expect(batch[i].ids.buffer.byteLength).toBe(ENCODING_BYTES_PER_TOKEN * batch[i].length);
        expect((batch[i] as TokenEncoding).offsetPairs.buffer).toBe(batch[i].ids.buffer);
      }
    });
    expectSame(batch, texts.map((t) => llama.encode(t)));
  });

  it('handles pairs and addSpecialTokens: false', async () => {
    const pairs = texts.map((t) => t.slice(0, 100));
    const batch = await encodeBatch(llama, texts, { pairs, addSpecialTokens: false, threads: 2 });
    expectSame(batch, texts.map((t, i) => llama.encode(t, { pair: pairs[i], addSpecialTokens: false })));
  });

  it('restarts its workers after the tokenizer gains special tokens', async () => {
    const gpt2 = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt);
    const marked = texts.map((t, i) => (i % 3 === 0 ? `<|doc|>${t}` : t));
    const before = await gpt2.encodeBatch(marked, { threads: 2 });
    gpt2.addSpecialTokens([['<|doc|>', gpt2.vocabSize]]);
    const after = await gpt2.encodeBatch(marked, { threads: 2 });
    expect(after[0].ids[0]).toBe(50257);
    expect(before[0].ids[0]).not.toBe(50257);
    expectSame(after, marked.map((t) => gpt2.encode(t)));
    releaseWorkers(gpt2);
  });

  it('encodes small batches on the calling thread with the same result', async () => {
    const small = ['a', 'b c', ''];
    expectSame(await llama.encodeBatch(small), small.map((t) => llama.encode(t)));
    expect(await llama.encodeBatch([])).toEqual([]);
  });

  it('carries every UTF-16 code unit to the workers: astral, CJK, lone surrogates, NUL', async () => {
    // Texts travel as raw UTF-16 in shared memory: nothing may be normalised or replaced on the way.
    const odd = ['emoji 😀🚀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '中文文本，日本語のテキスト', 'lone \uD800 high and \uDC00 low, then \uDBFF', 'nul \u0000 inside', 'ñandú café'];
    const mixed = texts.map((t, i) => (i % 4 === 0 ? `${odd[i % odd.length]} ${t}` : t));
    const pairs = mixed.map((_, i) => odd[(i + 2) % odd.length]);
    expectSame(await llama.encodeBatch(mixed, { threads: 2 }), mixed.map((t) => llama.encode(t)));
    expectSame(await llama.encodeBatch(mixed, { pairs, threads: 2 }), mixed.map((t, i) => llama.encode(t, { pair: pairs[i] })));
  });

  it('runs overlapping batches on one tokenizer without mixing their texts', async () => {
    const reversed = [...texts].reverse();
    const [a, b] = await Promise.all([llama.encodeBatch(texts, { threads: 2 }), llama.encodeBatch(reversed, { threads: 2 })]);
    expectSame(a, texts.map((t) => llama.encode(t)));
    expectSame(b, reversed.map((t) => llama.encode(t)));
  });

  it('finishes a batch in flight when its workers are released or replaced, with the vocabulary it started with', async () => {
    const gpt2 = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt);
    const marked = texts.slice(0, Math.ceil(texts.length / 4)).map((t, i) => (i % 3 === 0 ? `<|doc|>${t}` : t));
    expect(marked.join('').length).toBeGreaterThan(128 * 1024); // enough for worker threads
    const before = marked.map((t) => gpt2.encode(t));
    await gpt2.encodeBatch(marked, { threads: 2 }); // a warm pool, so the next batch is in flight on it
    // Each used to terminate the pool under the batch, whose promise then never settled.
    const released = gpt2.encodeBatch(marked, { threads: 2 });
    releaseWorkers(gpt2);
    expectSame(await released, before);
    const replaced = gpt2.encodeBatch(marked, { threads: 2 });
    const wider = gpt2.encodeBatch(marked.slice(1), { threads: 3 }); // more threads: a new pool replaces the busy one
    expectSame(await replaced, before);
    expectSame(await wider, before.slice(1));
    const inFlight = gpt2.encodeBatch(marked, { threads: 2 });
    gpt2.addSpecialTokens([['<|doc|>', gpt2.vocabSize]]);
    expectSame(await inFlight, before);
    const after = await gpt2.encodeBatch(marked, { threads: 2 });
    expect(after[0].ids[0]).toBe(50257);
    expectSame(after, marked.map((t) => gpt2.encode(t)));
    releaseWorkers(gpt2);
  });

  it('rejects with a typed error when a worker fails, and starts fresh workers for the next batch', async () => {
    const gpt2 = createBpeTokenizer(gpt2VocabJson, gpt2MergesTxt) as unknown as SpecSource & Tokenizer;
    let broken = true;
    // A spec the worker cannot build a tokenizer from (no byte tokens): the worker thread dies on start.
    const source: SpecSource = {
      toSpec: () => (broken ? { ...(gpt2.toSpec() as object), vocab: [], tables: undefined } : gpt2.toSpec()),
      encode: (text, options) => gpt2.encode(text, options),
      idTableView: () => gpt2.idTableView(),
    };
    const error = await encodeBatchWithWorkers(source, texts, { threads: 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe(ErrorCode.INTERNAL);
    expect((error as Error).message).toMatch(/^\[encodeBatch\] a worker thread (failed|exited)/);
    broken = false;
    expectSame(await encodeBatchWithWorkers(source, texts, { threads: 2 }), texts.map((t) => gpt2.encode(t)));
    releaseWorkers(source);
  });

  it('lets the process exit after a batch (idle workers keep nothing alive)', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `const T = await import(${JSON.stringify(dist)});
      const t = T.loadHfTokenizer(${JSON.stringify(llama3TokenizerJson)});
      const texts = Array.from({ length: 40 }, (_, i) => 'word ' + i + ' '.repeat(4000));
      const r = await t.encodeBatch(texts, { threads: 2 });
      console.log('encoded', r.length);`;
    const folder = tempDir();
    const file = path.join(folder, 'batch.mjs');
    fs.writeFileSync(file, script);
    // The timeout only turns a process that never exits into a failure.
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 50_000 });
    fs.rmSync(folder, { recursive: true, force: true });
    expect({ status: child.status, stdout: child.stdout.trim(), stderr: child.stderr }).toEqual({ status: 0, stdout: 'encoded 40', stderr: '' });
  });

  // Threads counted from /proc: Linux only.
  it.skipIf(process.platform !== 'linux')('stops the workers of a tokenizer that is garbage-collected without releaseWorkers', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `import fs from 'node:fs';
      const T = await import(${JSON.stringify(dist)});
      const threads = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/Threads:\\s+(\\d+)/)[1]);
      const texts = Array.from({ length: 40 }, (_, i) => 'word ' + i + ' '.repeat(4000));
      let t = T.loadHfTokenizer(${JSON.stringify(llama3TokenizerJson)});
      const before = threads();
      await t.encodeBatch(texts, { threads: 3 });
      const during = threads();
      t = null;
      for (let i = 0; i < 100 && threads() > before; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      console.log(JSON.stringify({ workersStarted: during - before, left: threads() - before }));`;
    const folder = tempDir();
    const file = path.join(folder, 'dropped.mjs');
    fs.writeFileSync(file, script);
    const child = spawnSync(process.execPath, ['--expose-gc', file], { encoding: 'utf8', timeout: 50_000 });
    fs.rmSync(folder, { recursive: true, force: true });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim())).toEqual({ workersStarted: 2, left: 0 });
  });
});
