import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Runs an example as a user would (`node examples/<file>` from the package folder) and returns its output. */
function runExample(file: string): string {
  return execFileSync(process.execPath, [path.join(here, file)], { cwd: path.dirname(here), encoding: 'utf8', env: { ...process.env, BITNET_LOG: 'silent' } });
}

describe('examples', () => {
  it('device-selection explains the choice and refuses an unavailable BITNET_DEVICE', () => {
    const out = runExample('device-selection.mjs');
    expect(out).toMatch(/auto-selected: cpu \(cpu is the first available kind/);
    expect(out).toContain('BITNET_DEVICE=metal → ERR_BITNET_UNAVAILABLE');
    expect(out).toMatch(/cpu: .+, \d+ threads, SIMD (generic|avx2|avx512|neon)/);
  });
});
