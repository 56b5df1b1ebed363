// Test support: the code points HF's Rust tokenizers (Oniguruma) puts in a Unicode property, read from the
// oracle itself: a Split pre-tokenizer that removes `\p{X}` leaves exactly the other code points as words.
import { native } from './oracle.js';

/** [first, last] ranges of the code points the oracle's Oniguruma matches with `\p{property}`. */
export async function oracleRanges(property: string): Promise<Array<[number, number]>> {
  const json = {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: `\\p{${property}}` }, behavior: 'Removed', invert: false },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
  };
  const tokenizer = native.Tokenizer.fromString(JSON.stringify(json));
  const outside = new Uint8Array(0x110000);
  for (let cp = 0xd800; cp <= 0xdfff; cp++) outside[cp] = 1; // surrogates are no characters
  const chunk: number[] = [];
  const flush = async (): Promise<void> => {
    // Each word left is one [UNK] whose offsets (in code points) cover code points outside the property.
    const encoding = await tokenizer.encode(String.fromCodePoint(...chunk), null, { addSpecialTokens: false });
    for (const [start, end] of encoding.getOffsets()) for (let k = start; k < end; k++) outside[chunk[k]] = 1;
    chunk.length = 0;
  };
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    chunk.push(cp);
    if (chunk.length === 65536) await flush();
  }
  await flush();
  const ranges: Array<[number, number]> = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (outside[cp]) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges;
}

/** The compact form unicode-tables.ts stores: "start" or "start+length-1", base 36, comma-separated. */
export function encodeRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([first, last]) => (first === last ? first.toString(36) : `${first.toString(36)}+${(last - first).toString(36)}`)).join(',');
}
