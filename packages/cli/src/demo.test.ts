import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSpeed } from './commands/demo.js';
import { type CommandIO, main } from './index.js';

function capture(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('bitnet demo', () => {
  it('runs tokenizer → batch → embedding → BitLinear blocks end to end and leaves no memory behind', async () => {
    // A small text with a known paragraph structure, and a small model to keep the test short.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-demo-'));
    const file = path.join(dir, 'text.md');
    const paragraphs = ['The quick brown fox jumps over the lazy dog.', 'Ternary weights: −1, 0 and +1 — naïve café, 東京.', 'A third paragraph.'];
    fs.writeFileSync(file, paragraphs.join('\n\n'));
    const io = capture();
    const code = await main(['demo', '--text', file, '--dim', '256', '--blocks', '1', '--json'], io);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(code, io.stderr).toBe(0);
    const report = JSON.parse(io.stdout);
    expect(report.device.id).toBe('cpu');
    expect(report.roundTrip).toBe(true);
    expect(report.batch[0]).toBe(3);
    expect(report.realTokens).toBe(report.tokens); // nothing truncated at max length 128
    expect(report.hidden).toBe(1024);
    // 1 block × 2 layers × 256 × 1024 weights; i2_r4 packs 4 weights per byte (rows of whole
    // 256-weight blocks, so these widths need no padding) plus one f32 scale per row.
    expect(report.f32Bytes).toBe(2 * 256 * 1024 * 4);
    expect(report.packedBytes).toBeGreaterThanOrEqual((2 * 256 * 1024) / 4);
    expect(report.f32Bytes / report.packedBytes).toBeGreaterThan(12);
    expect(report.f32Bytes / report.packedBytes).toBeLessThanOrEqual(16);
    // int8 activations against the F32 path with the same ternary weights: a few percent at most.
    expect(report.relativeError).toBeGreaterThan(0);
    expect(report.relativeError).toBeLessThan(0.05);
    expect(report.memory).toEqual({ peak: expect.any(Number), live: 0, leaked: 0 });
  }, 120_000);

  it('on a terminal shows a bar for every step that can run long; elsewhere writes no \\r or escape codes', async () => {
    // Bars at once (progressAfterMs 0), so a small model shows every step's bar.
    const terminal = { stdout: '', stderr: '', isTTY: true, progressAfterMs: 0, out: (t: string) => void (terminal.stdout += t), err: (t: string) => void (terminal.stderr += t) };
    expect(await main(['demo', '--dim', '64', '--blocks', '3'], terminal), terminal.stderr).toBe(0);
    // Loops report each iteration: the model build, the warm-up and both forward passes per block, the table per slice.
    for (const label of ['building the model', 'warming up', 'forward pass, ternary', 'forward pass, F32']) {
      expect(terminal.stderr, label).toContain(`\r${label} [${'█'.repeat(8)}${' '.repeat(16)}] 33% `);
    }
    for (const label of ['embedding table', 'building the model', 'warming up', 'forward pass, ternary', 'forward pass, F32']) {
      expect(terminal.stderr, label).toContain(`\r${label} [${'█'.repeat(24)}] 100% `);
    }
    // Steps that await one call off the main thread get a bar that its timer moves.
    for (const label of ['measuring memory bandwidth', 'tokenizing', 'logits']) expect(terminal.stderr, label).toContain(`\r${label} [`);
    // Every bar is erased at the end of its step; the report on stdout has none of it.
    expect(terminal.stdout).not.toMatch(/\r|\x1b/);
    expect(terminal.stderr.endsWith('\r\x1b[K')).toBe(true);

    const redirected = { stdout: '', stderr: '', isTTY: false, progressAfterMs: 0, out: (t: string) => void (redirected.stdout += t), err: (t: string) => void (redirected.stderr += t) };
    expect(await main(['demo', '--dim', '64', '--blocks', '1'], redirected), redirected.stderr).toBe(0);
    expect(redirected.stderr).toBe('');
    expect(redirected.stdout).not.toMatch(/\r|\x1b/);
  }, 120_000);

  it('says "slower" when the ternary pass took longer than F32, and names no package that does not exist', async () => {
    expect(compareSpeed(100, 158)).toBe('1.58× faster');
    expect(compareSpeed(100, 92)).toBe('1.09× slower');
    const io = capture();
    expect(await main(['demo', '--dim', '64', '--blocks', '1'], io), io.stderr).toBe(0);
    expect(io.stdout).toMatch(/ternary path \d+\.\d\d× (faster|slower)\n/);
    expect(io.stdout).not.toMatch(/0\.\d\d× faster/);
    expect(io.stdout).not.toMatch(/install @bitnet\/(mlx|metal)/);
    expect(io.stderr).toBe('');
  }, 120_000);

  it('rejects bad options with exit code 2', async () => {
    const io = capture();
    expect(await main(['demo', '--dim', 'wide'], io)).toBe(2);
    expect(io.stderr).toContain('--dim must be an integer from 1 to 4096, got wide');
  });
});
