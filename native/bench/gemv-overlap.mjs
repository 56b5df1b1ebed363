// Builds and runs bench/gemv_overlap.cc: the batch-1 ternary GEMV loop next to
// the same loop without its arithmetic and the bandwidth probe's read loop
// (one thread, cold weights), then the read loop and the kernel on two threads.
// x86-64 with AVX-512 VNNI and g++ only.
//
//   node native/bench/gemv-overlap.mjs [rounds]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('./gemv_overlap.cc', import.meta.url));
const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
if (process.arch !== 'x64' || !/\bavx512_vnni\b/.test(cpuinfo)) {
  console.log('gemv-overlap: skipped (needs x86-64 with AVX-512 VNNI)');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-gemv-overlap-'));
const binary = path.join(dir, 'gemv_overlap');
try {
  execFileSync('g++', ['-O3', '-std=c++17', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx512vnni', '-I', fileURLToPath(new URL('../src', import.meta.url)), '-pthread', '-o', binary, source], { stdio: 'inherit' });
  execFileSync(binary, [process.argv[2] ?? '300'], { stdio: 'inherit' });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
