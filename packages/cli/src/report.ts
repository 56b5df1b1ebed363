/** The JSON a @bitnet/bench suite writes (tools/bench). */
export interface BenchRow {
  group: string;
  name: string;
  peer: boolean;
  iterations: number;
  medianMs: number;
  p90Ms: number;
  throughput: number | null;
  throughputUnit: string | null;
  fractionOfBandwidth: number | null;
  speedupVsPeer?: number | null;
  error?: string;
}

export interface BenchReport {
  suite: string;
  /** The package script that wrote it (tools/bench records it; older reports lack it). */
  source?: { package: string; script: string } | null;
  date: string;
  machine: { cpu: string; threads: number; isa?: string | null; node?: string; loadAverage?: number[] };
  bandwidth: Array<{ threads: number; readBytesPerSecond: number; triadBytesPerSecond: number }>;
  rows: BenchRow[];
  notes?: string[];
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

function formatValue(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(2);
}

/**
 * Horizontal bar charts of a group's throughput, ours and each peer: one chart per unit, since bars in
 * seq/s and tokens/s on one axis would compare numbers that do not compare. A GB/s chart also gets a
 * dashed line at the memory bandwidth measured in the same run.
 */
function groupCharts(rows: BenchRow[], bandwidthGBs: number | null): string {
  const measured = rows.filter((row) => row.throughput !== null && !row.error);
  const units = [...new Set(measured.map((row) => row.throughputUnit ?? ''))];
  return units.map((unit) => unitChart(measured.filter((row) => (row.throughputUnit ?? '') === unit), unit, bandwidthGBs)).join('\n');
}

/** One chart of rows that share `unit`, each bar labelled with its value in that unit. */
function unitChart(measured: BenchRow[], unit: string, bandwidthGBs: number | null): string {
  const limit = unit === 'GB/s' ? bandwidthGBs : null;
  const max = Math.max(...measured.map((row) => row.throughput!), limit ?? 0) * 1.1;
  const barHeight = 22;
  const labelWidth = 300;
  const chartWidth = 460;
  const height = measured.length * (barHeight + 8) + 30;
  const bars = measured
    .map((row, index) => {
      const y = 10 + index * (barHeight + 8);
      const width = Math.max(1, (row.throughput! / max) * chartWidth);
      const color = row.peer ? '#9aa5b1' : '#2f6fde';
      const label = `${row.name}${row.peer ? ' (peer)' : ''}`;
      return `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" class="label">${escapeHtml(label)}</text>
<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${color}" rx="3"/>
<text x="${labelWidth + width + 6}" y="${y + 15}" class="value">${formatValue(row.throughput!)} ${escapeHtml(row.throughputUnit ?? '')}</text>`;
    })
    .join('\n');
  const limitLine =
    limit !== null
      ? `<line x1="${labelWidth + (limit / max) * chartWidth}" x2="${labelWidth + (limit / max) * chartWidth}" y1="4" y2="${height - 20}" class="limit"/>
<text x="${labelWidth + (limit / max) * chartWidth}" y="${height - 6}" text-anchor="middle" class="limit-label">memory bandwidth ${limit.toFixed(1)} GB/s</text>`
      : '';
  return `<svg width="${labelWidth + chartWidth + 160}" height="${height}" role="img" aria-label="throughput in ${escapeHtml(unit)}">${bars}${limitLine}</svg>`;
}

/** A self-contained HTML page (inline CSS and SVG, no scripts, no network) for a set of suites. */
export function renderHtmlReport(reports: BenchReport[], title = 'bitnet benchmarks'): string {
  const sections = reports
    .map((report) => {
      const bandwidthGBs = report.bandwidth.length ? Math.max(...report.bandwidth.map((b) => b.readBytesPerSecond)) / 1e9 : null;
      const groups = [...new Set(report.rows.map((row) => row.group))];
      const probe = report.bandwidth
        .map((b) => `${b.threads} thread(s): read ${(b.readBytesPerSecond / 1e9).toFixed(1)} GB/s, triad ${(b.triadBytesPerSecond / 1e9).toFixed(1)} GB/s`)
        .join('; ');
      const groupHtml = groups
        .map((group) => {
          const rows = report.rows.filter((row) => row.group === group);
          const table = rows
            .map(
              (row) => `<tr class="${row.peer ? 'peer' : 'ours'}"><td>${escapeHtml(row.name)}${row.peer ? ' <small>(peer)</small>' : ''}</td>
<td>${row.error ? `<span class="error">${escapeHtml(row.error)}</span>` : formatMs(row.medianMs)}</td>
<td>${row.throughput === null ? '—' : `${formatValue(row.throughput)} ${escapeHtml(row.throughputUnit ?? '')}`}</td>
<td>${row.fractionOfBandwidth === null ? '—' : `${(row.fractionOfBandwidth * 100).toFixed(0)}%`}</td>
<td>${row.speedupVsPeer ? `<b class="${row.speedupVsPeer >= 1 ? 'win' : 'loss'}">${row.speedupVsPeer.toFixed(2)}×</b>` : ''}</td></tr>`,
            )
            .join('\n');
          return `<div class="group"><h3>${escapeHtml(group)}</h3>${groupCharts(rows, bandwidthGBs)}
<table><thead><tr><th>implementation</th><th>median</th><th>throughput</th><th>of bandwidth</th><th>ours vs this peer</th></tr></thead><tbody>${table}</tbody></table></div>`;
        })
        .join('\n');
      const notes = (report.notes ?? []).map((note) => `<li>${escapeHtml(note)}</li>`).join('');
      return `<section><h2>${escapeHtml(report.suite)}</h2>
<p class="meta">${escapeHtml(report.machine.cpu)}, ${report.machine.threads} threads${report.machine.isa ? `, kernels ${escapeHtml(report.machine.isa)}` : ''} — ${escapeHtml(report.date)}${probe ? `<br>memory bandwidth probe (same run): ${escapeHtml(probe)}` : ''}</p>
${groupHtml}${notes ? `<ul class="notes">${notes}</ul>` : ''}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1040px; color: #1f2933; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #d9e2ec; padding-bottom: .3rem; margin-top: 2.5rem; }
h3 { font-size: 1rem; margin: 1.5rem 0 .4rem; }
.meta { color: #52606d; } table { border-collapse: collapse; margin-top: .3rem; }
td, th { padding: .25rem .7rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
tr.ours td:first-child { font-weight: 600; } .win { color: #1a7f37; } .loss { color: #cf222e; } .error { color: #cf222e; }
svg .label { font-size: 12px; fill: #323f4b; } svg .value { font-size: 12px; fill: #52606d; }
svg .limit { stroke: #cf222e; stroke-dasharray: 4 3; stroke-width: 1.5; } svg .limit-label { font-size: 11px; fill: #cf222e; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px -2px 12px; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="legend"><span style="background:#2f6fde"></span>bitnet <span style="background:#9aa5b1"></span>peers measured in the same run
<span style="background:#cf222e;height:2px"></span>memory bandwidth measured in the same run. "ours vs this peer" &gt; 1× means bitnet is faster.</p>
${sections}
</body></html>
`;
}
