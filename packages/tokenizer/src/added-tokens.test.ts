// The added-token finder against a brute-force leftmost-longest matcher, on both of its scans:
// indexOf when every token starts with the same unit (LLaMA-3's and GPT-2's `<`), the
// unit-by-unit loop otherwise and for ranges that stop before the end of the text.
import { describe, expect, it } from 'vitest';
import { AddedTokenMatcher, type AddedTokenSpec } from './added-tokens.js';

const spec = (content: string, id: number): AddedTokenSpec => ({ id, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false });

/** Leftmost match, longest at that position, then on after it. */
function reference(tokens: string[], text: string, from: number, to: number): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (let i = from; i < to; ) {
    let best: string | null = null;
    for (const token of tokens) if (i + token.length <= to && text.startsWith(token, i) && (best === null || token.length > best.length)) best = token;
    if (best === null) {
      i++;
      continue;
    }
    out.push([best, i, i + best.length]);
    i += best.length;
  }
  return out;
}

function randomText(next: () => number, length: number): string {
  const alphabet = ['<', '|', 'a', 'b', '>', ' ', 'é', '🚀'];
  let text = '';
  while (text.length < length) text += alphabet[Math.floor(next() * alphabet.length)];
  return text;
}

describe('AddedTokenMatcher', () => {
  const sets = {
    'one start unit': ['<|a|>', '<|ab|>', '<|a', '<', '<<|b>'],
    'several start units': ['<|a|>', '|b', 'ab', '🚀a', 'é'],
  };
  for (const [name, tokens] of Object.entries(sets)) {
    it(`finds what a brute-force leftmost-longest search finds (${name})`, () => {
      const matcher = new AddedTokenMatcher();
      tokens.forEach((token, id) => matcher.add(spec(token, id)));
      let seed = 12345;
      const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
      for (let round = 0; round < 3000; round++) {
        const text = randomText(next, Math.floor(next() * 40));
        const whole = matcher.find(text, 0, text.length).map((m) => [m.token.content, m.start, m.end]);
        expect(whole, text).toEqual(reference(tokens, text, 0, text.length));
        const from = Math.floor(next() * (text.length + 1));
        const to = from + Math.floor(next() * (text.length - from + 1));
        const part = matcher.find(text, from, to).map((m) => [m.token.content, m.start, m.end]);
        expect(part, `${text} [${from}, ${to})`).toEqual(reference(tokens, text, from, to));
      }
    });
  }
});
