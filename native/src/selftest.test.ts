import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './index.js';

/**
 * The C++ kernel self-test (native/tests): every SIMD tier against the
 * generic kernels without Node. The aarch64 build runs under qemu-aarch64,
 * which is how the NEON kernels are executed on x86 machines. Missing
 * toolchains skip locally but fail in CI, which installs them.
 */
function selftest(target: 'host' | 'aarch64') {
  const result = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'selftest.mjs'), '--target', target], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const checks = ['probe_kernels', 'tensor_kernels', 'ternary_kernels'];

describe('kernel self-test', () => {
  it('every tier of this host matches the generic kernels', () => {
    const { status, output } = selftest('host');
    expect(output, output).toMatch(/\d+ passed, 0 failed/);
    expect(status).toBe(0);
    for (const check of checks) expect(output, output).toMatch(new RegExp(`ok {3}generic +${check}`));
  }, 600_000);

  it('NEON kernels match the generic kernels on aarch64 (under qemu)', (context) => {
    const { status, output } = selftest('aarch64');
    if (status === 3 && !process.env.CI) context.skip(output.trim());
    for (const check of checks) expect(output, output).toMatch(new RegExp(`ok {3}neon +${check}`));
    expect(output).toMatch(/\d+ passed, 0 failed/);
    expect(status).toBe(0);
  }, 600_000);
});
