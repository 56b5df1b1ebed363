import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNative } from '@bitnet/native';
import { describe, expect, it } from 'vitest';
import { type CommandIO, main } from './index.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

function capture(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

async function jsonInfo(): Promise<string> {
  const io = capture();
  await main(['info', '--json', '--no-bandwidth'], io);
  return io.stdout;
}

describe('bitnet CLI', () => {
  it('prints help and uses exit code 2 for bad usage', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.stdout).toContain('Usage: bitnet <command>');
    const bad = capture();
    expect(await main(['frobnicate'], bad)).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    const badOption = capture();
    expect(await main(['info', '--bogus'], badOption)).toBe(2);
    expect(badOption.stderr).toContain("Unknown option '--bogus'");
    expect(await main([], capture())).toBe(2);
    const version = capture();
    expect(await main(['--version'], version)).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('info --json reports the devices, the native ISA and why other backends are unavailable', async () => {
    const io = capture();
    expect(await main(['info', '--json', '--no-bandwidth'], io)).toBe(0);
    const report = JSON.parse(io.stdout);
    expect(report.selected.id).toBe('cpu');
    expect(report.devices[0].capabilities.simd.tier).toBe(getNative().getIsa().selected);
    const metal = report.backends.find((b: { kind: string }) => b.kind === 'metal');
    expect(metal.available).toBe(process.platform === 'darwin' && metal.available);
    if (process.platform !== 'darwin') expect(metal.reason).toContain('Metal needs macOS');
  });

  it('info names no backend package that does not exist yet as something to install', async () => {
    const io = capture();
    expect(await main(['info', '--json', '--no-bandwidth'], io)).toBe(0);
    const report = JSON.parse(io.stdout) as { backends: Array<{ kind: string; available: boolean; reason?: string }> };
    for (const backend of report.backends) expect(backend.reason ?? '', backend.kind).not.toMatch(/install @bitnet\/(mlx|metal)/);
    const mlx = report.backends.find((b) => b.kind === 'mlx')!;
    if (!mlx.available && (process.platform === 'linux' || process.platform === 'darwin')) expect(mlx.reason).toContain('not available in this release');
  });

  it('info shows a bar on a terminal while it measures the bandwidth, one per thread count', async () => {
    const io = { stdout: '', stderr: '', isTTY: true, progressAfterMs: 0, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
    expect(await main(['info'], io)).toBe(0);
    const threads = (JSON.parse(await jsonInfo()) as { devices: Array<{ capabilities: { computeUnits: number } }> }).devices[0]!.capabilities.computeUnits;
    for (const count of new Set([1, threads])) expect(io.stderr).toContain(`\rmeasuring cpu memory bandwidth on ${count} thread(s) [`);
    expect(io.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(io.stdout).not.toMatch(/\r|\x1b/);
  });

  it('info prints measured bandwidth as text', async () => {
    const io = capture();
    expect(await main(['info'], io)).toBe(0);
    expect(io.stdout).toMatch(/bandwidth {4}1 thread\(s\): read \d+\.\d GB\/s, triad \d+\.\d GB\/s/);
    expect(io.stdout).toContain(`SIMD tier    ${getNative().getIsa().selected}`);
  });

  it('info shows why no device works (a bad BITNET_NUM_THREADS) and exits 1 without a stack trace', () => {
    const env = { ...process.env, BITNET_NUM_THREADS: 'abc', BITNET_DEVICE: '' };
    const reason = '[threadPool] BITNET_NUM_THREADS must be an integer from 1 to 1024, got "abc"';
    const text = spawnSync(process.execPath, [bin, 'info', '--no-bandwidth'], { encoding: 'utf8', env });
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('selected       none (see the backends below)');
    expect(text.stdout).toContain(`✗ cpu    ${reason}`);
    expect(text.stderr).toContain(`bitnet info: no usable device: [autoSelectDevice] no device is available (`);
    expect(text.stderr).toContain(`cpu: ${reason}) (ERR_BITNET_UNAVAILABLE)`);
    expect(text.stderr).not.toMatch(/\n {4}at /);
    const json = spawnSync(process.execPath, [bin, 'info', '--json', '--no-bandwidth'], { encoding: 'utf8', env });
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.selected).toBeNull();
    expect(report.error.code).toBe('ERR_BITNET_UNAVAILABLE');
    expect(report.backends.find((b: { kind: string }) => b.kind === 'cpu')).toEqual({ kind: 'cpu', available: false, reason });
    expect(report.devices).toEqual([]);
  });

  it('runs as an executable with errors on stderr', () => {
    const out = execFileSync(process.execPath, [bin, 'info', '--no-bandwidth'], { encoding: 'utf8' });
    expect(out).toContain('selected       cpu');
    const failed = spawnSync(process.execPath, [bin, 'info', 'extra'], { encoding: 'utf8' });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain('info takes no arguments, got extra');
    expect(failed.stdout).toBe('');
  });
});
