// Builds and runs the kernel self-test (native/tests) without Node-API:
//   node scripts/selftest.mjs [--target host|aarch64] [--jobs N]
// host: g++ with each ISA folder's own flags, run directly.
// aarch64: aarch64-linux-gnu-g++ -static, run under qemu-aarch64 (Debian:
// apt-get install g++-aarch64-linux-gnu qemu-user). Exits 3 when the
// toolchain is missing, so callers can tell "cannot run here" from "failed".
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const target = args.includes('--target') ? args[args.indexOf('--target') + 1] : 'host';
const jobs = args.includes('--jobs') ? Number(args[args.indexOf('--jobs') + 1]) : os.availableParallelism();

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const hostArch = process.arch === 'x64' ? 'x64' : process.arch;
const arch = target === 'aarch64' ? 'arm64' : hostArch;
const compiler = target === 'aarch64' ? 'aarch64-linux-gnu-g++' : 'g++';
if (!has(compiler) || (target === 'aarch64' && !has('qemu-aarch64'))) {
  console.error(`[selftest] ${target}: needs ${compiler}${target === 'aarch64' ? ' and qemu-aarch64 (apt-get install g++-aarch64-linux-gnu qemu-user)' : ''}`);
  process.exit(3);
}

const list = (group) => spawnSync(process.execPath, [path.join(root, 'scripts', 'sources.mjs'), group], { encoding: 'utf8' }).stdout.split(' ').filter(Boolean);
const x86Flags = {
  avx2: ['-mavx2', '-mfma', '-mf16c'],
  avx512: ['-mavx2', '-mfma', '-mf16c', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-Wno-uninitialized'],
  avx512vnni: ['-mavx2', '-mfma', '-mf16c', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx512vnni', '-Wno-uninitialized'],
};
const units = [];
const base = list('base').filter((file) => !file.startsWith('src/napi/') && !file.startsWith('src/metal/'));
for (const file of base) units.push({ file, flags: [] });
if (arch === 'x64') for (const [group, flags] of Object.entries(x86Flags)) for (const file of list(group)) units.push({ file, flags });
if (arch === 'arm64') for (const file of list('neon')) units.push({ file, flags: [] });
for (const file of fs.readdirSync(path.join(root, 'tests')).filter((f) => f.endsWith('.cc'))) units.push({ file: `tests/${file}`, flags: [] });

const defines = arch === 'x64' ? ['-DBITNET_HAVE_X86_TIERS=1'] : arch === 'arm64' ? ['-DBITNET_HAVE_NEON_TIER=1'] : [];
const outDir = path.join(root, 'build', `selftest-${target}`);
fs.mkdirSync(outDir, { recursive: true });
const common = ['-std=c++17', '-O2', '-pthread', '-I', path.join(root, 'src'), '-I', root, ...defines];

function compile(unit) {
  const object = path.join(outDir, unit.file.replace(/[/.]/g, '_') + '.o');
  const source = path.join(root, unit.file);
  if (fs.existsSync(object) && fs.statSync(object).mtimeMs > Math.max(fs.statSync(source).mtimeMs, newestHeader)) return Promise.resolve(object);
  return new Promise((resolve, reject) => {
    const child = spawn(compiler, [...common, ...unit.flags, '-c', source, '-o', object], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve(object) : reject(new Error(`${compiler} failed on ${unit.file}`))));
  });
}

let newestHeader = 0;
const visit = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) visit(full);
    else if (entry.name.endsWith('.h')) newestHeader = Math.max(newestHeader, fs.statSync(full).mtimeMs);
  }
};
visit(path.join(root, 'src'));
visit(path.join(root, 'tests'));

const objects = [];
const queue = [...units];
await Promise.all(
  Array.from({ length: Math.max(1, jobs) }, async () => {
    while (queue.length) objects.push(await compile(queue.shift()));
  }),
);
const binary = path.join(outDir, 'selftest');
const link = spawnSync(compiler, [...common, ...(target === 'aarch64' ? ['-static'] : []), ...objects, '-o', binary], { stdio: 'inherit' });
if (link.status !== 0) process.exit(1);
const run = target === 'aarch64' ? spawnSync('qemu-aarch64', [binary], { stdio: 'inherit' }) : spawnSync(binary, [], { stdio: 'inherit' });
process.exit(run.status ?? 1);
