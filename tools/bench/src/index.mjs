// Benchmark runner shared by every package's bench/: times each case (median
// of many iterations after warm-up), puts peers next to ours, measures the
// memory-bandwidth probe in the same run, prints a table and writes JSON.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const now = () => Number(process.hrtime.bigint()) / 1e6;

export async function measure(fn, { minTimeMs = 300, minIterations = 5, maxIterations = 1e6, beforeEach } = {}) {
  // Warm-up: JIT, caches, lazy allocations.
  const warmStart = now();
  let warm = 0;
  while (warm < 2 || (now() - warmStart < minTimeMs / 5 && warm < maxIterations)) {
    await beforeEach?.();
    await fn();
    warm++;
  }
  const samples = [];
  const start = now();
  while (samples.length < minIterations || (now() - start < minTimeMs && samples.length < maxIterations)) {
    await beforeEach?.();
    const t0 = now();
    await fn();
    samples.push(now() - t0);
  }
  return samples;
}

function quantile(sorted, q) {
  const index = (sorted.length - 1) * q;
  const low = Math.floor(index);
  const high = Math.ceil(index);
  return sorted[low] + (sorted[high] - sorted[low]) * (index - low);
}

const unitNames = { bytes: 'GB/s', flops: 'GFLOPS', items: 'items/s', tokens: 'tokens/s', sequences: 'seq/s' };
const unitScale = { bytes: 1e9, flops: 1e9, items: 1, tokens: 1, sequences: 1 };

