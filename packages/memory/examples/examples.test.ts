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
  it('memory-tracking reports live bytes, pressure and leaks, and frees everything', () => {
    const out = runExample('memory-tracking.mjs');
    // 100 blocks of 1-8 KiB (12.5 of each size on average) plus 12 × 4 MiB.
    const small = Array.from({ length: 100 }, (_, i) => 1024 * (1 + (i % 8))).reduce((a, b) => a + b, 0);
    expect(out).toContain(`live: ${small + 12 * (4 << 20)} bytes in 112 blocks`);
    expect(out).toContain('"level":"medium"');
    expect(out).toContain('live allocations older than 0 ms: 112 of 112');
    expect(out).toContain('after freeing: 0 bytes live');
    expect(out).toContain('double free → ERR_BITNET_DOUBLE_FREE');
  });

  it('cleanup returns idle arenas and keeps live data intact', () => {
    const out = runExample('cleanup.mjs');
    const [, before, after] = /reserved before: (\d+) bytes, after: (\d+) bytes/.exec(out)!;
    expect(Number(after)).toBeLessThan(Number(before));
    expect(Number(after)).toBeGreaterThanOrEqual(8 << 20);
    expect(out).toContain('kept block still intact: true');
  });
});
