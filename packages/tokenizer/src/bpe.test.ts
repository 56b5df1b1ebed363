// The heap merge loop's scratch arrays after a huge word: they shrink back, but never below what the
// next long word needs (shrinking to 256 entries gave wrong ids, then a merge loop that never ended).
import { describe, expect, it } from 'vitest';
import { loadHfTokenizer } from './index.js';
import { llama3Oracle, llama3TokenizerJson } from './testing/oracle.js';

function letters(count: number, seed: number): string {
  let state = seed;
  let word = '';
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    word += 'abcdefghijklmnopqrstuvwxyz'[state % 26];
  }
  return word;
}

describe('BpeMerger heap scratch', () => {
  it('encodes long words after a > 65536-byte word exactly as the oracle', async () => {
    const ours = loadHfTokenizer(llama3TokenizerJson);
    const oracle = llama3Oracle();
    const big = letters(70_000, 12345);
    // 1000 letters: > 256 symbols (uncached, heap loop); 120 CJK characters: 360 bytes in one cached word.
    const texts = [letters(1000, 777), '中文字符'.repeat(30), `x ${'中文字符'.repeat(30)}`];
    const reference = await oracle.encodeBatch(texts, { addSpecialTokens: false });
    expect(Array.from(ours.encode(big, { addSpecialTokens: false }).ids)).toEqual((await oracle.encode(big, null, { addSpecialTokens: false })).getIds());
    texts.forEach((text, i) => {
      const ids = ours.encode(text, { addSpecialTokens: false }).ids;
      expect({ i, ids: Array.from(ids) }).toEqual({ i, ids: reference[i].getIds() });
      expect(ours.decode(ids)).toBe(text);
    });
  });
});
