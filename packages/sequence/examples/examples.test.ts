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
  it('sequence pads, truncates and shows bucketing cutting padding', () => {
    const out = runExample('sequence.mjs');
    expect(out).toContain('batch shape [3, 8]');
    expect(out).toContain('ids 5 6 7 0 0 0 0 0          mask 11100000');
    expect(out).toContain('ids 8 9 10 11 12 13 14 15    mask 11111111');
    const naive = Number(/sequential .* padding ([\d.]+)%/.exec(out)![1]);
    const bucketed = Number(/bucketed .* padding ([\d.]+)%/.exec(out)![1]);
    expect(bucketed).toBeLessThan(naive / 4);
  });
});
