import fs from 'node:fs';
import path from 'node:path';
import { BitNetError, BitNetRangeError, BitNetTypeError, ErrorCode, invalidArgument, isBitNetError } from '@bitnet/errors';
import { BitNetDType, BitNetTensor, SafetensorsFile, numelOf, quantize158, writeSafetensors } from '@bitnet/tensor';
import { type CommandIO, ExitCode, UsageError, fileError, progress, statOrNull } from '../io.js';

export const quantizeHelp = `Usage: bitnet quantize <in.safetensors> <out.safetensors> [options]

Float weights → packed 1.58-bit ternary weights (BitNet b1.58 absmean quantization):
every F32/F16/BF16 tensor with at least 2 axes and --min-elements elements becomes
ternary codes in the chosen layout plus its scales; other tensors (biases, norms,
small tables) are copied unchanged. Prints the error each tensor gets.

Options:
  --layout <l>         i2_r4 (our kernels' layout, default), tq2_0 or tq1_0 (ggml)
  --granularity <g>    tensor (BitNet b1.58, default), row (one scale per output row) or
                       group (one scale per row and --group-size columns)
  --group-size <n>     columns per scale with --granularity group: a multiple of 256 (default 256)
  --min-elements <n>   smaller tensors are copied, not quantized (default 4096)
  --json               print the summary as JSON

Output: each quantized tensor <name> is stored as U8 bytes of the packed layout; for
i2_r4 its float32 scales are <name>.scale ([rows], or [rows, groups] for group-scaled
i2_r4). The metadata entry "bitnet.quantization" maps each name to { layout, shape, dtype,
granularity } (plus groupSize with group scales, and weightGroupSize when the i2_r4 bytes
are group-scaled) so the file can be loaded back. An input tensor named like the scales of
a tensor being quantized (<name>.scale with i2_r4) is refused, as one would overwrite the other.

Ctrl-C (SIGINT) or SIGTERM stops it without leaving a partial or temporary file; the exit
code is then 130 (SIGINT) or 143 (SIGTERM).
`;

