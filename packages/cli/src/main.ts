import { parseArgs } from 'node:util';
import { isBitNetError } from '@bitnet/errors';
import packageJson from '../package.json';
import { bench, benchHelp } from './commands/bench.js';
import { demo, demoHelp } from './commands/demo.js';
import { info, infoHelp } from './commands/info.js';
import { quantize, quantizeHelp } from './commands/quantize.js';
import { tokenize, tokenizeHelp } from './commands/tokenize.js';
import { type CommandIO, ExitCode, UsageError, parseDecimal, processIO } from './io.js';

export const mainHelp = `Usage: bitnet <command> [options]

Commands:
  info        devices, capabilities, SIMD tier, backends and measured bandwidth
  bench       run the package benchmarks; JSON + an HTML report with charts
  demo        tokenizer → batches → embedding → BitLinear blocks, end to end, with timings and memory
  tokenize    encode text with a tokenizer: ids, tokens, offsets, round trip
  quantize    float weights in a safetensors file → packed ternary weights, with the error introduced

Run \`bitnet <command> --help\` for a command's options.
Exit codes: 0 success, 1 the command failed, 2 bad usage. Errors go to stderr.
`;

/** An option value for a message: as typed, quoted only when empty or padded with blanks. */
const shown = (raw: string) => (raw !== '' && raw.trim() === raw ? raw : JSON.stringify(raw));

type Command = {
  help: string;
  options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }>;
  run: (io: CommandIO, values: Record<string, unknown>, positionals: string[]) => Promise<number>;
};

const commands: Record<string, Command> = {
  info: {
    help: infoHelp,
    options: { json: { type: 'boolean' }, 'no-bandwidth': { type: 'boolean' } },
    run: (io, values, positionals) => {
      if (positionals.length) throw new UsageError(`info takes no arguments, got ${positionals.join(' ')}`);
      return info(io, { json: Boolean(values.json), bandwidth: !values['no-bandwidth'] });
    },
  },
  demo: {
    help: demoHelp,
    options: { text: { type: 'string' }, blocks: { type: 'string' }, dim: { type: 'string' }, json: { type: 'boolean' } },
    run: (io, values, positionals) => {
      if (positionals.length) throw new UsageError(`demo takes no arguments, got ${positionals.join(' ')}`);
      const integer = (name: string, fallback: number, max: number) => {
        const raw = values[name] as string | undefined;
        if (raw === undefined) return fallback;
        const value = parseDecimal(raw);
        if (value === null || value < 1 || value > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${shown(raw)}`);
        return value;
      };
      const dim = integer('dim', 512, 4096);
      const text = values.text as string | undefined;
      if (text === '') throw new UsageError('--text needs a file path, got an empty string');
      return demo(io, { text, blocks: integer('blocks', 6, 64), dim, json: Boolean(values.json) });
    },
  },
  tokenize: {
    help: tokenizeHelp,
    options: { tokenizer: { type: 'string' }, 'no-special': { type: 'boolean' }, json: { type: 'boolean' } },
    run: (io, values, positionals) =>
      tokenize(io, { tokenizer: values.tokenizer as string | undefined, special: !values['no-special'], json: Boolean(values.json), text: positionals }),
  },
  quantize: {
    help: quantizeHelp,
    options: { layout: { type: 'string' }, granularity: { type: 'string' }, 'group-size': { type: 'string' }, 'min-elements': { type: 'string' }, json: { type: 'boolean' } },
    run: (io, values, positionals) => {
      if (positionals.length !== 2) throw new UsageError(`expected <in.safetensors> <out.safetensors>, got ${positionals.length} argument(s)`);
      if (positionals.some((file) => file === '')) throw new UsageError('expected <in.safetensors> <out.safetensors>, got an empty path');
      const layout = (values.layout as string | undefined) ?? 'i2_r4';
      if (!['i2_r4', 'tq2_0', 'tq1_0'].includes(layout)) throw new UsageError(`--layout must be i2_r4, tq2_0 or tq1_0, got ${layout}`);
      const granularity = (values.granularity as string | undefined) ?? 'tensor';
      if (!['tensor', 'row', 'group'].includes(granularity)) throw new UsageError(`--granularity must be tensor, row or group, got ${granularity}`);
      const groupRaw = values['group-size'] as string | undefined;
      if (groupRaw !== undefined && granularity !== 'group') throw new UsageError('--group-size needs --granularity group');
      let groupSize: number | undefined;
      if (groupRaw !== undefined) {
        const value = parseDecimal(groupRaw);
        if (value === null || value < 256 || value % 256 !== 0) throw new UsageError(`--group-size must be a positive multiple of 256 (the kernels' block), got ${shown(groupRaw)}`);
        groupSize = value;
      }
      const minRaw = (values['min-elements'] as string | undefined) ?? '4096';
      const minElements = parseDecimal(minRaw);
      if (minElements === null || minElements < 1 || !Number.isSafeInteger(minElements)) {
        throw new UsageError(`--min-elements must be a positive decimal integer, got ${shown(minRaw)}`);
      }
      return quantize(io, {
        input: positionals[0]!,
        output: positionals[1]!,
        layout: layout as 'i2_r4' | 'tq2_0' | 'tq1_0',
        granularity: granularity as 'tensor' | 'row' | 'group',
        ...(groupSize !== undefined ? { groupSize } : {}),
        minElements,
        json: Boolean(values.json),
      });
    },
  },
  bench: {
    help: benchHelp,
    options: { out: { type: 'string' }, list: { type: 'boolean' }, json: { type: 'boolean' }, 'report-only': { type: 'boolean' } },
    run: (io, values, positionals) => {
      const out = values.out as string | undefined;
      // An empty path would write into the current folder (bench checks the rest before any suite runs).
      if (out === '') throw new UsageError('--out needs a folder path, got an empty string');
      return bench(io, {
        suites: positionals,
        out,
        list: Boolean(values.list),
        json: Boolean(values.json),
        reportOnly: Boolean(values['report-only']),
      });
    },
  },
};

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(mainHelp);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${packageJson.version}\n`);
    return ExitCode.ok;
  }
  const command = commands[name];
  if (!command) {
    io.err(`bitnet: unknown command "${name}"\n\n${mainHelp}`);
    return ExitCode.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`bitnet ${name}: ${(error as Error).message}\n\n${command.help}`);
    return ExitCode.usage;
  }
  if (parsed.values.help) {
    io.out(command.help);
    return ExitCode.ok;
  }
  try {
    return await command.run(io, parsed.values, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bitnet ${name}: ${error.message}\n\n${command.help}`);
      return ExitCode.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    const code = isBitNetError(error) ? ` (${(error as { code: string }).code})` : '';
    io.err(`bitnet ${name}: ${message}${code}\n`);
    return ExitCode.failure;
  }
}
