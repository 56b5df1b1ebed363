import { describe, expect, it, vi } from 'vitest';
import { ENCODING_BYTES_PER_TOKEN, allocateEncodingArrays, ownsBuffer, type EncodingArrays } from './encoding.js';
import { loadHfTokenizer } from './index.js';
import { llama3Oracle, llama3TokenizerJson } from './testing/oracle.js';

/** Fills every array of `a` with values derived from `seed` and the position. */
function fill(a: EncodingArrays, seed: number): void {
  for (let i = 0; i < a.ids.length; i++) {
    a.ids[i] = seed * 1000 + i;
    a.offsets[2 * i] = -seed - i;
    a.offsets[2 * i + 1] = seed + 7 * i;
    a.typeIds[i] = (seed + i) & 0xff;
    a.special[i] = (seed * 3 + i) & 0xff;
    a.sequenceIds[i] = ((seed + 2 * i) & 0xff) - 128;
  }
}

function intact(a: EncodingArrays, seed: number): boolean {
  for (let i = 0; i < a.ids.length; i++) {
    if (a.ids[i] !== seed * 1000 + i || a.offsets[2 * i] !== -seed - i || a.offsets[2 * i + 1] !== seed + 7 * i) return false;
    if (a.typeIds[i] !== ((seed + i) & 0xff) || a.special[i] !== ((seed * 3 + i) & 0xff) || a.sequenceIds[i] !== ((seed + 2 * i) & 0xff) - 128) return false;
  }
  return true;
}

describe('allocateEncodingArrays', () => {
  it('gives every encoding its own non-overlapping arrays, short ones from shared blocks, long ones a buffer each', () => {
    // Odd and even counts, zero, around the shared-block limit (~270 tokens) and far past it.
    const counts = [0, 1, 2, 3, 5, 17, 64, 99, 200, 272, 273, 274, 275, 300, 1000, 5000];
    const all: Array<[EncodingArrays, number]> = [];
    for (let round = 0; round < 40; round++) {
      for (const count of counts) {
        const arrays = allocateEncodingArrays(count);
        for (const array of [arrays.ids, arrays.typeIds, arrays.special, arrays.sequenceIds]) expect(array.length).toBe(count);
        expect(arrays.offsets.length).toBe(2 * count);
        for (const array of [arrays.offsets, arrays.typeIds, arrays.special, arrays.sequenceIds]) expect(array.buffer).toBe(arrays.ids.buffer);
        const seed = all.length;
        fill(arrays, seed);
        all.push([arrays, seed]);
      }
    }
    // Written after, read after: any overlap between two encodings' views shows up here.
    for (const [arrays, seed] of all) expect(intact(arrays, seed)).toBe(true);
    const shared = all.filter(([a]) => !ownsBuffer(a.ids));
    const owning = all.filter(([a]) => ownsBuffer(a.ids));
    expect(new Set(shared.map(([a]) => a.ids.buffer)).size).toBeLessThan(shared.length / 4);
    for (const [a] of owning) {
      expect(a.ids.buffer.byteLength).toBe(ENCODING_BYTES_PER_TOKEN * a.ids.length);
      expect(a.ids.length).toBeGreaterThan(270);
    }
    for (const [a] of shared) expect(a.ids.length).toBeLessThan(280);
  });

  it('keeps a shared block in place when a caller tries to transfer it', () => {
    const first = allocateEncodingArrays(10);
    const second = allocateEncodingArrays(10);
    expect(second.ids.buffer).toBe(first.ids.buffer);
    fill(first, 1);
    fill(second, 2);
    let copy: Int32Array | undefined;
    try {
      // Node 20 copies an untransferable buffer instead of moving it; later versions throw.
      copy = structuredClone(first.ids, { transfer: [first.ids.buffer as ArrayBuffer] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    if (copy) expect(Array.from(copy)).toEqual(Array.from(first.ids));
    expect(intact(first, 1) && intact(second, 2)).toBe(true);
    const third = allocateEncodingArrays(10); // the block is still usable
    fill(third, 3);
    expect(intact(first, 1) && intact(second, 2) && intact(third, 3)).toBe(true);
  });

  it('never hands out views of a detached block, from the very first (empty) encoding on', async () => {
    vi.resetModules();
    const fresh = await import('./encoding.js');
    const empty = fresh.allocateEncodingArrays(0);
    const buffer = empty.ids.buffer as ArrayBuffer;
    try {
      structuredClone(buffer, { transfer: [buffer] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    expect(buffer.byteLength).toBeGreaterThan(0); // not detached: the block is untransferable
    expect(fresh.allocateEncodingArrays(0).ids.length).toBe(0);
    // ArrayBuffer.prototype.transfer (later Node) ignores untransferable marks: a detached block is replaced.
    const some = fresh.allocateEncodingArrays(5);
    const transfer = (some.ids.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer }).transfer;
    if (typeof transfer === 'function') {
      transfer.call(some.ids.buffer);
      expect(fresh.allocateEncodingArrays(0).ids.length).toBe(0);
      expect(fresh.allocateEncodingArrays(3).ids.length).toBe(3);
    }
  });

  it('leaves kept encodings unchanged while many more are made (real encodings against the oracle)', async () => {
    const tokenizer = loadHfTokenizer(llama3TokenizerJson);
    const oracle = llama3Oracle();
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}: ${'naïve café ünïcode '.repeat(i % 7)}${i % 11 === 0 ? 'x'.repeat(1500) : 'end'}`);
    const kept = lines.map((line) => tokenizer.encode(line));
    for (const line of lines) tokenizer.encode(line.toUpperCase()); // more allocations after the kept ones
    const expected = await oracle.encodeBatch(lines, { addSpecialTokens: true });
    kept.forEach((e, i) => {
      expect(Array.from(e.ids).join(',')).toBe(expected[i]!.getIds().join(','));
      expect(Array.from(e.specialTokensMask).join('')).toBe(expected[i]!.getSpecialTokensMask().join(''));
    });
  });
});
