// The CLI as a process: pipes closed early, signals, permissions, bench's stdout and --out, the root script.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitNetDType, BitNetTensor, writeSafetensors } from '@bitnet/tensor';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '..', 'dist', 'bin.js');
const repositoryRoot = path.resolve(here, '..', '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-cli-process-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const stackTrace = /\n {4}at |node:events|Unhandled 'error' event/;

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => void (stdout += chunk));
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Runs the CLI and closes the reading end of its stdout after the first chunk, as `| head -1` does. */
function readFirstChunkOnly(args: string[], input?: string): Promise<Finished> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk));
  child.stdout!.once('data', () => child.stdout!.destroy());
  if (input !== undefined) {
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr })));
}

describe('a reader that closes stdout early (| head -1)', () => {
  const longText = 'hello world '.repeat(20_000);

  it('tokenize - stops quietly with exit code 0, no EPIPE stack trace', async () => {
    for (const args of [['tokenize', '-'], ['tokenize', '--json', '-']]) {
      const run = await readFirstChunkOnly(args, longText);
      expect(run.stderr, args.join(' ')).not.toMatch(/EPIPE|Error/);
      expect(run.stderr).not.toMatch(stackTrace);
      expect(run.code, args.join(' ')).toBe(0);
    }
  });

  it('demo stops quietly after its first line is read', async () => {
    const run = await readFirstChunkOnly(['demo', '--dim', '8', '--blocks', '1']);
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
    expect(run.stderr).not.toMatch(stackTrace);
    expect(run.code).toBe(0);
  });
});

describe('bitnet quantize stopped by a signal', () => {
  it('SIGINT during the write removes the temporary file, says so on one line and exits 130', async () => {
    // A 256 MiB tensor is copied, so writing the output takes long enough to be interrupted.
    const input = path.join(dir, 'large.safetensors');
    {
      using large = BitNetTensor.zeros([64 << 20]);
      using weights = BitNetTensor.random([64, 256], { seed: 1 });
      await writeSafetensors(input, new Map([['w', weights], ['z.large', large]]));
    }
    const folder = fs.mkdtempSync(path.join(dir, 'signal-'));
    const output = path.join(folder, 'out.safetensors');
    const child = spawn(process.execPath, [bin, 'quantize', input, output], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = finished(child);
    // Interrupt as soon as the hidden temporary file of the write appears.
    const polling = setInterval(() => {
      if (fs.readdirSync(folder).some((name) => name.endsWith('.tmp'))) {
        clearInterval(polling);
        child.kill('SIGINT');
      }
    }, 1);
    const run = await done;
    clearInterval(polling);
    fs.rmSync(input);
    expect(run.stderr).toBe(`bitnet quantize: stopped by SIGINT; ${output} was not written and no temporary file is left\n`);
    expect(run.code).toBe(130);
    expect(run.stdout).toBe('');
    expect(fs.readdirSync(folder)).toEqual([]);
  }, 60_000);
});

describe('files the process may not read or write', () => {
  // As root every file is readable, so the commands run as nobody there.
  const asRoot = process.getuid?.() === 0;
  const runAs = (args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });

  it.skipIf(process.platform === 'win32')('an unreadable input is ERR_BITNET_PERMISSION_DENIED, not a file-format error', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'permission-'));
    // Only the two files are out of reach: nobody may enter the folders on the way.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(folder, 0o777);
    const input = path.join(folder, 'in.safetensors');
    {
      using weights = BitNetTensor.fromArray(new Float32Array(64 * 256).fill(0.5), [64, 256], BitNetDType.F32);
      await writeSafetensors(input, new Map([['w', weights]]));
    }
    const text = path.join(folder, 'text.txt');
    fs.writeFileSync(text, 'some text');
    for (const file of [input, text]) fs.chmodSync(file, asRoot ? 0o600 : 0o000);
    const quantize = runAs(['quantize', input, path.join(folder, 'out.safetensors')]);
    expect(quantize.stderr).toMatch(/permission denied \(ERR_BITNET_PERMISSION_DENIED\)\n$/);
    expect(quantize.stderr).toContain(input);
    expect(quantize.status).toBe(1);
    const tokenize = runAs(['tokenize', '--tokenizer', text, 'hi']);
    expect(tokenize.stderr).toBe(`bitnet tokenize: [tokenize] cannot read the tokenizer ${text}: permission denied (ERR_BITNET_PERMISSION_DENIED)\n`);
    expect(tokenize.status).toBe(1);
    const demo = runAs(['demo', '--text', text]);
    expect(demo.stderr).toBe(`bitnet demo: [demo] cannot read the text file ${text}: permission denied (ERR_BITNET_PERMISSION_DENIED)\n`);
    expect(demo.stdout).toBe('');
    expect(fs.readdirSync(folder).sort()).toEqual(['in.safetensors', 'text.txt']);
  });
});

