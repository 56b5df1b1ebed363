// HF post-processors for the fast path: ByteLevel (offset trimming),
// TemplateProcessing (BOS/EOS/CLS/SEP), and a Sequence of those.
import { EncodingBuilder, TokenEncoding, allocateEncodingArrays } from './encoding.js';
import { byteToChar } from './byte-level.js';
import { isWhitespaceCode } from './added-tokens.js';

export type TemplatePiece = { kind: 'sequence'; index: 0 | 1; typeId: number } | { kind: 'special'; ids: number[]; typeId: number };

export interface PostProcessorSpec {
  /** ByteLevel `trim_offsets`: drop leading/trailing spaces from each token's offsets. */
  trimOffsets: boolean;
  /** ByteLevel `add_prefix_space` of the trimming processor (keeps a first token's single prefix space). */
  trimAddPrefixSpace: boolean;
  template: { single: TemplatePiece[]; pair: TemplatePiece[] } | null;
}

export const NO_POST_PROCESSOR: PostProcessorSpec = { trimOffsets: false, trimAddPrefixSpace: false, template: null };

const SPACE_CHAR = byteToChar[0x20].charCodeAt(0);

function trimOffsets(builder: EncodingBuilder, tokens: ArrayLike<string | undefined>, addPrefixSpace: boolean): void {
  const texts = builder.tokenTexts;
  let nextText = 0;
  // HF trims by the token's text: a stripped added token's includes the whitespace it took.
  trimTokenOffsets(builder.offsets, builder.length, (i) => (texts !== null && nextText < texts.length && texts[nextText][0] === i ? texts[nextText++][1] : (tokens[builder.ids[i]] ?? '')), addPrefixSpace);
}

/**
 * ByteLevel / RoBERTa `trim_offsets`: each token's span loses as many characters at each end as its text has
 * spaces there (byte-level 'Ġ' or whitespace), as HF's `process_offsets` does. `tokenText(i)` is called in order.
 */
export function trimTokenOffsets(offsets: Int32Array, count: number, tokenText: (i: number) => string, addPrefixSpace: boolean): void {
  for (let i = 0; i < count; i++) {
    const token = tokenText(i);
    let leading = 0;
    while (leading < token.length && (token.charCodeAt(leading) === SPACE_CHAR || isWhitespaceCode(token.charCodeAt(leading)))) leading++;
    let trailing = 0;
    while (trailing < token.length && (token.charCodeAt(token.length - 1 - trailing) === SPACE_CHAR || isWhitespaceCode(token.charCodeAt(token.length - 1 - trailing)))) trailing++;
    if (leading === 0 && trailing === 0) continue;
    let start = offsets[2 * i];
    let end = offsets[2 * i + 1];
    if (leading > 0) {
      const isFirst = i === 0 || start === 0;
      if (isFirst && addPrefixSpace && leading === 1) leading = 0;
      start = Math.min(start + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = Math.max(end - trailing, start);
    offsets[2 * i] = start;
    offsets[2 * i + 1] = end;
  }
}

/** Builds the final encoding from the encoded sequence(s). */
export function postProcess(
  spec: PostProcessorSpec,
  first: EncodingBuilder,
  second: EncodingBuilder | null,
  addSpecialTokens: boolean,
  tokens: ArrayLike<string | undefined>,
): TokenEncoding {
  if (spec.trimOffsets) {
    trimOffsets(first, tokens, spec.trimAddPrefixSpace);
    if (second) trimOffsets(second, tokens, spec.trimAddPrefixSpace);
  }
  const sequences = second ? [first, second] : [first];
  const pieces: TemplatePiece[] = spec.template
    ? second
      ? spec.template.pair
      : spec.template.single
    : second
      ? [
          { kind: 'sequence', index: 0, typeId: 0 },
          { kind: 'sequence', index: 1, typeId: 1 },
        ]
      : [{ kind: 'sequence', index: 0, typeId: 0 }];
  let total = 0;
  for (const piece of pieces) {
    if (piece.kind === 'sequence') total += sequences[piece.index].length;
    else if (addSpecialTokens) total += piece.ids.length;
  }
  const arrays = allocateEncodingArrays(total);
  const { ids, offsets, typeIds, special, sequenceIds } = arrays;
  let n = 0;
  let tokenTexts: Array<[number, string]> | null = null;
  for (const piece of pieces) {
    if (piece.kind === 'sequence') {
      const source = sequences[piece.index];
      if (source.tokenTexts !== null) for (const [position, text] of source.tokenTexts) (tokenTexts ??= []).push([n + position, text]);
      ids.set(source.ids.subarray(0, source.length), n);
      offsets.set(source.offsets.subarray(0, source.length * 2), n * 2);
      typeIds.fill(piece.typeId, n, n + source.length);
      sequenceIds.fill(piece.index, n, n + source.length);
      n += source.length;
    } else if (addSpecialTokens) {
      for (const id of piece.ids) {
        ids[n] = id;
        typeIds[n] = piece.typeId;
        special[n] = 1;
        sequenceIds[n] = -1;
        n++;
      }
    }
  }
  return new TokenEncoding(arrays, tokens, undefined, tokenTexts);
}
