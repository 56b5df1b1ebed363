import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type BenchReport, renderHtmlReport } from '../report.js';
import { type CommandIO, UsageError, fileError, statOrNull } from '../io.js';

export const benchHelp = `Usage: bitnet bench [suite…] [--out <dir>] [--list] [--json]

Runs the workspace's package benchmarks (every "bench" and "bench:<name>" script),
then writes their JSON and one self-contained HTML report with charts: throughput
against the memory bandwidth measured in the same run, and speedups against each
peer library measured in the same run. Run it inside the bitnet repository.

Suites are named <package> or <package>:<name> (e.g. tensor, tensor:bitlinear).
Options:
  --out <dir>   where bench.json and bench.html go (default: bench-results/ at the root)
  --list        list the suites and exit
  --json        print the combined JSON instead of the summary (only it goes to stdout;
                the suites' own tables go to stderr)
  --report-only rebuild the report from existing bench-results without running
                (only results of the suites that exist now)
`;

interface Suite {
  name: string;
  /** The package's name in its package.json. */
  packageName: string;
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
      if (script === 'bench') suites.push({ name: short, packageName: pkg.name, packageDir: dir, script });
      else if (script.startsWith('bench:')) suites.push({ name: `${short}:${script.slice(6)}`, packageName: pkg.name, packageDir: dir, script });
    }
  }
  return suites.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The suite whose script wrote `report` in `dir`: the package script tools/bench records in it, whatever the
 * suite is named; for reports without one, the suite of that folder named as the report (tools/bench names
 * `<package>:<name>`'s results `<package>-<name>`).
 */
function producerOf(report: BenchReport, dir: string, all: Suite[]): Suite | undefined {
  const source = report.source;
  if (source && typeof source.package === 'string' && typeof source.script === 'string') {
    return all.find((suite) => suite.packageName === source.package && suite.script === source.script);
  }
  return all.find((suite) => suite.packageDir === dir && (suite.name === report.suite || suite.name.replace(':', '-') === report.suite));
}

/**
 * The reports in `dir`/bench-results written since `since` by the chosen suites. Results left there by
 * suites the workspace no longer has (renamed or removed scripts) are stale and stay out, with a note.
 */
function readReports(io: CommandIO, dir: string, suites: { all: Suite[]; chosen: Suite[] }, since: number): BenchReport[] {
  const resultsDir = path.join(dir, 'bench-results');
  if (!fs.existsSync(resultsDir)) return [];
  const reports: BenchReport[] = [];
  for (const file of fs.readdirSync(resultsDir).sort()) {
    const full = path.join(resultsDir, file);
    if (!file.endsWith('.json') || fs.statSync(full).mtimeMs < since) continue;
    const report = JSON.parse(fs.readFileSync(full, 'utf8')) as BenchReport;
    // Only suite reports: a suite may also write derived tables of its own beside them.
    if (typeof report.suite !== 'string' || report.machine === undefined || !Array.isArray(report.rows)) continue;
    const producer = producerOf(report, dir, suites.all);
    if (!producer) {
      const by = report.source ? `its script (${report.source.package} "${report.source.script}") is gone` : `no suite of this workspace is named "${report.suite}"`;
      io.err(`bitnet bench: left out ${full}: ${by} (a stale result)\n`);
      continue;
    }
    if (suites.chosen.includes(producer)) reports.push(report);
  }
  return reports;
}

/**
 * Where --out leads: the folder and those of its parents that do not exist yet. A bad --out fails here, before
 * anything is created or run: no file may stand where it or one of its parent folders belongs
 * (`--out results.json/sub`).
 */
function planOutFolder(out: string): { outDir: string; missing: string[] } {
  const outDir = path.resolve(out);
  const missing: string[] = [];
  for (let folder = outDir; ; folder = path.dirname(folder)) {
    const stat = statOrNull('bench', folder);
    if (stat) {
      if (stat.isDirectory()) break;
      throw new UsageError(folder === outDir ? `--out must be a folder, but ${out} is a file` : `--out ${out} cannot be a folder: ${folder} is a file`);
    }
    missing.unshift(folder);
    if (path.dirname(folder) === folder) break;
  }
  return { outDir, missing };
}

/**
 * Creates the planned folders and checks that the last takes files, before any suite runs. One folder at a
 * time: Node's recursive mkdir retries forever where mkdir keeps answering ENOENT under an existing folder (/proc).
 */
function createOutFolder({ outDir, missing }: { outDir: string; missing: string[] }): void {
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError('bench', 'create the --out folder', folder, error);
    }
  }
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(outDir, '.bitnet-bench-')));
  } catch (error) {
    throw fileError('bench', 'write the report to', outDir, error);
  }
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
  const outFolder = planOutFolder(options.out ?? path.join(root, 'bench-results'));
  const unknown = options.suites.filter((name) => !all.some((suite) => suite.name === name));
  if (unknown.length) throw new UsageError(`unknown suite(s) ${unknown.join(', ')}; available: ${all.map((s) => s.name).join(', ')}`);
  const chosen = options.suites.length ? all.filter((suite) => options.suites.includes(suite.name)) : all;
  createOutFolder(outFolder);
  const { outDir } = outFolder;
  const started = options.reportOnly ? 0 : Date.now();
  let failures = 0;
  if (!options.reportOnly) {
    for (const suite of chosen) {
      io.err(`▶ ${suite.name}\n`);
      // With --json, stdout carries the one JSON document: the suites' tables go to stderr (fd 2) instead.
      const result = spawnSync('npm', ['run', '--silent', suite.script], { cwd: suite.packageDir, stdio: ['ignore', options.json ? 2 : 'inherit', 'inherit'] });
      if (result.status !== 0) {
        failures++;
        io.err(`✗ ${suite.name} exited with ${result.status ?? result.signal}\n`);
      }
    }
  }
  const reports = [...new Set(chosen.map((suite) => suite.packageDir))].flatMap((dir) => readReports(io, dir, { all, chosen }, started));
  try {
    fs.writeFileSync(path.join(outDir, 'bench.json'), `${JSON.stringify(reports, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'bench.html'), renderHtmlReport(reports));
  } catch (error) {
    throw fileError('bench', 'write the report to', outDir, error);
  }
  if (options.json) io.out(`${JSON.stringify(reports, null, 2)}\n`);
  else io.out(`${reports.length} suite report(s) → ${path.join(outDir, 'bench.html')} and bench.json\n`);
  return failures ? 1 : 0;
}