describe('bitnet bench in a workspace', () => {
  // A workspace of one package whose suite prints its table to stdout, as tools/bench does, beside a stale
  // result of a suite that no longer exists.
  const root = fs.mkdtempSync(path.join(dir, 'workspace-'));
  const report = (suite: string) => ({
    suite,
    date: new Date().toISOString(),
    machine: { cpu: 'test', threads: 1 },
    bandwidth: [],
    rows: [{ group: 'g', name: 'bitnet', peer: false, iterations: 1, medianMs: 1, p90Ms: 1, throughput: 1, throughputUnit: 'GB/s', fractionOfBandwidth: null }],
  });
  const packageDir = path.join(root, 'packages', 'probe');
  fs.mkdirSync(path.join(packageDir, 'bench-results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  // Its bench:kernels script runs another package's bench, whose results carry that one's suite name ("kernels"),
  // as @bitnet/tensor's bench:bitlinear writes the native kernel matrix as "bitlinear". Like tools/bench, the
  // scripts record the package script that ran them (npm and pnpm set npm_package_name and npm_lifecycle_event).
  fs.writeFileSync(
    path.join(packageDir, 'package.json'),
    JSON.stringify({ name: '@bitnet/probe', private: true, scripts: { bench: 'node bench.mjs', 'bench:kernels': 'node kernels.mjs' } }),
  );
  const writer = (suite: string) =>
    `import fs from 'node:fs';\nconst report = ${JSON.stringify(report(suite))};\n` +
    `report.source = { package: process.env.npm_package_name, script: process.env.npm_lifecycle_event };\n` +
    `fs.writeFileSync('bench-results/${suite}.json', JSON.stringify(report));\n`;
  fs.writeFileSync(path.join(packageDir, 'bench.mjs'), `${writer('probe')}console.log('== probe table ==');\n`);
  // This one through the real runner (tools/bench), which must record the script itself.
  const runner = path.join(repositoryRoot, 'tools', 'bench', 'src', 'index.mjs');
  fs.writeFileSync(
    path.join(packageDir, 'kernels.mjs'),
    `import { BenchSuite } from ${JSON.stringify(runner)};\nawait new BenchSuite('kernels').add({ group: 'g', name: 'bitnet', run: () => {}, minTimeMs: 1 }).run();\n`,
  );
  // Stale: one from a script the package no longer has, one from before reports named their script.
  fs.writeFileSync(path.join(packageDir, 'bench-results', 'retired.json'), JSON.stringify({ ...report('retired'), source: { package: '@bitnet/probe', script: 'bench:retired' } }));
  fs.writeFileSync(path.join(packageDir, 'bench-results', 'legacy.json'), JSON.stringify(report('legacy')));
  const bench = (args: string[]) => spawnSync(process.execPath, [bin, 'bench', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

  it('--json prints exactly one JSON document on stdout; the suites’ tables go to stderr', () => {
    const out = path.join(root, 'results');
    const run = bench(['--json', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    const reports = JSON.parse(run.stdout) as Array<{ suite: string }>;
    expect(reports.map((r) => r.suite).sort()).toEqual(['kernels', 'probe']);
    expect(run.stderr).toContain('== probe table ==');
    expect(run.stdout).not.toContain('== probe table ==');
  });

  it('--report-only leaves out results of suites the workspace no longer has', () => {
    const out = path.join(root, 'report-only');
    const run = bench(['--report-only', '--json', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as Array<{ suite: string }>).map((r) => r.suite).sort()).toEqual(['kernels', 'probe']);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8')).map((r: { suite: string }) => r.suite).sort()).toEqual(['kernels', 'probe']);
    expect(run.stderr).toContain(`left out ${path.join(packageDir, 'bench-results', 'retired.json')}: its script (@bitnet/probe "bench:retired") is gone (a stale result)`);
    expect(run.stderr).toContain(`left out ${path.join(packageDir, 'bench-results', 'legacy.json')}: no suite of this workspace is named "legacy" (a stale result)`);
    // The report records the script that wrote it.
    expect(JSON.parse(fs.readFileSync(path.join(packageDir, 'bench-results', 'kernels.json'), 'utf8')).source).toEqual({ package: '@bitnet/probe', script: 'bench:kernels' });
  });

  it('checks --out before running any suite: a file on its path, or a folder that cannot be made (/proc), fails at once', () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    const nested = bench(['--out', path.join(file, 'sub')]);
    expect(nested.status).toBe(2);
    expect(nested.stderr).toContain(`bitnet bench: --out ${path.join(file, 'sub')} cannot be a folder: ${file} is a file`);
    expect(nested.stderr).not.toContain('▶ probe');
    if (process.platform === 'linux') {
      // Node's recursive mkdir loops forever there; the check must end, with a typed error, before any suite.
      const proc = bench(['--out', '/proc/bitnet-bench-out']);
      expect(proc.error).toBeUndefined();
      expect(proc.status).toBe(1);
      expect(proc.stderr).toBe('bitnet bench: [bench] cannot create the --out folder /proc/bitnet-bench-out: no such file or folder (ERR_BITNET_FILE_NOT_FOUND)\n');
    }
  });
});

describe('running bitnet inside the repository', () => {
  it('has a root script, so `pnpm bitnet <command>` runs the built CLI', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.bitnet).toBe('node packages/cli/dist/bin.js');
    const pnpm = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
    if (pnpm.status !== 0) return; // pnpm is not on this machine's PATH
    const run = spawnSync('pnpm', ['--silent', 'bitnet', '--version'], { cwd: repositoryRoot, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('the tensor example of streamed conversion', () => {
  it('reads its progress callback as the fraction converted (what streamingConvert passes)', () => {
    const example = path.join(repositoryRoot, 'packages', 'tensor', 'examples', 'memory-efficient-conversion.mjs');
    const out = spawnSync(process.execPath, [example], { cwd: path.dirname(path.dirname(example)), encoding: 'utf8', env: { ...process.env, BITNET_LOG: 'silent' } });
    expect(out.status, out.stderr).toBe(0);
    // 1024 × 1024 F32 in chunks of 256 KiB (65,536 elements).
    expect(out.stdout).toContain('streamed 1048576 elements in 16 chunks of 256 KiB');
  });
});
