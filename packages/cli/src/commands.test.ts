import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitNetDType, BitNetTensor, PackedTernaryTensor, SafetensorsFile, writeSafetensors } from '@bitnet/tensor';
import { findLlama3TokenizerFiles } from '@bitnet/tokenizer';
import { afterAll, describe, expect, it } from 'vitest';
import { type CommandIO, main } from './index.js';

const require = createRequire(import.meta.url);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function capture(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('bitnet tokenize', () => {
  it('gives the ids of Hugging Face tokenizers (the Rust library) and offsets into the text', async () => {
    const { Tokenizer } = require('tokenizers') as typeof import('tokenizers');
    const file = findLlama3TokenizerFiles(path.dirname(fileURLToPath(import.meta.url))).tokenizerJson;
    const text = 'Ternary weights: −1, 0 and +1 — naïve café, 東京 🚀.';
    const io = capture();
    expect(await main(['tokenize', '--tokenizer', file, '--json', text], io)).toBe(0);
    const ours = JSON.parse(io.stdout);
    const oracle = await Tokenizer.fromFile(file).encode(text);
    expect(ours.ids).toEqual(oracle.getIds());
    expect(ours.roundTrip).toBe(true);
    // Offsets are [start, end) string indices, in order, covering the text (a token holding part of
    // a character such as 🚀 covers the whole character, so neighbours may share it).
    const offsets = ours.offsets as Array<[number, number]>;
    expect(offsets[0]![0]).toBe(0);
    expect(offsets.at(-1)![1]).toBe(text.length);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]![0]).toBeGreaterThanOrEqual(offsets[i - 1]![0]);
    expect(text.slice(...offsets[1]!)).toBe(ours.tokens[1].replace(/^Ġ/, ' '));
  });

  it('explains a missing tokenizer file with exit code 1', async () => {
    const io = capture();
    expect(await main(['tokenize', '--tokenizer', path.join(dir, 'missing.json'), 'hi'], io)).toBe(1);
    expect(io.stderr).toMatch(/missing\.json/);
    expect(io.stderr).toMatch(/ERR_BITNET_FILE_NOT_FOUND/);
  });
});

