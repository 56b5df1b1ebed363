// Shared vitest setup. Native packages run in forked processes, one file at a
// time, so an addon crash or an env override (BITNET_CPU_ISA) stays contained.
// Every run also writes a JSON report that tools/scripts/test-summary.mjs sums.
import path from 'node:path';

export function packageTestConfig({ native = false, testTimeout = 60_000, setupFiles, execArgv } = {}) {
  const isa = process.env.BITNET_CPU_ISA ? `-${process.env.BITNET_CPU_ISA}` : '';
  return {
    test: {
      include: ['src/**/*.test.ts', 'examples/**/*.test.ts'],
      testTimeout,
      hookTimeout: testTimeout,
      pool: 'forks',
      ...(native ? { fileParallelism: false } : {}),
      ...(setupFiles ? { setupFiles } : {}),
      ...(execArgv ? { execArgv } : {}),
      reporters: ['default', ['json', { outputFile: path.join('test-results', `vitest${isa}.json`) }]],
    },
  };
}
