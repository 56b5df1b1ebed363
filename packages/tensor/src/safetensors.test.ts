import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HybridMemoryPool } from '@bitnet/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitNetTensor, SafetensorsFile, deserializeSafetensors, readSafetensors, serializeSafetensors, setDefaultTensorPool, writeSafetensors } from './index.js';

const pool = new HybridMemoryPool();
let dir: string;
beforeAll(async () => {
  setDefaultTensorPool(pool);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitnet-safetensors-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function sample() {
  using brainRows = BitNetTensor.fromArray([[1, 2], [3, 4]], undefined, 'BF16');
  return {
    weight: BitNetTensor.random([3, 5], { seed: 1 }),
    half: BitNetTensor.fromArray([1, -2.5, 65504], [3], 'F16'),
    brain: brainRows.transpose(), // non-contiguous on purpose (the view keeps the storage alive)
    ids: BitNetTensor.fromArray([7, -8, 2147483647], [3], 'I32'),
    mask: BitNetTensor.fromArray([true, false]),
    empty: BitNetTensor.zeros([0, 4]),
  };
}

/** A hand-built file: header JSON and data bytes. */
function build(header: unknown, data: Uint8Array, declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors', () => {
  it('round-trips through a file, reading only the chosen tensors', async () => {
    const tensors = sample();
    const file = path.join(dir, 'model.safetensors');
    await writeSafetensors(file, tensors, { format: 'pt', note: 'ünïcode' });
    expect((await fs.readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    const reader = await SafetensorsFile.open(file);
    expect(reader.names.sort()).toEqual(Object.keys(tensors).sort());
    expect(reader.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(reader.info('brain')).toMatchObject({ shape: [2, 2] });
    const brain = await reader.load('brain');
    expect(brain.toArray()).toEqual([[1, 3], [2, 4]]);
    await reader.close();
    await expect(reader.load('ids')).rejects.toMatchObject({ code: 'ERR_BITNET_DISPOSED' });
    const { tensors: all, metadata } = await readSafetensors(file);
    expect(metadata.format).toBe('pt');
    for (const [name, t] of Object.entries(tensors)) {
      expect(all.get(name)!.toArray()).toEqual(t.toArray());
      expect(all.get(name)!.dtype).toBe(t.dtype);
    }
    // Same bytes as the in-memory serializer, and deserializable.
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
    expect(Buffer.compare(Buffer.from(bytes), await fs.readFile(file))).toBe(0);
    const parsed = deserializeSafetensors(bytes);
    expect(parsed.tensors.get('ids')!.toArray()).toEqual([7, -8, 2147483647]);
    for (const t of [...Object.values(tensors), ...all.values(), ...parsed.tensors.values(), brain]) t.dispose();
  });

  it('lazy read touches only the requested byte range', async () => {
    const big = BitNetTensor.zeros([1 << 18]);
    const small = BitNetTensor.fromArray([42]);
    const file = path.join(dir, 'lazy.safetensors');
    await writeSafetensors(file, { big, small });
    const spy = await SafetensorsFile.open(file);
    const read = spy['handle']!.read.bind(spy['handle']);
    let bytesRead = 0;
    (spy['handle'] as unknown as { read: typeof read }).read = (async (...args: Parameters<typeof read>) => {
      const r = await read(...args);
      bytesRead += r.bytesRead;
      return r;
    }) as typeof read;
    const t = await spy.load('small');
    expect(t.item()).toBe(42);
    expect(bytesRead).toBe(4);
    await spy.close();
    for (const x of [big, small, t]) x.dispose();
  });

  const f32 = new Uint8Array(new Float32Array([1, 2]).buffer);
  const malformed: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(5), /too short/],
    ['header length past the end', build({}, new Uint8Array(0), 1000n), /header length 1000 runs past the end/],
    ['huge header length', build({}, new Uint8Array(0), 1n << 40n), /exceeds the .*limit/],
    ['invalid JSON', (() => { const b = build({ a: 1 }, new Uint8Array(0)); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /not valid UTF-8 JSON/],
    ['unknown dtype', build({ x: { dtype: 'Q7', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype "Q7", which is not a safetensors dtype @bitnet\/tensor knows/],
    ['F64 size mismatch', build({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /\(F64 \[2\]\) needs 16 bytes but data_offsets \[0, 8\] span 8/],
    ['size mismatch', build({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32), /needs 12 bytes but data_offsets \[0, 8\] span 8/],
    ['out of range', build({ x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32), /ends at data byte 12, past the 8-byte data section/],
    ['overlap', build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32), /overlaps/],
    ['truncated data', build({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32), /past the 8-byte data section \(truncated file\?\)/],
    ['gap', build({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32), /data bytes \[0, 4\) belong to no tensor/],
    ['bad shape', build({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, f32), /invalid shape/],
  ];
  for (const [name, bytes, message] of malformed) {
    it(`malformed file: ${name} → ERR_BITNET_FILE_FORMAT`, async () => {
      const file = path.join(dir, `bad-${name.replace(/\W/g, '_')}.safetensors`);
      await fs.writeFile(file, bytes);
      await expect(SafetensorsFile.open(file)).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringMatching(message) });
      expect(() => deserializeSafetensors(bytes)).toThrow(message);
    });
  }

  it("reads files written by Python's safetensors (torch) value for value", async () => {
    // Fixtures made with safetensors 0.8.0 / torch 2.11 (testing/fixtures/README.md).
    const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures');
    const expected = JSON.parse(await fs.readFile(path.join(fixtures, 'python-torch.expected.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    const torchNames: Record<string, string> = { 'torch.float32': 'F32', 'torch.float16': 'F16', 'torch.bfloat16': 'BF16', 'torch.int8': 'I8', 'torch.int16': 'I16', 'torch.int32': 'I32', 'torch.uint8': 'U8', 'torch.bool': 'Bool' };
    const { tensors, metadata } = await readSafetensors(path.join(fixtures, 'python-torch.safetensors'));
    expect(metadata).toEqual({ format: 'pt', source: 'python safetensors' });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const t = tensors.get(name)!;
      expect(t.dtype.name).toBe(torchNames[e.dtype]);
      expect(t.shape).toEqual(e.shape);
      expect(t.toFlatArray()).toEqual(e.values);
    }
    // Round trip: our bytes for the same tensors equal Python's file byte for byte past the header.
    const original = await fs.readFile(path.join(fixtures, 'python-torch.safetensors'));
    const n = Number(new DataView(original.buffer, original.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(original.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets?: [number, number] }>;
    for (const [name, t] of tensors) {
      const [begin, end] = header[name]!.data_offsets!;
      expect(Buffer.from(t.rawBytes())).toEqual(original.subarray(8 + n + begin, 8 + n + end));
    }
    for (const t of tensors.values()) t.dispose();
  });

  it('opens a file with tensors of dtypes it cannot hold (I64), loads the others, and names the dtype for those', async () => {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures', 'python-torch-i64.safetensors');
    const reader = await SafetensorsFile.open(file);
    const i64 = { name: 'i64', dtype: 'I64', shape: [3], begin: expect.any(Number), end: expect.any(Number) };
    expect(reader.names).toEqual(['f32']);
    expect(reader.unsupported).toEqual([i64]);
    const all = await reader.loadAll();
    expect([...all.keys()]).toEqual(['f32']);
    expect(all.get('f32')!.toFlatArray()).toEqual([1.5, 2.5]);
    for (const t of all.values()) t.dispose();
    await expect(reader.load('i64')).rejects.toMatchObject({ code: 'ERR_BITNET_UNSUPPORTED', message: expect.stringContaining('tensor "i64" has dtype I64, which @bitnet/tensor does not support') });
    await reader.close();
    // Whole-file reads load what they can and say what they left out.
    const read = await readSafetensors(file);
    expect([...read.tensors.keys()]).toEqual(['f32']);
    expect(read.unsupported).toEqual([i64]);
    for (const t of read.tensors.values()) t.dispose();
    await expect(readSafetensors(file, { names: ['f32', 'i64'] })).rejects.toMatchObject({ code: 'ERR_BITNET_UNSUPPORTED' });
    const parsed = deserializeSafetensors(new Uint8Array(await fs.readFile(file)));
    expect(parsed.tensors.get('f32')!.toFlatArray()).toEqual([1.5, 2.5]);
    expect(parsed.unsupported).toEqual([i64]);
    for (const t of parsed.tensors.values()) t.dispose();
  });

  it('a missing file is ERR_BITNET_FILE_NOT_FOUND', async () => {
    await expect(SafetensorsFile.open(path.join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_NOT_FOUND' });
  });

  it('a failed write leaves neither the target nor a temporary file', async () => {
    const good = BitNetTensor.fromArray([1, 2, 3]);
    const doomed = BitNetTensor.fromArray([4, 5, 6]);
    // Free the block under the second tensor behind its back: writing it must fail mid-file.
    pool.deallocate(doomed.storage.handle as never);
    const file = path.join(dir, 'failed.safetensors');
    await expect(writeSafetensors(file, { good, doomed })).rejects.toMatchObject({ code: 'ERR_BITNET_DISPOSED' });
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('failed') || f.includes('failed.safetensors'))).toEqual([]);
    good.dispose();
    doomed.dispose(); // its storage still holds a reference (the block went behind its back)
  });
});

/** The header JSON of a serialized file, parsed here (independent of the package's reader). */
function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
}

describe('safetensors writer input', () => {
  it('a tensor named "__proto__" keeps its header entry and reads back', async () => {
    const t = BitNetTensor.fromArray([1.5, -2]);
    const other = BitNetTensor.fromArray([7], [1], 'I32');
    const tensors = new Map([['__proto__', t], ['other', other]]);
    const bytes = serializeSafetensors(tensors);
    const header = headerOf(bytes);
    expect(Object.keys(header).sort()).toEqual(['__proto__', 'other']);
    expect(Object.getOwnPropertyDescriptor(header, '__proto__')!.value).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    const parsed = deserializeSafetensors(bytes);
    expect(parsed.tensors.get('__proto__')!.toFlatArray()).toEqual([1.5, -2]);
    const file = path.join(dir, 'proto.safetensors');
    await writeSafetensors(file, tensors);
    const read = await readSafetensors(file);
    expect([...read.tensors.keys()].sort()).toEqual(['__proto__', 'other']);
    expect(read.tensors.get('__proto__')!.toFlatArray()).toEqual([1.5, -2]);
    // A metadata key "__proto__" is stored too.
    const metadata = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    const withMeta = serializeSafetensors({ other }, metadata);
    expect(Object.getOwnPropertyDescriptor(headerOf(withMeta).__metadata__, '__proto__')!.value).toBe('x');
    for (const x of [t, other, ...parsed.tensors.values(), ...read.tensors.values()]) x.dispose();
  });

  it('metadata must be a plain object of strings; a refused write leaves no file', async () => {
    const x = BitNetTensor.fromArray([1]);
    for (const metadata of ['abc', ['a'], 42, new Map([['a', 'b']]), { a: 1 }]) {
      const file = path.join(dir, 'meta.safetensors');
      const expected = { code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/^\[safetensors\] metadata/) };
      expect(() => serializeSafetensors({ x }, metadata as unknown as Record<string, string>)).toThrow(expect.objectContaining(expected));
      await expect(writeSafetensors(file, { x }, metadata as unknown as Record<string, string>)).rejects.toMatchObject(expected);
      await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(headerOf(serializeSafetensors({ x }, Object.assign(Object.create(null), { k: 'v' }) as Record<string, string>)).__metadata__).toEqual({ k: 'v' });
    x.dispose();
  });

  it('bad arguments and file-system failures are typed errors naming the path', async () => {
    const x = BitNetTensor.fromArray([1]);
    await expect(writeSafetensors(path.join(dir, 'n.safetensors'), null as unknown as Map<string, BitNetTensor>)).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    expect(() => serializeSafetensors([x] as unknown as Map<string, BitNetTensor>)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    await expect(writeSafetensors(42 as unknown as string, { x })).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    const missing = path.join(dir, 'no-such-dir', 'f.safetensors');
    await expect(writeSafetensors(missing, { x })).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_NOT_FOUND', message: expect.stringContaining(missing) });
    const sub = path.join(dir, 'a-directory');
    await fs.mkdir(sub);
    await expect(readSafetensors(sub)).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining(`${sub}: is a directory`) });
    await expect(writeSafetensors(sub, { x })).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringContaining(sub) });
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(readSafetensors(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    await expect(readSafetensors(path.join(dir, 'gone.safetensors'))).rejects.toMatchObject({ code: 'ERR_BITNET_FILE_NOT_FOUND', message: expect.stringContaining('gone.safetensors') });
    expect(() => deserializeSafetensors(new ArrayBuffer(16) as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    x.dispose();
  });
});

/** A file from raw header text (what JSON.stringify cannot write: repeated keys, 1.0, escapes). */
function buildRaw(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors header text', () => {
  const four = new Uint8Array([0, 0, 128, 63]); // float32 1
  const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';

  it('refuses what JSON.parse would let through: repeated keys, non-integer numbers, lone surrogates, deep nesting', () => {
    const bad: [string, RegExp][] = [
      // JSON.parse keeps the last "a": the file would load as I32 1065353216.
      [`{"a":${entry},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, /key "a" twice/],
      [`{"a":${entry},"\\u0061":${entry}}`, /key "a" twice/],
      [`{"__metadata__":{"format":"pt","format":"evil"},"a":${entry}}`, /key "format" twice/],
      ['{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', /shape number 1\.0/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', /data_offsets number 4e0/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}', /data_offsets number -0/],
      [`{"w\\ud800":${entry}}`, /lone UTF-16 surrogate/],
      [`{"__metadata__":{"k":"\\udc00x"},"a":${entry}}`, /lone UTF-16 surrogate/],
      [`{"a":${entry},"z":${'['.repeat(40)}${']'.repeat(40)}}`, /nested deeper/],
    ];
    for (const [text, message] of bad) {
      const file = buildRaw(text, four);
      expect(() => deserializeSafetensors(file), text).toThrow(expect.objectContaining({ code: 'ERR_BITNET_FILE_FORMAT', message: expect.stringMatching(message) }));
    }
  });

  it('reads escaped names, surrogate pairs, spaces and every valid number form', () => {
    const text = ` { "__metadata__" : { "note" : "caf\\u00e9 \\ud83d\\ude00" } , "w\\u0062" : {"dtype":"F32", "shape": [ 1 ] , "data_offsets" : [ 0 , 4 ]} , "e": {"dtype":"F32","shape":[0,10],"data_offsets":[4,4]} }   `;
    const { tensors, metadata } = deserializeSafetensors(buildRaw(text, four));
    expect([...tensors.keys()]).toEqual(['wb', 'e']);
    expect(metadata).toEqual({ note: 'café 😀' });
    expect(tensors.get('wb')!.toFlatArray()).toEqual([1]);
    for (const t of tensors.values()) t.dispose();
  });
});

describe('safetensors writer names', () => {
  it('names or metadata with lone surrogates are refused (they have no UTF-8 form); long file names are written', async () => {
    const x = BitNetTensor.fromArray([1]);
    expect(() => serializeSafetensors({ ['w\ud800']: x })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/lone UTF-16 surrogate/) }));
    expect(() => serializeSafetensors({ x }, { ['k\udfff']: 'v' })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(() => serializeSafetensors({ x }, { k: 'v\ud800' })).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const emoji = deserializeSafetensors(serializeSafetensors({ 'w😀': x })).tensors.get('w😀')!;
    expect(emoji.toFlatArray()).toEqual([1]);
    emoji.dispose();
    // 250 bytes of name (the temporary name beside it used to add 32 bytes and pass the 255-byte limit).
    const name = `${'é'.repeat(60)}${'n'.repeat(118)}.safetensors`;
    expect(Buffer.byteLength(name)).toBe(250);
    const sub = await fs.mkdtemp(path.join(dir, 'long-'));
    await writeSafetensors(path.join(sub, name), { x });
    expect(await fs.readdir(sub)).toEqual([name]);
    const read = await readSafetensors(path.join(sub, name));
    expect(read.tensors.get('x')!.toFlatArray()).toEqual([1]);
    for (const t of read.tensors.values()) t.dispose();
    x.dispose();
  });
});

describe('safetensors write abort and permissions', () => {
  it('an aborted write removes its temporary file, keeps an existing target and rejects with ERR_BITNET_ABORTED', async () => {
    const sub = await fs.mkdtemp(path.join(dir, 'abort-'));
    const target = path.join(sub, 'out.safetensors');
    await fs.writeFile(target, 'previous contents');
    // 3 × 64 MiB: the write checks the signal after each chunk; abort once the temporary file exists.
    const big = BitNetTensor.zeros([3 * (16 << 20)]);
    const controller = new AbortController();
    const watcher = setInterval(() => {
      void fs.readdir(sub).then((names) => {
        if (names.some((n) => n.endsWith('.tmp'))) controller.abort(new Error('stop'));
      });
    }, 1);
    try {
      await expect(writeSafetensors(target, { big }, undefined, { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_BITNET_ABORTED', message: expect.stringContaining(target) });
    } finally {
      clearInterval(watcher);
    }
    expect(await fs.readdir(sub)).toEqual(['out.safetensors']);
    expect(await fs.readFile(target, 'utf8')).toBe('previous contents');
    // Already aborted: nothing is opened.
    await expect(writeSafetensors(path.join(sub, 'never.safetensors'), { big }, undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_BITNET_ABORTED' });
    expect(await fs.readdir(sub)).toEqual(['out.safetensors']);
    await expect(writeSafetensors(target, { big }, undefined, { signal: 'stop' as unknown as AbortSignal })).rejects.toMatchObject({ code: 'ERR_BITNET_INVALID_ARGUMENT' });
    big.dispose();
  });

  it('a folder without write permission is ERR_BITNET_PERMISSION_DENIED naming the target, not the temporary file', async () => {
    // root may write anywhere it can chmod; sysfs refuses new files even to root (EACCES, or EROFS when mounted read-only).
    const root = process.getuid?.() === 0;
    const sub = root ? '/sys/kernel' : await fs.mkdtemp(path.join(dir, 'readonly-'));
    if (!root) await fs.chmod(sub, 0o500);
    const x = BitNetTensor.fromArray([1]);
    const target = path.join(sub, 'x.safetensors');
    await expect(writeSafetensors(target, { x })).rejects.toMatchObject({ code: 'ERR_BITNET_PERMISSION_DENIED', message: expect.stringContaining(`${target}: cannot be written, `) });
    await expect(writeSafetensors(target, { x })).rejects.toThrow(new RegExp(`cannot be written, (permission denied|operation not permitted|read-only file system) in ${sub}$`));
    if (!root) await fs.chmod(sub, 0o700);
    x.dispose();
  });
});
