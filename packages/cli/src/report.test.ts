import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverSuites, findWorkspaceRoot } from './commands/bench.js';
import { type CommandIO, main, renderHtmlReport } from './index.js';
import type { BenchReport } from './report.js';

const report: BenchReport = {
  suite: 'tensor',
  date: '2026-11-26T00:00:00.000Z',
  machine: { cpu: 'Test CPU', threads: 2, isa: 'avx512' },
  bandwidth: [{ threads: 2, readBytesPerSecond: 30e9, triadBytesPerSecond: 25e9 }],
  rows: [
    { group: 'add <script>', name: 'bitnet', peer: false, iterations: 10, medianMs: 2, p90Ms: 2.2, throughput: 24, throughputUnit: 'GB/s', fractionOfBandwidth: 0.8 },
    { group: 'add <script>', name: 'mlx-cpu', peer: true, iterations: 10, medianMs: 4, p90Ms: 4.4, throughput: 12, throughputUnit: 'GB/s', fractionOfBandwidth: 0.4, speedupVsPeer: 2 },
    { group: 'matmul', name: 'bitnet', peer: false, iterations: 0, medianMs: Number.NaN, p90Ms: Number.NaN, throughput: null, throughputUnit: null, fractionOfBandwidth: null, error: 'boom' },
  ],
  notes: ['a note'],
};

describe('HTML report', () => {
  it('draws bars for ours and peers, the bandwidth limit, speedups, and escapes text', () => {
    const html = renderHtmlReport([report]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain('add &lt;script&gt;');
    expect((html.match(/<rect /g) ?? []).length).toBe(2);
    // Bar widths are proportional to throughput: 24 vs 12 GB/s.
    const widths = [...html.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0]! / widths[1]!).toBeCloseTo(2, 2);
    expect(html).toContain('memory bandwidth 30.0 GB/s');
    expect(html).toContain('2.00×');
    expect(html).toContain('boom');
    expect(html).toContain('a note');
  });
});

describe('HTML report units', () => {
  it('never puts rows of different units on one axis, and labels each bar with its own unit', () => {
    const row = (name: string, throughput: number, throughputUnit: string) => ({ group: 'batching', name, peer: name !== 'bitnet', iterations: 5, medianMs: 1, p90Ms: 1, throughput, throughputUnit, fractionOfBandwidth: null });
    const html = renderHtmlReport([{ ...report, rows: [row('bitnet', 5000, 'seq/s'), row('naive', 2e6, 'tokens/s'), row('hf', 2500, 'seq/s')] }]);
    const charts = [...html.matchAll(/<svg [^>]*aria-label="throughput in ([^"]+)">([\s\S]*?)<\/svg>/g)].map((m) => ({ unit: m[1], body: m[2]! }));
    expect(charts.map((c) => c.unit)).toEqual(['seq/s', 'tokens/s']);
    expect(charts[0]!.body).toContain('5.0k seq/s');
    expect(charts[0]!.body).toContain('2.5k seq/s');
    expect(charts[0]!.body).not.toContain('tokens/s');
    expect(charts[1]!.body).toContain('2.00M tokens/s');
    expect(charts[1]!.body).not.toContain('seq/s');
    // Within the seq/s chart the bars stay proportional (5000 : 2500); the tokens/s bar has its own axis.
    const widths = charts.map((c) => [...c.body.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1])));
    expect(widths[0]![0]! / widths[0]![1]!).toBeCloseTo(2, 2);
    expect(widths[1]).toHaveLength(1);
  });
});

describe('bitnet bench', () => {
  function capture(): CommandIO & { stdout: string; stderr: string } {
    const io = { stdout: '', stderr: '', isTTY: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
    return io;
  }

  it('finds the workspace suites', () => {
    const root = findWorkspaceRoot()!;
    expect(fs.existsSync(path.join(root, 'pnpm-workspace.yaml'))).toBe(true);
    expect(discoverSuites(root).map((s) => s.name)).toContain('native');
  });

  it('rejects unknown suites with exit code 2 and rebuilds the report from existing results', async () => {
    const io = capture();
    expect(await main(['bench', 'nope'], io)).toBe(2);
    expect(io.stderr).toContain('unknown suite(s) nope');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bench-'));
    const ok = capture();
    expect(await main(['bench', '--report-only', '--out', out], ok)).toBe(0);
    expect(fs.existsSync(path.join(out, 'bench.html'))).toBe(true);
    expect(Array.isArray(JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8')))).toBe(true);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
