// The README's test command: runs every package's tests through turbo (all of
// them, even after a failure), then sums the vitest JSON reports written in
// this run and prints one closing line "N passed, N failed".
//   node tools/scripts/run-tests.mjs [--native-only] [extra turbo args]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();

/** Workspace packages that need the native addon, directly or through another package. */
function nativePackages() {
  const manifests = ['native', ...fs.readdirSync(path.join(root, 'packages')).map((name) => `packages/${name}`)]
    .map((dir) => path.join(root, dir, 'package.json'))
    .filter((file) => fs.existsSync(file))
    .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
  const needs = new Set(['@bitnet/native']);
  for (let changed = true; changed; ) {
    changed = false;
    for (const manifest of manifests) {
      if (needs.has(manifest.name)) continue;
      const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
      if (deps.some((dep) => needs.has(dep))) {
        needs.add(manifest.name);
        changed = true;
      }
    }
  }
  return [...needs];
}

// --native-only: just the packages that run native kernels (CI re-runs them per kernel tier).
const extra = process.argv.slice(2).flatMap((arg) => (arg === '--native-only' ? nativePackages().map((name) => `--filter=${name}`) : [arg]));
const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', '--concurrency=1', ...extra], {
  cwd: root,
  stdio: 'inherit',
  env: process.env,
});

const isa = process.env.BITNET_CPU_ISA ? `-${process.env.BITNET_CPU_ISA}` : '';
const reportName = `vitest${isa}.json`;
let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
for (const group of ['packages', 'native', 'tools']) {
  const base = path.join(root, group);
  if (!fs.existsSync(base)) continue;
  const dirs = group === 'native' ? [base] : fs.readdirSync(base).map((name) => path.join(base, name));
  for (const dir of dirs) {
    const file = path.join(dir, 'test-results', reportName);
    if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < started - 1000) continue;
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    // A file that failed to load counts as one failure even with no test inside.
    const brokenFiles = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
    passed += report.numPassedTests;
    failed += report.numFailedTests + brokenFiles;
    skipped += report.numPendingTests + (report.numTodoTests ?? 0);
    perPackage.push(`${path.relative(root, dir)}: ${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed`);
  }
}
if (turbo.status !== 0 && failed === 0) failed = 1; // a package failed before writing its report
console.log(perPackage.map((line) => `  ${line}`).join('\n'));
fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
fs.writeFileSync(path.join(root, 'test-results', `summary${isa}.json`), JSON.stringify({ passed, failed, skipped, turboStatus: turbo.status }));
// Skipped tests on a line of their own: the last line is always exactly "N passed, N failed".
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(turbo.status !== 0 || failed > 0 ? 1 : 0);