interface TensorReport {
  name: string;
  shape: readonly number[];
  dtype: string;
  quantized: boolean;
  bytesIn: number;
  bytesOut: number;
  /** ‖W − Ŵ‖₂ / ‖W‖₂ of the dequantized weights. */
  relativeError?: number;
  /** Fraction of weights quantized to 0. */
  zeros?: number;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

function checkInput(file: string): void {
  const stat = statOrNull('quantize', file);
  if (!stat) throw new BitNetError(ErrorCode.FILE_NOT_FOUND, 'quantize', `the input ${file} does not exist`, { details: { path: file } });
  if (stat.isDirectory()) throw invalidArgument('quantize', `the input ${file} is a folder; give a .safetensors file`, { details: { path: file } });
}

function checkOutput(file: string): void {
  if (statOrNull('quantize', file)?.isDirectory()) {
    throw invalidArgument('quantize', `the output ${file} is a folder; give a file path such as ${path.join(file, 'model.ternary.safetensors')}`, { details: { path: file } });
  }
  const folder = path.dirname(path.resolve(file));
  const stat = statOrNull('quantize', folder);
  if (!stat) {
    throw new BitNetError(ErrorCode.FILE_NOT_FOUND, 'quantize', `the folder of the output ${file} does not exist: ${folder} (create it first)`, { details: { path: file, folder } });
  }
  if (!stat.isDirectory()) throw invalidArgument('quantize', `the output ${file} cannot be written: ${folder} is a file, not a folder`, { details: { path: file, folder } });
  // Now rather than after the quantization: the write goes through a temporary file in this folder.
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (error) {
    throw fileError('quantize', `write ${file} into the folder`, folder, error);
  }
}

/** The tensor a quantized `name` adds beside its bytes: i2_r4 keeps its float32 scales apart; ggml layouts keep them in their blocks. */
function scaleName(name: string, layout: 'i2_r4' | 'tq2_0' | 'tq1_0'): string | null {
  return layout === 'i2_r4' ? `${name}.scale` : null;
}

/**
 * Refuses, before any work, an input whose output would lose data: tensors of dtypes the output cannot
 * carry, a quantized tensor whose scales would take the name of another input tensor (one would overwrite
 * the other), or columns a ggml layout cannot hold.
 */
function checkTensors(options: { input: string; layout: 'i2_r4' | 'tq2_0' | 'tq1_0' }, reader: SafetensorsFile, quantized: Set<string>): void {
  // The output must hold every input tensor; ones this package cannot load (I64, F64, …) would be dropped.
  const foreign = reader.unsupported;
  if (foreign.length > 0) {
    const list = foreign.map((entry) => `${entry.name} (${entry.dtype})`).join(', ');
    throw new BitNetError(ErrorCode.UNSUPPORTED, 'quantize', `${options.input} has tensors of dtypes @bitnet/tensor cannot hold, which the output could not carry: ${list}`, {
      details: { input: options.input, tensors: foreign.map((entry) => entry.name) },
    });
  }
  const inputNames = new Set(reader.names);
  const collisions = [...quantized].flatMap((name) => {
    const scales = scaleName(name, options.layout);
    return scales !== null && inputNames.has(scales) ? [{ tensor: name, scales }] : [];
  });
  if (collisions.length > 0) {
    const list = collisions.map(({ tensor, scales }) => `${tensor} (its scales would be stored as ${scales}, which is also an input tensor)`).join(', ');
    throw invalidArgument('quantize', `${options.input}: quantizing ${list} would overwrite one tensor with the other; rename the tensor in the input, or use --layout tq2_0 or tq1_0 (scales inside the blocks)`, {
      details: { input: options.input, collisions },
    });
  }
  if (options.layout !== 'i2_r4') {
    for (const name of quantized) {
      const columns = reader.info(name).shape.at(-1)!;
      if (columns % 256 !== 0) {
        throw new BitNetError(ErrorCode.SHAPE_MISMATCH, 'quantize', `${name} has ${columns} columns; the ${options.layout} layout needs a multiple of 256 (use --layout i2_r4)`, {
          details: { tensor: name, columns },
        });
      }
    }
  }
}

/**
 * An error of one tensor's step (bad weights, a scale F16 cannot hold) with the tensor's name in front, so a
 * model of hundreds of tensors says which one; the code and the error class stay. Errors of this command
 * already name the tensor.
 */
function aboutTensor(name: string, error: unknown): unknown {
  if (!isBitNetError(error) || error.op === 'quantize' || error.code === ErrorCode.ABORTED) return error;
  const Type = error instanceof BitNetRangeError ? BitNetRangeError : error instanceof BitNetTypeError ? BitNetTypeError : BitNetError;
  return new Type(error.code, 'quantize', `tensor ${name}: ${error.message}`, { cause: error, details: { ...error.details, tensor: name } });
}

export async function quantize(
  io: CommandIO,
  options: { input: string; output: string; layout: 'i2_r4' | 'tq2_0' | 'tq1_0'; granularity: 'tensor' | 'row' | 'group'; groupSize?: number; minElements: number; json: boolean },
): Promise<number> {
  if (path.resolve(options.input) === path.resolve(options.output)) {
    throw new UsageError('the output must be another file than the input (the input is read while the output is written)');
  }
  // Both paths are checked before anything is read or written, so errors name the user's paths (not the
  // temporary file the write goes through) and a failed call creates no file.
  checkInput(options.input);
  checkOutput(options.output);
  let reader: SafetensorsFile;
  try {
    reader = await SafetensorsFile.open(options.input);
  } catch (error) {
    throw fileError('quantize', 'read the input', options.input, error);
  }
  const names = reader.names;
  // Which tensors become ternary, decided from the header alone so the checks below run before any work.
  const quantized = new Set(
    names.filter((name) => {
      const entry = reader.info(name);
      return FLOAT_DTYPES.has(entry.dtype.name) && entry.shape.length >= 2 && numelOf(entry.shape) >= options.minElements;
    }),
  );
  try {
    checkTensors(options, reader, quantized);
  } catch (error) {
    await reader.close();
    throw error;
  }

  // Ctrl-C or SIGTERM stops the work and the write: writeSafetensors removes its temporary file on abort,
  // so nothing is left behind (by default Node would die at once and leave `.<name>.<pid>.<hex>.tmp`).
  const controller = new AbortController();
  const stopped: { by: NodeJS.Signals | null } = { by: null };
  const stop = (signal: NodeJS.Signals) => {
    if (stopped.by) return;
    stopped.by = signal;
    controller.abort(new BitNetError(ErrorCode.ABORTED, 'quantize', `stopped by ${signal}`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const outputs = new Map<string, BitNetTensor>();
  const plan: Record<string, { layout: string; shape: number[]; dtype: string; granularity: string; groupSize?: number; weightGroupSize?: number }> = {};
  const groupSize = options.granularity === 'group' ? (options.groupSize ?? 256) : undefined;
  const reports: TensorReport[] = [];
  try {
    const bar = progress(io, `quantizing ${path.basename(options.input)}`);
    try {
      for (const [index, name] of names.entries()) {
        try {
          await quantizeOne(name);
        } catch (error) {
          throw aboutTensor(name, error);
        }
        bar.update((index + 1) / names.length);
        // The signal handler runs while a tensor loads (an await); stop before the next one.
        if (controller.signal.aborted) throw controller.signal.reason;
      }
    } finally {
      bar.done();
    }
    const metadata = { ...reader.metadata, 'bitnet.quantization': JSON.stringify(plan), 'bitnet.format': 'ternary-packed' };
    // The write is asynchronous, so the bar's timer shows it moving on a large model.
    const writing = progress(io, `writing ${path.basename(options.output)}`);
    try {
      await writeSafetensors(options.output, outputs, metadata, { signal: controller.signal });
    } catch (error) {
      throw fileError('quantize', 'write the output', options.output, error);
    } finally {
      writing.done();
    }
  } catch (error) {
    if (stopped.by) {
      io.err(`bitnet quantize: stopped by ${stopped.by}; ${options.output} was not written and no temporary file is left\n`);
      return stopped.by === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
    }
    throw error;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const tensor of outputs.values()) if (!tensor.isDisposed) tensor.dispose();
    await reader.close();
  }

  /** Loads one tensor and adds it to the outputs: copied, or quantized with its scales. */
  async function quantizeOne(name: string): Promise<void> {
    const tensor = await reader.load(name);
    const dtype = tensor.dtype.name;
    if (!quantized.has(name)) {
      outputs.set(name, tensor);
      reports.push({ name, shape: tensor.shape, dtype, quantized: false, bytesIn: tensor.byteSize, bytesOut: tensor.byteSize });
      return;
    }
    // Everything made on the way is disposed here, on success or on a bad tensor.
    const made: Array<{ dispose(): void }> = [tensor];
    try {
      const columns = tensor.shape[tensor.ndim - 1]!;
      const matrix = tensor.reshape([tensor.numel / columns, columns]);
      made.push(matrix);
      const ternary = quantize158(matrix, { granularity: options.granularity, ...(groupSize !== undefined ? { groupSize } : {}) });
      made.push(ternary);
      const packed = ternary.pack(options.layout);
      made.push(packed);
      const restored = packed.dequantize();
      made.push(restored);
      // Error introduced, accumulated in float64.
      const original = matrix.to(BitNetDType.F32);
      made.push(original);
      const a = original.rawElements() as Float32Array;
      const b = restored.rawElements() as Float32Array;
      let difference = 0;
      let norm = 0;
      for (let i = 0; i < a.length; i++) {
        difference += (a[i]! - b[i]!) ** 2;
        norm += a[i]! ** 2;
      }
      const values = ternary.values.rawElements() as Int8Array;
      let zeros = 0;
      for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
      const bytes = BitNetTensor.fromBytes(packed.packed.data, [packed.packed.data.length], BitNetDType.U8);
      outputs.set(name, bytes);
      let bytesOut = bytes.byteSize;
      const scales = packed.rowScales;
      const rows = matrix.shape[0]!;
      const scalesName = scaleName(name, options.layout);
      if (scales && scalesName) {
        const scaleShape = packed.groupSize === null ? [scales.length] : [rows, scales.length / Math.max(rows, 1)];
        const scaleTensor = BitNetTensor.fromArray(scales, scaleShape, BitNetDType.F32);
        outputs.set(scalesName, scaleTensor);
        bytesOut += scaleTensor.byteSize;
      }
      plan[name] = {
        layout: options.layout,
        shape: [...tensor.shape],
        dtype,
        granularity: options.granularity,
        ...(groupSize !== undefined ? { groupSize } : {}),
        ...(packed.groupSize !== null ? { weightGroupSize: packed.groupSize } : {}),
      };
      reports.push({
        name,
        shape: tensor.shape,
        dtype,
        quantized: true,
        bytesIn: tensor.byteSize,
        bytesOut,
        relativeError: norm === 0 ? 0 : Math.sqrt(difference / norm),
        zeros: zeros / values.length,
      });
    } finally {
      for (const object of made.reverse()) object.dispose();
    }
  }

  const bytesIn = reports.reduce((sum, r) => sum + r.bytesIn, 0);
  const bytesOut = reports.reduce((sum, r) => sum + r.bytesOut, 0);
  const quantizedReports = reports.filter((r) => r.quantized);
  const weighted = quantizedReports.reduce((sum, r) => sum + r.relativeError! * r.bytesIn, 0) / Math.max(1, quantizedReports.reduce((s, r) => s + r.bytesIn, 0));
  const summary = {
    input: options.input,
    output: options.output,
    layout: options.layout,
    granularity: options.granularity,
    tensors: reports.length,
    quantized: quantizedReports.length,
    bytesIn,
    bytesOut,
    outputFileBytes: fs.statSync(options.output).size,
    compression: bytesIn / bytesOut,
    meanRelativeError: weighted,
    reports,
  };
  if (options.json) {
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const lines = reports.map((r) =>
    r.quantized
      ? `  ${r.name.padEnd(32)} [${r.shape.join(', ')}] ${r.dtype} → ${options.layout}: ${(r.bytesIn / r.bytesOut).toFixed(1)}× smaller, error ${(r.relativeError! * 100).toFixed(1)}%, ${(r.zeros! * 100).toFixed(0)}% zeros`
      : `  ${r.name.padEnd(32)} [${r.shape.join(', ')}] ${r.dtype} copied`,
  );
  io.out(
    `${lines.join('\n')}\n${quantizedReports.length} of ${reports.length} tensors quantized; ${(bytesIn / 2 ** 20).toFixed(2)} MiB → ${(bytesOut / 2 ** 20).toFixed(2)} MiB (${summary.compression.toFixed(1)}×); ` +
      `mean relative error ${(weighted * 100).toFixed(1)}% (‖W − Ŵ‖/‖W‖)\nwrote ${options.output}\n`,
  );
  return 0;
}
