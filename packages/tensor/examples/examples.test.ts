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
  it('tensor-lifecycle returns every byte to the pool and rejects use after dispose', () => {
    const out = runExample('tensor-lifecycle.mjs');
    expect(out).toContain('pool bytes live at start: 0');
    expect(out).toContain('y shape [4,16], row sums of softmax: 1.000 1.000 1.000 1.000');
    expect(out).toMatch(/pool bytes live while tensors exist: [1-9]\d*/);
    expect(out).toContain('after w.dispose(), its view still reads: 128 values');
    expect(out).toContain('pool bytes live after the block (all disposed): 0');
    expect(out).toContain('use after dispose → ERR_BITNET_DISPOSED');
  });

  it('memory-efficient-conversion halves the bytes and rounds to F16', () => {
    const out = runExample('memory-efficient-conversion.mjs');
    expect(out).toContain('F32 4194304 bytes → F16 2097152 bytes');
    expect(out).toContain('batch converted 2 tensors to BF16');
    // 3.14159 rounds to the nearest F16, 3.140625.
    expect(out).toContain('in place: 3.140625, 3.140625, 3.140625, 3.140625');
  });

  it('bitlinear packs 16× smaller, stays close to F32, trains and round-trips through safetensors', () => {
    const out = runExample('bitlinear.mjs');
    expect(out).toContain('packed 32768 bytes (i2_r4) vs F32 524288 bytes: 16.0× smaller');
    const error = Number(/error against F32 with the same ternary weights: ([\d.]+)%/.exec(out)![1]);
    expect(error).toBeGreaterThan(0);
    expect(error).toBeLessThan(3);
    const [, first, last] = /training: MSE ([\d.]+) → ([\d.]+)/.exec(out)!;
    expect(Number(last)).toBeLessThan(Number(first) / 2);
    expect(out).toMatch(/identical forward true/);
  });
});
