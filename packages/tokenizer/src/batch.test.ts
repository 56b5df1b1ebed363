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
import { createBpeTokenizer, createSimpleTokenizer, encodeBatch, loadHfTokenizer, releaseWorkers, workerThreadsAvailable, type Encoding, type Tokenizer } from './index.js';
import { EncodingPacker, MAX_OWN_ARRAYS, REPLY_BLOCK_BYTES, chunkTexts, encodeBatchWithWorkers, replyTransfer, unpackEncodings, type SpecSource } from './batch.js';
import { ENCODING_BYTES_PER_TOKEN, encodingBytes, ownsBuffer, setBlockSource, type TokenEncoding } from './encoding.js';
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

  it('makes a worker\'s short encodings straight in its reply blocks, sends long ones in their own buffer, and unpacks them unchanged', () => {
    const table = (llama as unknown as SpecSource).idTableView();
    // Short and long, with and without pairs, and empty ones.
    const inputs = texts.slice(0, 60).map((t, i) => (i % 5 === 0 ? '' : i % 3 === 0 ? t.slice(0, 80) : t));
    const encode = () => inputs.map((t, i) => llama.encode(t, i % 2 ? { pair: t.slice(0, 50) } : {}));
    const expected = encode();
    const packer = new EncodingPacker();
    setBlockSource(packer); // as a worker does around each batch
    let encodings: Encoding[];
    try {
      encodings = encode();
      for (const e of encodings) packer.add(e);
    } finally {
      setBlockSource(null);
    }
    const packed = packer.finish();
    expect(packed.entries.length).toBe(3 * encodings.length);
    encodings.forEach((e, i) => {
      // No copy: each encoding's arrays are in the buffer its entry names.
      expect(packed.buffers[packed.entries[3 * i]]).toBe(e.ids.buffer);
      expect(packed.entries[3 * i + 1]).toBe(e.ids.byteOffset);
      const small = encodingBytes(e.length) <= REPLY_BLOCK_BYTES / 2;
      expect(packed.shared[packed.entries[3 * i]]).toBe(small ? 1 : 0);
      if (small) expect(e.ids.buffer.byteLength).toBe(REPLY_BLOCK_BYTES);
      else expect(ownsBuffer(e.ids)).toBe(true);
    });
    expect(packed.shared.filter((s) => s === 1).length).toBeGreaterThan(1); // several blocks filled
    expect(packed.shared.filter((s) => s === 0).length).toBeGreaterThan(0); // encodings over half a block
    const received = structuredClone(packed, { transfer: replyTransfer(packed) });
    expect(encodings.every((e) => e.ids.buffer.byteLength === 0)).toBe(true); // moved, not copied
    const unpacked = unpackEncodings(received, table);
    expectSame(unpacked, expected);
    for (const e of unpacked) {
      const t = e as TokenEncoding;
      for (const array of [t.offsetPairs, t.typeIds, t.specialTokensMask, t.sequenceIds]) expect(array.buffer).toBe(e.ids.buffer);
    }
    // A shared block cannot be taken from the encodings in it: listing it in a transfer copies it (Node 20) or throws.
    const short = unpacked.findIndex((e) => e.length > 3 && !ownsBuffer(e.ids));
    expect(unpacked.some((e, i) => i !== short && e.ids.buffer === unpacked[short].ids.buffer)).toBe(true);
    try {
      structuredClone(unpacked[short].ids, { transfer: [unpacked[short].ids.buffer as ArrayBuffer] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    expectSame(unpacked, expected);
  });

  it('copies encodings it did not make into its blocks, and long ones past MAX_OWN_ARRAYS into shared overflow blocks', () => {
    const table = (llama as unknown as SpecSource).idTableView();
    const inputs = texts.slice(0, 40).map((t, i) => (i % 4 === 0 ? t.slice(0, 120) : t));
    const encodings = inputs.map((t) => llama.encode(t)); // in encode's own 8 KB blocks, or own buffers
    const copies = inputs.map((t) => llama.encode(t));
    const own = encodings.map((e) => ownsBuffer(e.ids));
    expect(own.filter(Boolean).length).toBeGreaterThan(3);
    expect(own.filter((o) => !o).length).toBeGreaterThan(3);
    const packer = new EncodingPacker();
    for (const e of encodings) packer.add(e);
    const packed = packer.finish();
    encodings.forEach((e, i) => expect(packed.buffers[packed.entries[3 * i]] === e.ids.buffer).toBe(own[i]));
    const received = structuredClone(packed, { transfer: replyTransfer(packed) });
    encodings.forEach((e, i) => expect(e.ids.length).toBe(own[i] ? 0 : copies[i].ids.length)); // own buffers moved, the rest copied
    expectSame(unpackEncodings(received, table), copies);
    // Past the cap, long encodings are copied into 1 MiB blocks: the reply's transferables stay few.
    const many = Array.from({ length: MAX_OWN_ARRAYS + 40 }, (_, i) => llama.encode(texts[i % texts.length].slice(0, 3000).padEnd(3000, ' word')));
    expect(many.every((e) => ownsBuffer(e.ids))).toBe(true);
    const expected = many.map((e) => ({ ids: e.ids.slice(), offsets: e.offsets, typeIds: e.typeIds.slice(), specialTokensMask: e.specialTokensMask.slice(), sequenceIds: e.sequenceIds.slice(), tokens: e.tokens }));
    // Past the cap too, one too big for an overflow block (over 512 KB) goes as it is: a copy would gain nothing.
    const huge = [llama.encode(texts.join(' ').slice(0, 200_000)), llama.encode(texts.join('\n').slice(-180_000))];
    expect(huge.every((e) => encodingBytes(e.length) > 512 * 1024)).toBe(true);
    const hugeExpected = huge.map((e) => ({ ids: e.ids.slice(), offsets: e.offsets, typeIds: e.typeIds.slice(), specialTokensMask: e.specialTokensMask.slice(), sequenceIds: e.sequenceIds.slice(), tokens: e.tokens }));
    const capped = new EncodingPacker();
    for (const e of [...many, ...huge]) capped.add(e);
    const cappedPacked = capped.finish();
    expect(cappedPacked.buffers.length).toBeLessThan(MAX_OWN_ARRAYS + 12);
    const cappedReceived = structuredClone(cappedPacked, { transfer: replyTransfer(cappedPacked) });
    expect(many.filter((e) => e.ids.length === 0).length).toBe(MAX_OWN_ARRAYS);
    expect(huge.every((e) => e.ids.length === 0)).toBe(true); // moved, not copied
    expectSame(unpackEncodings(cappedReceived, table), [...expected, ...hugeExpected] as unknown as Encoding[]);
  });

  it('carries the text of lstrip/rstrip added tokens (HF\'s token is the matched span) through blocks and own buffers', () => {
    const json = JSON.parse(fs.readFileSync(llama3TokenizerJson, 'utf8'));
    json.added_tokens.push({ id: 128256, content: '<L>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true });
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(json));
    const stripping = loadHfTokenizer(folder, { config: {} });
    fs.rmSync(folder, { recursive: true, force: true });
    const inputs = ['a  <L>  b', 'none here', `x <L>\ny ${'z y '.repeat(5000)} <L>`, ' <L>'];
    const encodings = inputs.map((t) => stripping.encode(t));
    expect(ownsBuffer(encodings[2].ids)).toBe(true);
    const expected = inputs.map((t) => stripping.encode(t).tokens);
    expect(expected[0]).toContain('  <L>  ');
    const packer = new EncodingPacker();
    for (const e of encodings) packer.add(e);
    const packed = packer.finish();
    const received = structuredClone(packed, { transfer: replyTransfer(packed) });
    expect(unpackEncodings(received, (stripping as unknown as SpecSource).idTableView()).map((e) => e.tokens)).toEqual(expected);
  });

  it('returns long encodings in buffers of their own (holding one does not hold the batch)', async () => {
    const batch = await llama.encodeBatch(texts, { threads: 2 });
    const long = batch.filter((e) => encodingBytes(e.length) > REPLY_BLOCK_BYTES / 2);
    expect(long.length).toBeGreaterThan(4);
    for (const e of long) {
      expect(e.ids.buffer.byteLength).toBe(ENCODING_BYTES_PER_TOKEN * e.length);
      expect((e as TokenEncoding).offsetPairs.buffer).toBe(e.ids.buffer);
    }
    expectSame(batch, texts.map((t) => llama.encode(t)));
  });

  it('returns encodings whose arrays are own properties, as encode\'s are (spread, structuredClone and deep equality see them)', async () => {
    const simple = createSimpleTokenizer(['<unk>', 'a', 'b', 'c']);
    const own = (e: Encoding) => ['ids', 'offsetPairs', 'typeIds', 'specialTokensMask', 'sequenceIds'].every((key) => Object.keys(e).includes(key));
    const lines = texts.join('\n').split('\n').filter((line) => line.length > 0).slice(0, 3000);
    const batch = await llama.encodeBatch(lines, { threads: 2 });
    expect(batch.every(own)).toBe(true);
    expect(own(llama.encode('hello'))).toBe(true);
    expect({ ...batch[lines.length - 1] }.ids).toBe(batch[lines.length - 1].ids);
    const cloned = structuredClone(simple.encode('a b c d'));
    expect(Array.from(cloned.ids)).toEqual([1, 2, 3, 0]);
    expect(Array.from(cloned.specialTokensMask)).toEqual([0, 0, 0, 0]);
  });

  it('gives every encoding one buffer for its arrays; short ones share blocks no transfer can take', async () => {
    const lines = texts.join('\n').split('\n').filter((line) => line.length > 0).slice(0, 4000);
    const batch = await llama.encodeBatch(lines, { threads: 2 });
    const expected = lines.map((t) => llama.encode(t));
    for (const e of batch) {
      const t = e as TokenEncoding;
      for (const array of [t.offsetPairs, t.typeIds, t.specialTokensMask, t.sequenceIds]) expect(array.buffer).toBe(e.ids.buffer);
      // The calling thread's come from encode's 8 KB blocks, the workers' from their reply's blocks.
      expect(e.ids.buffer.byteLength).toBeLessThanOrEqual(ownsBuffer(e.ids) ? ENCODING_BYTES_PER_TOKEN * e.length : REPLY_BLOCK_BYTES);
    }
    const blocks = new Set(batch.map((e) => e.ids.buffer));
    expect([...blocks].some((b) => b.byteLength === REPLY_BLOCK_BYTES)).toBe(true); // the workers did encode some
    for (const block of blocks) {
      try {
        structuredClone(block, { transfer: [block as ArrayBuffer] });
      } catch (error) {
        expect((error as Error).name).toBe('DataCloneError');
      }
    }
    expectSame(batch, expected);
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
    // Short texts travel joined: halves of surrogate pairs at their ends must stay apart, each with its own text.
    const halves = Array.from({ length: 3000 }, (_, i) => (i % 2 ? `\uDC00 low first ${i}` : `high last ${i} \uD83D`));
    const halfPairs = halves.map((_, i) => (i % 3 ? '\uDE00 pair' : 'pair \uD800'));
    expectSame(await llama.encodeBatch(halves, { threads: 2 }), halves.map((t) => llama.encode(t)));
    expectSame(await llama.encodeBatch(halves, { pairs: halfPairs, threads: 2 }), halves.map((t, i) => llama.encode(t, { pair: halfPairs[i] })));
  });

  it('reads back runs of short texts and long texts alone, pairs included, in order', () => {
    // Laid out as runBatch lays a chunk out: each text followed by its pair (-1: none).
    const items = Array.from({ length: 200 }, (_, i) => ({
      text: i % 17 === 0 ? `long ${i} `.repeat(200) : `short ${i}${i % 5 === 0 ? ' \uD800' : ''}`,
      pair: i % 3 === 0 ? (i % 51 === 0 ? 'p'.repeat(1500) : `pair ${i}`) : undefined,
    }));
    const chars = items.reduce((sum, it) => sum + it.text.length + (it.pair?.length ?? 0), 0);
    const units = Buffer.alloc(2 * (chars + 7));
    const layout = new Int32Array(3 * items.length);
    let at = 7; // a chunk need not start at unit 0
    items.forEach((it, i) => {
      layout[3 * i] = at;
      layout[3 * i + 1] = it.text.length;
      layout[3 * i + 2] = it.pair === undefined ? -1 : it.pair.length;
      at += units.write(it.text + (it.pair ?? ''), 2 * at, 'utf16le') / 2;
    });
    const read: Array<{ text: string; pair?: string }> = [];
    chunkTexts(units, layout, 10, 150, (text, pair) => read.push(pair === undefined ? { text } : { text, pair }));
    expect(read).toEqual(items.slice(10, 150).map((it) => (it.pair === undefined ? { text: it.text } : it)));
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