describe('bitnet quantize', () => {
  it('packs float matrices to ternary with the absmean rule, copies the rest, and reports the error', async () => {
    const rows = 64;
    const columns = 512;
    const weights = new Float32Array(rows * columns).map((_, i) => Math.sin(i * 12.9898) * 0.05);
    const bias = new Float32Array(rows).map((_, i) => i / 10);
    const input = path.join(dir, 'in.safetensors');
    const output = path.join(dir, 'out.safetensors');
    // Disposed after writing: left to the GC, they set off BITNET_TENSOR_LEAK warnings in CI.
    using weightTensor = BitNetTensor.fromArray(weights, [rows, columns], BitNetDType.F32);
    using biasTensor = BitNetTensor.fromArray(bias, [rows], BitNetDType.F32);
    await writeSafetensors(input, new Map([
      ['proj.weight', weightTensor],
      ['proj.bias', biasTensor],
    ]), { note: 'kept' });
    const io = capture();
    expect(await main(['quantize', input, output, '--json'], io), io.stderr).toBe(0);
    const summary = JSON.parse(io.stdout);
    expect(summary.quantized).toBe(1);

    // Independent float64 reference of BitNet b1.58: scale = mean|W|, q = clamp(round(W / scale), -1, 1).
    let sum = 0;
    for (const w of weights) sum += Math.abs(w);
    const scale = sum / weights.length;
    // round() as PyTorch does it: half to even; `|| 0` folds -0 into 0.
    const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
    const expected = Array.from(weights, (w) => Math.max(-1, Math.min(1, roundHalfEven(w / scale))) || 0);
    let difference = 0;
    let norm = 0;
    for (let i = 0; i < weights.length; i++) {
      difference += (weights[i]! - expected[i]! * scale) ** 2;
      norm += weights[i]! ** 2;
    }
    const report = summary.reports.find((r: { name: string }) => r.name === 'proj.weight');
    expect(report.relativeError).toBeCloseTo(Math.sqrt(difference / norm), 5);
    expect(report.zeros).toBeCloseTo(expected.filter((v) => v === 0).length / expected.length, 10);

    const file = await SafetensorsFile.open(output);
    const plan = JSON.parse(file.metadata['bitnet.quantization']!);
    expect(plan['proj.weight']).toEqual({ layout: 'i2_r4', shape: [rows, columns], dtype: 'F32', granularity: 'tensor' });
    expect(file.metadata.note).toBe('kept');
    const bytes = await file.load('proj.weight');
    const scales = await file.load('proj.weight.scale');
    const packed = PackedTernaryTensor.fromBytes('i2_r4', rows, columns, bytes.rawElements() as Uint8Array, scales.rawElements() as Float32Array);
    const values = packed.unpack();
    expect(Array.from(values.values.rawElements() as Int8Array)).toEqual(expected);
    const copied = await file.load('proj.bias');
    expect(Array.from(copied.rawElements() as Float32Array)).toEqual(Array.from(bias));
    for (const t of [bytes, scales, copied]) t.dispose();
    values.dispose();
    packed.dispose();
    await file.close();
  });

  it('quantizes per group of columns: scales [rows, groups] that load back into a group-scaled layer', async () => {
    const rows = 8;
    const columns = 768;
    // Magnitude grows from group to group, so the three group scales of a row differ.
    const weights = new Float32Array(rows * columns).map((_, i) => Math.sin(i * 12.9898) * 0.01 * (1 + Math.floor((i % columns) / 256)));
    const input = path.join(dir, 'group-in.safetensors');
    const output = path.join(dir, 'group-out.safetensors');
    using weightTensor = BitNetTensor.fromArray(weights, [rows, columns], BitNetDType.F32);
    await writeSafetensors(input, new Map([['w', weightTensor]]));
    const io = capture();
    expect(await main(['quantize', input, output, '--granularity', 'group', '--group-size', '256', '--min-elements', '16', '--json'], io), io.stderr).toBe(0);
    // Float64 reference: scale = mean|W| over each row's 256-column group, stored as float32.
    const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
    const expectedScales = new Float32Array(rows * 3);
    const expected: number[] = [];
    for (let r = 0; r < rows; r++)
      for (let g = 0; g < 3; g++) {
        let sum = 0;
        for (let c = 256 * g; c < 256 * (g + 1); c++) sum += Math.abs(weights[r * columns + c]!);
        expectedScales[r * 3 + g] = sum / 256;
      }
    for (let i = 0; i < weights.length; i++) {
      const scale = expectedScales[Math.floor(i / columns) * 3 + Math.floor((i % columns) / 256)]!;
      expected.push(Math.max(-1, Math.min(1, roundHalfEven(weights[i]! / scale))) || 0);
    }
    const file = await SafetensorsFile.open(output);
    const plan = JSON.parse(file.metadata['bitnet.quantization']!);
    expect(plan.w).toEqual({ layout: 'i2_r4', shape: [rows, columns], dtype: 'F32', granularity: 'group', groupSize: 256, weightGroupSize: 256 });
    const bytes = await file.load('w');
    const scales = await file.load('w.scale');
    expect(scales.shape).toEqual([rows, 3]);
    expect(Array.from(scales.rawElements() as Float32Array)).toEqual(Array.from(expectedScales));
    const packed = PackedTernaryTensor.fromBytes('i2_r4', rows, columns, bytes.rawElements() as Uint8Array, scales.rawElements() as Float32Array, 256);
    const values = packed.unpack();
    expect(Array.from(values.values.rawElements() as Int8Array)).toEqual(expected);
    for (const t of [bytes, scales]) t.dispose();
    values.dispose();
    packed.dispose();
    await file.close();
    const bad = capture();
    expect(await main(['quantize', input, output, '--granularity', 'group', '--group-size', '100'], bad)).toBe(2);
    expect(bad.stderr).toContain('--group-size must be a positive multiple of 256');
    const stray = capture();
    expect(await main(['quantize', input, output, '--group-size', '256'], stray)).toBe(2);
    expect(stray.stderr).toContain('--group-size needs --granularity group');
  });

  it('refuses an input tensor named like the scales of a tensor it quantizes, naming both, and writes nothing', async () => {
    using weights = BitNetTensor.fromArray(new Float32Array(64 * 256).map((_, i) => Math.sin(i)), [64, 256], BitNetDType.F32);
    using other = BitNetTensor.fromArray(new Float32Array(7).fill(1), [7], BitNetDType.F32);
    // Both orders: the input's w.scale would overwrite w's 64 row scales, or the other way round.
    for (const order of [['w', 'w.scale'], ['w.scale', 'w']]) {
      const input = path.join(dir, `collide-${order[0]}.safetensors`);
      const output = path.join(dir, `collide-${order[0]}.out.safetensors`);
      await writeSafetensors(input, new Map(order.map((name) => [name, name === 'w' ? weights : other] as const)));
      const io = capture();
      expect(await main(['quantize', input, output], io)).toBe(1);
      expect(io.stderr).toBe(
        `bitnet quantize: [quantize] ${input}: quantizing w (its scales would be stored as w.scale, which is also an input tensor) would overwrite one tensor with the other; ` +
          'rename the tensor in the input, or use --layout tq2_0 or tq1_0 (scales inside the blocks) (ERR_BITNET_INVALID_ARGUMENT)\n',
      );
      expect(io.stdout).toBe('');
      expect(fs.readdirSync(dir).filter((name) => name.includes('collide') && name.includes('out'))).toEqual([]);
    }
    // ggml layouts keep their scales in the blocks: nothing collides, both tensors arrive.
    const input = path.join(dir, 'collide-w.safetensors');
    const output = path.join(dir, 'collide-tq2.safetensors');
    const io = capture();
    expect(await main(['quantize', input, output, '--layout', 'tq2_0'], io), io.stderr).toBe(0);
    const file = await SafetensorsFile.open(output);
    expect(file.names.sort()).toEqual(['w', 'w.scale']);
    expect(file.info('w.scale').shape).toEqual([7]);
    await file.close();
  });

  it('names the tensor in errors about one tensor (NaN weights, a scale F16 cannot hold), keeping the code', async () => {
    const good = new Float32Array(64 * 256).map((_, i) => Math.sin(i));
    const withNaN = good.slice();
    withNaN[2 * 256 + 3] = Number.NaN;
    const huge = new Float32Array(64 * 256).fill(1e6);
    using a = BitNetTensor.fromArray(good, [64, 256], BitNetDType.F32);
    using b = BitNetTensor.fromArray(withNaN, [64, 256], BitNetDType.F32);
    using c = BitNetTensor.fromArray(huge, [64, 256], BitNetDType.F32);
    const input = path.join(dir, 'bad-tensors.safetensors');
    await writeSafetensors(input, new Map([['layers.0.w', a], ['layers.1.w', b]]));
    const output = path.join(dir, 'bad-tensors.out.safetensors');
    const nan = capture();
    expect(await main(['quantize', input, output], nan)).toBe(1);
    expect(nan.stderr).toMatch(/^bitnet quantize: \[quantize\] tensor layers\.1\.w: \[quantize158\] .*NaN.* \(ERR_BITNET_INVALID_ARGUMENT\)\n$/);
    const overflowInput = path.join(dir, 'overflow.safetensors');
    await writeSafetensors(overflowInput, new Map([['layers.0.w', a], ['layers.9.w', c]]));
    const overflow = capture();
    expect(await main(['quantize', overflowInput, output, '--layout', 'tq2_0'], overflow)).toBe(1);
    expect(overflow.stderr).toMatch(/^bitnet quantize: \[quantize\] tensor layers\.9\.w: \[packTernary\] .*fp16.* \(ERR_BITNET_OUT_OF_RANGE\)\n$/);
    expect(fs.existsSync(output)).toBe(false);
  });

  it('Ctrl-C while tensors are being quantized stops, leaves no file and returns 130', async () => {
    const input = path.join(dir, 'many.safetensors');
    const tensors = new Map(Array.from({ length: 6 }, (_, i) => [`layers.${i}.w`, BitNetTensor.random([64, 256], { seed: i })] as const));
    await writeSafetensors(input, tensors);
    for (const t of tensors.values()) t.dispose();
    const folder = fs.mkdtempSync(path.join(dir, 'interrupted-'));
    const output = path.join(folder, 'out.safetensors');
    // The first drawn step of the bar (a terminal, bars at once) stands for the user pressing Ctrl-C then: the
    // quantize command's own SIGINT listener is called directly (a real signal would reach the test runner too).
    let interrupted = false;
    const io = {
      stdout: '',
      stderr: '',
      isTTY: true,
      progressAfterMs: 0,
      out: (text: string) => void (io.stdout += text),
      err(text: string) {
        io.stderr += text;
        if (!interrupted && /\] \d+% /.test(text)) {
          interrupted = true;
          (process.listeners('SIGINT').at(-1) as (signal: NodeJS.Signals) => void)('SIGINT');
        }
      },
    };
    const listeners = process.listenerCount('SIGINT');
    expect(await main(['quantize', input, output], io)).toBe(130);
    expect(interrupted).toBe(true);
    expect(io.stderr.split('\r').at(-1)).toBe(`\x1b[Kbitnet quantize: stopped by SIGINT; ${output} was not written and no temporary file is left\n`);
    expect(io.stdout).toBe('');
    expect(fs.readdirSync(folder)).toEqual([]);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('refuses to overwrite its input and checks the layout', async () => {
    const io = capture();
    expect(await main(['quantize', 'a.safetensors', 'a.safetensors'], io)).toBe(2);
    expect(io.stderr).toContain('the output must be another file than the input');
    const bad = capture();
    expect(await main(['quantize', 'a', 'b', '--layout', 'q4'], bad)).toBe(2);
    expect(bad.stderr).toContain('--layout must be i2_r4, tq2_0 or tq1_0, got q4');
    const missing = capture();
    expect(await main(['quantize', path.join(dir, 'nope.safetensors'), path.join(dir, 'x.safetensors')], missing)).toBe(1);
    expect(missing.stderr).toContain('ERR_BITNET_FILE_NOT_FOUND');
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
  });
});

describe('bitnet quantize, demo and bench: bad paths and numbers', () => {
  const input = path.join(dir, 'paths-in.safetensors');
  const listing = () => fs.readdirSync(dir).sort();
  const prepare = async () => {
    if (fs.existsSync(input)) return;
    using weights = BitNetTensor.fromArray(new Float32Array(64 * 256).map((_, i) => Math.sin(i)), [64, 256], BitNetDType.F32);
    await writeSafetensors(input, new Map([['w', weights]]));
  };

  it('names the user’s output path (not a temporary file) when its folder is missing or it is a folder, and writes nothing', async () => {
    await prepare();
    const before = listing();
    const missing = path.join(dir, 'no-such-folder', 'out.safetensors');
    const io = capture();
    expect(await main(['quantize', input, missing], io)).toBe(1);
    expect(io.stderr).toBe(`bitnet quantize: [quantize] the folder of the output ${missing} does not exist: ${path.dirname(missing)} (create it first) (ERR_BITNET_FILE_NOT_FOUND)\n`);
    const folder = capture();
    expect(await main(['quantize', input, dir], folder)).toBe(1);
    expect(folder.stderr).toBe(`bitnet quantize: [quantize] the output ${dir} is a folder; give a file path such as ${path.join(dir, 'model.ternary.safetensors')} (ERR_BITNET_INVALID_ARGUMENT)\n`);
    const underFile = path.join(input, 'out.safetensors');
    const nested = capture();
    expect(await main(['quantize', input, underFile], nested)).toBe(1);
    expect(nested.stderr).toContain(`cannot be written: ${input} is a file, not a folder (ERR_BITNET_INVALID_ARGUMENT)`);
    for (const run of [io, folder, nested]) {
      expect(run.stderr).not.toMatch(/\.tmp|ENOENT|EISDIR|ENOTDIR|\n {4}at /);
      expect(run.stdout).toBe('');
    }
    expect(listing()).toEqual(before);
  });

  it('refuses an input with tensors it cannot carry into the output (I64 from PyTorch), and writes nothing', async () => {
    // A file written by Python's safetensors/torch (the tensor package's fixture): an I64 tensor beside an F32 one.
    const i64 = path.join(path.dirname(require.resolve('@bitnet/tensor/package.json')), 'src', 'testing', 'fixtures', 'python-torch-i64.safetensors');
    const output = path.join(dir, 'from-i64.safetensors');
    const io = capture();
    expect(await main(['quantize', i64, output], io)).toBe(1);
    expect(io.stderr).toContain('has tensors of dtypes @bitnet/tensor cannot hold, which the output could not carry: i64 (I64) (ERR_BITNET_UNSUPPORTED)');
    expect(fs.existsSync(output)).toBe(false);
  });

  it('a folder as input is a typed error naming it', async () => {
    const io = capture();
    expect(await main(['quantize', dir, path.join(dir, 'never.safetensors')], io)).toBe(1);
    expect(io.stderr).toBe(`bitnet quantize: [quantize] the input ${dir} is a folder; give a .safetensors file (ERR_BITNET_INVALID_ARGUMENT)\n`);
    expect(fs.existsSync(path.join(dir, 'never.safetensors'))).toBe(false);
    const empty = capture();
    expect(await main(['quantize', '', path.join(dir, 'never.safetensors')], empty)).toBe(2);
    expect(empty.stderr).toContain('got an empty path');
  });

  it('integer options take decimal digits only', async () => {
    await prepare();
    for (const [args, message] of [
      [['quantize', input, path.join(dir, 'never.safetensors'), '--min-elements', '0x10'], '--min-elements must be a positive decimal integer, got 0x10'],
      [['quantize', input, path.join(dir, 'never.safetensors'), '--min-elements', '1e3'], 'got 1e3'],
      [['quantize', input, path.join(dir, 'never.safetensors'), '--min-elements', ''], 'got ""'],
      [['quantize', input, path.join(dir, 'never.safetensors'), '--min-elements', ' 16'], 'got " 16"'],
      [['quantize', input, path.join(dir, 'never.safetensors'), '--granularity', 'group', '--group-size', '0x100'], '--group-size must be a positive multiple of 256 (the kernels\' block), got 0x100'],
      [['demo', '--dim', '0x100'], '--dim must be an integer from 1 to 4096, got 0x100'],
      [['demo', '--blocks', '2e0'], '--blocks must be an integer from 1 to 64, got 2e0'],
    ] as const) {
      const io = capture();
      expect(await main([...args], io), args.join(' ')).toBe(2);
      expect(io.stderr).toContain(message);
    }
    expect(fs.existsSync(path.join(dir, 'never.safetensors'))).toBe(false);
  });

  it('demo checks --text before printing anything', async () => {
    const missing = path.join(dir, 'missing.txt');
    const cases: Array<[string, string]> = [
      [missing, `bitnet demo: [demo] cannot read the text file ${missing}: no such file or folder (ERR_BITNET_FILE_NOT_FOUND)\n`],
      [dir, `bitnet demo: [demo] --text ${dir} is a folder; give a text file (ERR_BITNET_INVALID_ARGUMENT)\n`],
    ];
    for (const [text, stderr] of cases) {
      const io = capture();
      expect(await main(['demo', '--text', text, '--dim', '64', '--blocks', '1'], io)).toBe(1);
      expect(io.stdout).toBe('');
      expect(io.stderr).toBe(stderr);
    }
    // Nothing to tokenize: refused up front, not a TypeError after half the report.
    const blank = path.join(dir, 'blank.txt');
    fs.writeFileSync(blank, ' \n\n\t\n');
    for (const [file, bytes] of [[path.join(dir, 'empty.txt'), 0], [blank, 5], ...(fs.existsSync('/dev/null') ? [['/dev/null', 0] as const] : [])] as const) {
      if (file.endsWith('empty.txt')) fs.writeFileSync(file, '');
      const io = capture();
      expect(await main(['demo', '--text', file, '--dim', '64', '--blocks', '1'], io)).toBe(1);
      expect(io.stdout).toBe('');
      expect(io.stderr).toBe(`bitnet demo: [demo] the text file ${file} is empty or only white space (${bytes} bytes); give --text a file with some text (ERR_BITNET_INVALID_ARGUMENT)\n`);
    }
    const empty = capture();
    expect(await main(['demo', '--text', ''], empty)).toBe(2);
    expect(empty.stderr).toContain('--text needs a file path, got an empty string');
    expect(empty.stdout).toBe('');
  });

  it('bench refuses an empty --out (or a file) before running any suite', async () => {
    // An unknown suite as well: should the check be missing, the call still runs nothing.
    const io = capture();
    expect(await main(['bench', '--out', '', '--report-only', 'no-such-suite'], io)).toBe(2);
    expect(io.stderr).toContain('bitnet bench: --out needs a folder path, got an empty string');
    const file = capture();
    expect(await main(['bench', '--out', input, '--report-only', 'no-such-suite'], file)).toBe(2);
    expect(file.stderr).toContain(`bitnet bench: --out must be a folder, but ${input} is a file`);
  });
});

