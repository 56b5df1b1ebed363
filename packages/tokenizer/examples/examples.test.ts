import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Runs an example as a user would (`node examples/<file>` from the package folder) and returns its output. */
function runExample(file: string): string {
  return execFileSync(process.execPath, [path.join(here, file)], { cwd: path.dirname(here), encoding: 'utf8' });
}

describe('examples', () => {
  it('tokenizer encodes with offsets, decodes exactly and streams whole characters', () => {
    const out = runExample('tokenizer.mjs');
    expect(out).toMatch(/loaded LLaMA-3 \(128256 tokens\)/);
    expect(out).toContain('decode: "BitNet b1.58 uses ternary weights {-1, 0, 1} — 東京 🚀"');
    expect(out).toContain('round trip exact: true');
    expect(out).toContain('<|end_of_text|> id: 128001');
    // The rocket is three byte-level tokens; the stream emits it once, whole.
    const pieces = JSON.parse(/stream pieces: (.*)/.exec(out)![1]!) as string[];
    expect(pieces.join('')).toBe('BitNet b1.58 uses ternary weights {-1, 0, 1} — 東京 🚀');
    expect(pieces.filter((p) => p.includes('🚀'))).toEqual(['🚀']);
    expect(pieces.every((p) => !p.includes('\uFFFD'))).toBe(true);
  });
});
