// Builds the addon with node-gyp against the local Node headers when they are
// installed beside the node binary, so nothing is downloaded. The result is
// copied to build/Release/bitnet-<runtime key>.node, the name the loader looks for.
//   --if-missing  skip when the binary exists (pnpm install)
//   --if-stale    skip when the binary is newer than every source (turbo build)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function runtimeKey() {
  let libc = '';
  if (process.platform === 'linux') {
    const report = process.report?.getReport?.();
    const glibc = report?.header?.glibcVersionRuntime;
    if (!glibc) libc = 'musl';
  }
  return `${process.platform}${libc}-${process.arch}`;
}

const output = path.join(root, 'build', 'Release', `bitnet-${runtimeKey()}.node`);

function newestSourceTime() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(cc|h|hpp)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  visit(path.join(root, 'src'));
  for (const file of ['binding.gyp', 'package.json']) newest = Math.max(newest, fs.statSync(path.join(root, file)).mtimeMs);
  return newest;
}

const args = process.argv.slice(2);
if (args.includes('--if-missing') && fs.existsSync(output)) {
  console.log(`[bitnet/native] ${path.relative(root, output)} exists; skipping build`);
  process.exit(0);
}
if (args.includes('--if-stale') && fs.existsSync(output) && fs.statSync(output).mtimeMs >= newestSourceTime()) {
  console.log(`[bitnet/native] ${path.relative(root, output)} is up to date`);
  process.exit(0);
}

const prefix = path.resolve(path.dirname(process.execPath), '..');
const gypArgs = ['rebuild', '--release', `--jobs=${Math.max(1, (await import('node:os')).availableParallelism())}`];
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  gypArgs.push(`--nodedir=${prefix}`);
} else {
  console.log(`[bitnet/native] no headers at ${prefix}/include/node; node-gyp will use its own header cache`);
}

const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
console.log(`[bitnet/native] node-gyp ${gypArgs.join(' ')}`);
const result = spawnSync(process.execPath, [nodeGyp, ...gypArgs], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    `[bitnet/native] build failed (exit ${result.status}). A C++17 compiler, make and python3 are needed ` +
      `(Debian: apt-get install -y g++ make python3).`,
  );
  process.exit(result.status ?? 1);
}
fs.copyFileSync(path.join(root, 'build', 'Release', 'bitnet.node'), output);
console.log(`[bitnet/native] built ${path.relative(root, output)}`);
