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
  packageDir: string;
  script: string;
  /** Other suite names the script's results carry (package.json `bitnet.benchReports`: a script that runs another package's bench). */
  alsoWrites?: string[];
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
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; scripts?: Record<string, string>; bitnet?: { benchReports?: Record<string, unknown> } };
    const short = pkg.name.replace(/^@bitnet\//, '');
    const alsoWrites = (script: string) => {
      const names = pkg.bitnet?.benchReports?.[script];
      return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string') : [];
    };
    for (const script of Object.keys(pkg.scripts ?? {})) {
      if (script === 'bench') suites.push({ name: short, packageDir: dir, script, alsoWrites: alsoWrites(script) });
      else if (script.startsWith('bench:')) suites.push({ name: `${short}:${script.slice(6)}`, packageDir: dir, script, alsoWrites: alsoWrites(script) });
    }
  }
  return suites.sort((a, b) => a.name.localeCompare(b.name));
}

/** The name a suite's results carry: tools/bench names `<package>:<name>`'s results `<package>-<name>`. */
const reportNames = (suite: Suite) => new Set([suite.name, suite.name.replace(':', '-'), ...(suite.alsoWrites ?? [])]);

/**
 * The reports in `dir`/bench-results written since `since` by the chosen suites. Results left there by
 * suites the workspace no longer has (renamed or removed scripts) are stale and stay out, with a note.
 */
function readReports(io: CommandIO, dir: string, suites: { all: Suite[]; chosen: Suite[] }, since: number): BenchReport[] {
  const resultsDir = path.join(dir, 'bench-results');
  if (!fs.existsSync(resultsDir)) return [];
  const namesIn = (list: Suite[]) => new Set(list.filter((suite) => suite.packageDir === dir).flatMap((suite) => [...reportNames(suite)]));
  const existing = namesIn(suites.all);
  const chosen = namesIn(suites.chosen);
  const reports: BenchReport[] = [];
  for (const file of fs.readdirSync(resultsDir).sort()) {
    const full = path.join(resultsDir, file);
    if (!file.endsWith('.json') || fs.statSync(full).mtimeMs < since) continue;
    const report = JSON.parse(fs.readFileSync(full, 'utf8')) as BenchReport;
    // Only suite reports: a suite may also write derived tables of its own beside them.
    if (typeof report.suite !== 'string' || report.machine === undefined || !Array.isArray(report.rows)) continue;
    if (!existing.has(report.suite)) {
      io.err(`bitnet bench: left out ${full}: no suite of this workspace is named "${report.suite}" (a stale result)\n`);
      continue;
    }
    if (chosen.has(report.suite)) reports.push(report);
  }
  return reports;
}

/**
 * Checks --out before any suite runs, so a bad path fails at once rather than after the benchmarks: no file may
 * stand where --out or one of its parent folders belongs (`--out results.json/sub`).
 */
export function checkOutFolder(out: string): void {
  const target = path.resolve(out);
  for (let folder = target; ; folder = path.dirname(folder)) {
    const stat = statOrNull('bench', folder);
    if (stat) {
      if (stat.isDirectory()) return;
      throw new UsageError(folder === target ? `--out must be a folder, but ${out} is a file` : `--out ${out} cannot be a folder: ${folder} is a file`);
    }
    if (path.dirname(folder) === folder) return;
  }
}

/**
 * Creates the output folder and checks that it takes files, before any suite runs. One folder at a time:
 * Node's recursive mkdir retries forever where mkdir keeps answering ENOENT under an existing folder (/proc).
 */
function prepareOutFolder(outDir: string): void {
  const missing: string[] = [];
  for (let folder = outDir; !statOrNull('bench', folder); folder = path.dirname(folder)) {
    missing.unshift(folder);
    if (path.dirname(folder) === folder) break;
  }
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
  const unknown = options.suites.filter((name) => !all.some((suite) => suite.name === name));
  if (unknown.length) throw new UsageError(`unknown suite(s) ${unknown.join(', ')}; available: ${all.map((s) => s.name).join(', ')}`);
  const chosen = options.suites.length ? all.filter((suite) => options.suites.includes(suite.name)) : all;
  const outDir = path.resolve(options.out ?? path.join(root, 'bench-results'));
  prepareOutFolder(outDir);
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
