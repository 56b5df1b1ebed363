import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type BenchReport, renderHtmlReport } from '../report.js';
import { type CommandIO, UsageError, fileError } from '../io.js';

export const benchHelp = `Usage: bitnet bench [suite…] [--out <dir>] [--list] [--json]

Runs the workspace's package benchmarks (every "bench" and "bench:<name>" script),
then writes their JSON and one self-contained HTML report with charts: throughput
against the memory bandwidth measured in the same run, and speedups against each
peer library measured in the same run. Run it inside the bitnet repository.

Suites are named <package> or <package>:<name> (e.g. tensor, tensor:bitlinear).
Options:
  --out <dir>   where bench.json and bench.html go (default: bench-results/ at the root)
  --list        list the suites and exit
  --json        print the combined JSON instead of the summary
  --report-only rebuild the report from existing bench-results without running
`;

interface Suite {
  name: string;
  packageDir: string;
  script: string;
}

export function findWorkspaceRoot(start = process.cwd()): string | null {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function discoverSuites(root: string): Suite[] {
  const suites: Suite[] = [];
  const dirs = [path.join(root, 'native'), ...['packages'].flatMap((group) => {
    const base = path.join(root, group);
    return fs.existsSync(base) ? fs.readdirSync(base).map((name) => path.join(base, name)) : [];
  })];
  for (const dir of dirs) {
    const manifest = path.join(dir, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; scripts?: Record<string, string> };
    const short = pkg.name.replace(/^@bitnet\//, '');
    for (const script of Object.keys(pkg.scripts ?? {})) {
      if (script === 'bench') suites.push({ name: short, packageDir: dir, script });
      else if (script.startsWith('bench:')) suites.push({ name: `${short}:${script.slice(6)}`, packageDir: dir, script });
    }
  }
  return suites.sort((a, b) => a.name.localeCompare(b.name));
}

function readReports(dir: string, since: number): BenchReport[] {
  const resultsDir = path.join(dir, 'bench-results');
  if (!fs.existsSync(resultsDir)) return [];
  return fs
    .readdirSync(resultsDir)
    .filter((file) => file.endsWith('.json') && fs.statSync(path.join(resultsDir, file)).mtimeMs >= since)
    .map((file) => JSON.parse(fs.readFileSync(path.join(resultsDir, file), 'utf8')) as BenchReport)
    // Only suite reports: a suite may also write derived tables of its own beside them.
    .filter((report) => typeof report.suite === 'string' && report.machine !== undefined && Array.isArray(report.rows));
}

export async function bench(
  io: CommandIO,
  options: { suites: string[]; out?: string; list: boolean; json: boolean; reportOnly: boolean },
): Promise<number> {
  const root = findWorkspaceRoot();
  if (!root) throw new UsageError('run it inside the bitnet repository (no pnpm-workspace.yaml above the current directory)');
  const all = discoverSuites(root);
  if (options.list) {
    io.out(`${all.map((suite) => suite.name).join('\n')}\n`);
    return 0;
  }
  const unknown = options.suites.filter((name) => !all.some((suite) => suite.name === name));
  if (unknown.length) throw new UsageError(`unknown suite(s) ${unknown.join(', ')}; available: ${all.map((s) => s.name).join(', ')}`);
  const chosen = options.suites.length ? all.filter((suite) => options.suites.includes(suite.name)) : all;
  const started = options.reportOnly ? 0 : Date.now();
  let failures = 0;
  if (!options.reportOnly) {
    for (const suite of chosen) {
      io.err(`▶ ${suite.name}\n`);
      const result = spawnSync('npm', ['run', '--silent', suite.script], { cwd: suite.packageDir, stdio: ['ignore', 'inherit', 'inherit'] });
      if (result.status !== 0) {
        failures++;
        io.err(`✗ ${suite.name} exited with ${result.status ?? result.signal}\n`);
      }
    }
  }
  const reports = [...new Set(chosen.map((suite) => suite.packageDir))].flatMap((dir) => readReports(dir, started));
  const outDir = path.resolve(options.out ?? path.join(root, 'bench-results'));
  try {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'bench.json'), `${JSON.stringify(reports, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'bench.html'), renderHtmlReport(reports));
  } catch (error) {
    throw fileError('bench', 'write the report to', outDir, error);
  }
  if (options.json) io.out(`${JSON.stringify(reports, null, 2)}\n`);
  else io.out(`${reports.length} suite report(s) → ${path.join(outDir, 'bench.html')} and bench.json\n`);
  return failures ? 1 : 0;
}