function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function formatMs(ms) {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

export function formatTable(report) {
  const header = ['group', 'name', 'median', 'p90', 'throughput', '% of BW', 'vs ours'];
  const lines = report.rows.map((row) => [
    row.group,
    row.peer ? `${row.name} (peer)` : row.name,
    row.error ? 'error' : formatMs(row.medianMs),
    row.error ? '' : formatMs(row.p90Ms),
    row.throughput === null ? '-' : `${formatNumber(row.throughput)} ${row.throughputUnit}`,
    row.fractionOfBandwidth === null ? '-' : `${(row.fractionOfBandwidth * 100).toFixed(0)}%`,
    row.speedupVsPeer === undefined || row.speedupVsPeer === null ? '' : `ours ${row.speedupVsPeer.toFixed(2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const render = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  const out = [`== ${report.suite} (${report.machine.cpu}, ${report.machine.threads} threads) ==`];
  for (const probe of report.bandwidth) {
    out.push(
      `memory bandwidth probe, ${probe.threads} thread(s): read ${(probe.readBytesPerSecond / 1e9).toFixed(1)} GB/s, triad ${(probe.triadBytesPerSecond / 1e9).toFixed(1)} GB/s` +
        (probe.readAtEndBytesPerSecond ? ` (the better of start and end: read ${(probe.readAtStartBytesPerSecond / 1e9).toFixed(1)} and ${(probe.readAtEndBytesPerSecond / 1e9).toFixed(1)} GB/s)` : ''),
    );
  }
  out.push(render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render));
  for (const row of report.rows) if (row.error) out.push(`error in ${row.group} / ${row.name}: ${row.error}`);
  for (const note of report.notes ?? []) out.push(`note: ${note}`);
  return out.join('\n');
}

export class BenchSuite {
  constructor(name, options = {}) {
    this.name = name;
    this.options = options;
    this.cases = [];
    this.notes = [];
  }

  add(benchCase) {
    this.cases.push(benchCase);
    return this;
  }

  note(text) {
    this.notes.push(text);
    return this;
  }

  async run() {
    const bandwidth = [];
    let native = null;
    if (this.options.bandwidth) {
      // Resolved from the package being benchmarked, so this runner needs no dependency on the addon.
      const requireFromCaller = createRequire(path.join(process.cwd(), 'package.json'));
      const { getNative } = requireFromCaller('@bitnet/native');
      native = getNative();
      const threadCounts = this.options.bandwidth.threads ?? [1, native.getThreadInfo().poolThreads];
      for (const threads of [...new Set(threadCounts)]) {
        const probe = native.measureBandwidth({ threads });
        bandwidth.push({ threads, readBytesPerSecond: probe.readBytesPerSecond, triadBytesPerSecond: probe.triadBytesPerSecond, readAtStartBytesPerSecond: probe.readBytesPerSecond, readAtEndBytesPerSecond: null });
      }
    }
    const rows = [];
    for (const benchCase of this.cases) {
      const row = { group: benchCase.group, name: benchCase.name, peer: Boolean(benchCase.peer), meta: benchCase.meta };
      try {
        await benchCase.setup?.();
        const samples = await measure(benchCase.run, benchCase);
        await benchCase.teardown?.();
        const sorted = [...samples].sort((a, b) => a - b);
        row.iterations = samples.length;
        row.medianMs = quantile(sorted, 0.5);
        row.minMs = sorted[0];
        row.p90Ms = quantile(sorted, 0.9);
        if (benchCase.work) {
          const perSecond = benchCase.work.amount / (row.medianMs / 1000);
          row.throughput = perSecond / unitScale[benchCase.work.unit];
          row.throughputUnit = unitNames[benchCase.work.unit];
          row.fractionOfBandwidth = null; // set below, once the end probe is in
        } else {
          row.throughput = null;
          row.throughputUnit = null;
          row.fractionOfBandwidth = null;
        }
      } catch (error) {
        row.error = error instanceof Error ? error.message : String(error);
        row.medianMs = row.minMs = row.p90Ms = NaN;
        row.iterations = 0;
        row.throughput = null;
        row.throughputUnit = null;
        row.fractionOfBandwidth = null;
      }
      rows.push(row);
      process.stderr.write(`  ${row.group} / ${row.name}: ${row.error ? 'error' : formatMs(row.medianMs)}\n`);
    }
    // Probed again at the end: a probe that lands on a busy moment (this shared machine halves its
    // bandwidth at times) would make every row's "% of BW" too high; each figure is the better of the two.
    if (native) {
      for (const entry of bandwidth) {
        const probe = native.measureBandwidth({ threads: entry.threads });
        entry.readAtEndBytesPerSecond = probe.readBytesPerSecond;
        entry.readBytesPerSecond = Math.max(entry.readBytesPerSecond, probe.readBytesPerSecond);
        entry.triadBytesPerSecond = Math.max(entry.triadBytesPerSecond, probe.triadBytesPerSecond);
      }
    }
    const bestRead = bandwidth.length ? Math.max(...bandwidth.map((b) => b.readBytesPerSecond)) : null;
    this.cases.forEach((benchCase, i) => {
      const row = rows[i];
      if (bestRead && benchCase.work?.unit === 'bytes' && !row.error) row.fractionOfBandwidth = benchCase.work.amount / (row.medianMs / 1000) / bestRead;
    });
    for (const row of rows) {
      if (!row.peer) continue;
      const ours = rows.find((r) => r.group === row.group && !r.peer && !r.error);
      row.speedupVsPeer = ours && !row.error ? row.medianMs / ours.medianMs : null;
    }
    const report = {
      suite: this.name,
      // The package script that ran this suite (npm and pnpm set both): `bitnet bench` matches results to
      // its suites by it, whatever the suite is named (tensor's bench:bitlinear writes "bitlinear").
      source: process.env.npm_package_name && process.env.npm_lifecycle_event ? { package: process.env.npm_package_name, script: process.env.npm_lifecycle_event } : null,
      date: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        threads: os.availableParallelism(),
        memoryBytes: os.totalmem(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        isa: native?.getIsa().selected ?? null,
        loadAverage: os.loadavg(),
      },
      bandwidth,
      rows,
      notes: this.notes,
    };
    const outputFile = this.options.outputFile ?? path.join(process.cwd(), 'bench-results', `${this.name}.json`);
    fs.mkdirSync(path.dirname(outputFile), { recursive: true });
    fs.writeFileSync(outputFile, `${JSON.stringify(report, null, 2)}\n`);
    console.log(formatTable(report));
    console.log(`JSON: ${path.relative(process.cwd(), outputFile)}`);
    return report;
  }
}
