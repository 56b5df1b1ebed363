import { describe, expect, it } from 'vitest';
import { WordCache } from './word-cache.js';

// Deterministic pseudo-random words over a small alphabet (many shared prefixes, some non-ASCII and astral).
function words(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const alphabet = ['a', 'b', 'c', 'é', 'ß', '東', '🚀', ' ', 'Ġ', '\u0000'];
  const out = new Set<string>();
  while (out.size < count) {
    let w = '';
    const length = 1 + Math.floor(next() * 12);
    for (let i = 0; i < length; i++) w += alphabet[Math.floor(next() * alphabet.length)];
    out.add(w);
  }
  return [...out];
}

/** A result per word that depends on all of it: [id, start, end] per character. */
function resultOf(word: string): Int32Array {
  const out = new Int32Array(3 * word.length);
  for (let i = 0; i < word.length; i++) out.set([word.charCodeAt(i) * 7 + i, i, i + 1], 3 * i);
  return out;
}

function read(cache: WordCache, at: number): Int32Array {
  return cache.arena.slice(at + 1, at + 1 + cache.arena[at]!);
}

describe('WordCache', () => {
  it('returns what was stored for every word, looked up from inside a larger string', () => {
    const cache = new WordCache(1_000_000);
    const list = words(20_000, 1); // past the first slot table and arena sizes: both grow
    const text = `<<${list.join('|')}>>`;
    let position = 2;
    const ranges = list.map((w) => {
      const range = [position, position + w.length] as const;
      position += w.length + 1;
      return range;
    });
    list.forEach((w, i) => {
      expect(cache.get(text, ...ranges[i]!)).toBe(-1);
      const at = cache.setLast(text, ...ranges[i]!, resultOf(w));
      expect(read(cache, at)).toEqual(resultOf(w));
    });
    expect(cache.size).toBe(list.length);
    list.forEach((w, i) => {
      const at = cache.get(text, ...ranges[i]!);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(read(cache, at)).toEqual(resultOf(w));
      expect(cache.get(w, 0, w.length)).toBe(at); // the same word from another string
    });
    // Words never stored: extensions and suffixes of stored ones.
    const stored = new Set(list);
    for (const w of list.slice(0, 2000)) {
      const probe = `${w}x`;
      if (!stored.has(probe)) expect(cache.get(probe, 0, probe.length)).toBe(-1);
      if (w.length > 1 && !stored.has(w.slice(1))) expect(cache.get(w, 1, w.length)).toBe(-1);
    }
  });

  it('stays bounded: a full cache is cleared and keeps working', () => {
    const cache = new WordCache(100);
    const list = words(250, 2);
    for (const w of list) {
      if (cache.get(w, 0, w.length) < 0) cache.setLast(w, 0, w.length, resultOf(w));
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(50); // cleared at 100 and at 200
    for (const w of list.slice(200)) expect(read(cache, cache.get(w, 0, w.length))).toEqual(resultOf(w));
    expect(cache.get(list[0]!, 0, list[0]!.length)).toBe(-1);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get(list[249]!, 0, list[249]!.length)).toBe(-1);
  });
});
