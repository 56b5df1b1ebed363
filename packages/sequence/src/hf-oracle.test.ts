// Padding and truncation checked against HF `tokenizers@0.23.2` on the same inputs: random id sequences
// (singles and pairs), every truncation strategy and direction, every padding strategy and side,
// pad-to-multiple, special-token templates, overflow windows with stride.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBitNetError } from '@bitnet/errors';
import { longestFirstLengths, PaddingStrategy, SequenceManager, TruncationStrategy, type SequenceInput, type Side } from './index.js';
import { createWordLevelTokenizer, hf, idsToText, SPECIAL, toRow, type HfRow } from './testing/hf.js';

type Strategy = (typeof TruncationStrategy)[keyof typeof TruncationStrategy];

interface Case {
  inputs: Array<number[] | [number[], number[]]>;
  template: 'none' | 'bert' | 'llama';
  maxLength: number;
  truncation: Exclude<Strategy, 'do-not-truncate'>;
  direction: Side;
  padding: 'longest-in-batch' | 'max-length' | 'fixed' | 'none';
  fixedExtra: number;
  side: Side;
  multiple: number | undefined;
  padId: number;
  padTypeId: number;
  overflow: boolean;
  stride: number;
}

const TEMPLATES = {
  none: null,
  // BERT: [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1
  bert: { single: 't62 $A t61', pair: 't62 $A t61 $B:1 t61:1', added: [2, 3] },
  // LLaMA-3 style: <bos> $A / <bos> $A <bos>:1 $B:1
  llama: { single: 't60 $A', pair: 't60 $A t60:1 $B:1', added: [1, 2] },
} as const;

function ourTemplate(name: Case['template']) {
  if (name === 'bert') {
    return {
      single: [{ tokenId: SPECIAL.cls, typeId: 0 }, { sequence: 'A' as const, typeId: 0 }, { tokenId: SPECIAL.sep, typeId: 0 }],
      pair: [
        { tokenId: SPECIAL.cls, typeId: 0 },
        { sequence: 'A' as const, typeId: 0 },
        { tokenId: SPECIAL.sep, typeId: 0 },
        { sequence: 'B' as const, typeId: 1 },
        { tokenId: SPECIAL.sep, typeId: 1 },
      ],
    };
  }
  if (name === 'llama') {
    return {
      single: [{ tokenId: SPECIAL.bos, typeId: 0 }, { sequence: 'A' as const, typeId: 0 }],
      pair: [
        { tokenId: SPECIAL.bos, typeId: 0 },
        { sequence: 'A' as const, typeId: 0 },
        { tokenId: SPECIAL.bos, typeId: 1 },
        { sequence: 'B' as const, typeId: 1 },
      ],
    };
  }
  return undefined;
}

// size 'medium': lengths reach 24 often enough that both parts of a pair exceed max lengths up to 28.
const ids = (maxLength: number) => fc.array(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength, size: 'medium' });

const caseArbitrary = (overflow: boolean): fc.Arbitrary<Case> =>
  fc.record({
    pairs: fc.boolean(),
    inputs: fc.array(fc.tuple(ids(24), fc.option(ids(24), { nil: undefined })), { minLength: 1, maxLength: 6 }),
    template: fc.constantFrom<Case['template']>('none', 'bert', 'llama'),
    maxLength: fc.integer({ min: 4, max: 28 }),
    truncation: fc.constantFrom<Case['truncation']>('truncate-right', 'truncate-left', 'longest-first', 'only-first', 'only-second'),
    direction: fc.constantFrom<Side>('left', 'right'),
    padding: fc.constantFrom<Case['padding']>('longest-in-batch', 'max-length', 'fixed', 'none'),
    fixedExtra: fc.integer({ min: 0, max: 5 }),
    side: fc.constantFrom<Side>('left', 'right'),
    multiple: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    padId: fc.integer({ min: 0, max: 59 }),
    padTypeId: fc.constantFrom(0, 0, 2),
    stride: fc.integer({ min: 0, max: 6 }),
  }).map((raw) => ({
    ...raw,
    inputs: raw.inputs.map(([a, b]) => (raw.pairs && b ? ([a, b] as [number[], number[]]) : a)),
    overflow,
    stride: overflow ? raw.stride : 0,
  }));

function managerFor(c: Case): SequenceManager {
  const manager = new SequenceManager()
    .withMaxLength(c.maxLength)
    .withTruncationStrategy(c.truncation)
    .withTruncationDirection(c.direction)
    .withPadTokenId(c.padId)
    .withPadTypeId(c.padTypeId)
    .withPaddingSide(c.side)
    .withOverflow(c.overflow, c.stride);
  if (c.padding === 'fixed') manager.withPaddingStrategy(PaddingStrategy.Fixed, c.maxLength + c.fixedExtra);
  else manager.withPaddingStrategy(c.padding);
  if (c.multiple !== undefined) manager.withPadToMultipleOf(c.multiple);
  const template = ourTemplate(c.template);
  if (template) manager.withSpecialTokens(template);
  return manager;
}

function hfTokenizerFor(c: Case) {
  const tokenizer = createWordLevelTokenizer();
  const template = TEMPLATES[c.template];
  if (template) {
    tokenizer.setPostProcessor(
      hf.templateProcessing(template.single, template.pair, [
        ['t60', SPECIAL.bos],
        ['t61', SPECIAL.sep],
        ['t62', SPECIAL.cls],
      ]),
    );
  }
  const strategy = c.truncation === 'only-first' ? 'OnlyFirst' : c.truncation === 'only-second' ? 'OnlySecond' : 'LongestFirst';
  const direction = c.truncation === 'truncate-left' ? 'left' : c.truncation === 'truncate-right' ? 'right' : c.direction;
  return { tokenizer, strategy, direction };
}

function hfPadding(c: Case) {
  const options: import('tokenizers').PaddingOptions = { padId: c.padId, padTypeId: c.padTypeId, direction: c.side, padToken: `t${c.padId}` };
  if (c.multiple !== undefined) options.padToMultipleOf = c.multiple;
  if (c.padding === 'max-length') options.maxLength = c.maxLength;
  if (c.padding === 'fixed') options.maxLength = c.maxLength + c.fixedExtra;
  return options;
}

function roundUp(value: number, multiple: number | undefined) {
  return multiple && value % multiple ? value + multiple - (value % multiple) : value;
}

/** Lengths HF 0.23.2's encode keeps of each part of an input (its own truncation, the case's direction). */
async function hfKeptLengths(c: Case, a: number[], b: number[] | null): Promise<[number, number]> {
  const { tokenizer, strategy, direction } = hfTokenizerFor(c);
  tokenizer.setTruncation(c.maxLength, { strategy: strategy as never, direction, stride: 0 });
  const encoding = b ? await tokenizer.encode(idsToText(a), idsToText(b)) : await tokenizer.encode(idsToText(a));
  const sequenceIds = encoding.getSequenceIds();
  return [sequenceIds.filter((s) => s === 0).length, sequenceIds.filter((s) => s === 1).length];
}

/** HF's main encodings (no overflow) for the case, or the error HF raises. */
async function hfMainRows(c: Case): Promise<HfRow[] | Error> {
  const { tokenizer, strategy, direction } = hfTokenizerFor(c);
  tokenizer.setTruncation(c.maxLength, { strategy: strategy as never, direction, stride: 0 });
  const hasPair = c.inputs.some((input) => Array.isArray(input[0]));
  try {
    if (!hasPair) {
      // Singles: HF's whole pipeline, batch padding included.
      if (c.padding !== 'none') tokenizer.setPadding(hfPadding(c));
      const encodings = await tokenizer.encodeBatch(c.inputs.map((input) => idsToText(input as number[])));
      return encodings.map(toRow);
    }
    // Pairs (the node binding's encodeBatch takes strings only): HF's encode per input, truncation and
    // padding included, padding to a fixed length (for LongestInBatch the longest of HF's unpadded rows).
    const encodeAll = async () => {
      const encodings = [];
      for (const input of c.inputs) {
        const isPair = Array.isArray(input[0]);
        const a = (isPair ? input[0] : input) as number[];
        const b = isPair ? (input[1] as number[]) : null;
        encodings.push(b ? await tokenizer.encode(idsToText(a), idsToText(b)) : await tokenizer.encode(idsToText(a)));
      }
      return encodings;
    };
    let encodings = await encodeAll();
    if (c.padding !== 'none') {
      const target = c.padding === 'longest-in-batch' ? Math.max(...encodings.map((e) => e.getLength())) : c.padding === 'fixed' ? c.maxLength + c.fixedExtra : c.maxLength;
      tokenizer.setPadding({ ...hfPadding(c), maxLength: target });
      encodings = await encodeAll();
    }
    return encodings.map(toRow);
  } catch (error) {
    return error as Error;
  }
}

function rowsOf(manager: SequenceManager, inputs: SequenceInput[]) {
  const batch = manager.processBatch(inputs);
  return {
    batch,
    rows: batch.sequences.map((sequence) => ({
      sample: sequence.sampleIndex,
      ids: Array.from(sequence.tokens),
      typeIds: sequence.tokenTypeIds ? Array.from(sequence.tokenTypeIds) : null,
      attentionMask: Array.from(sequence.attentionMask),
      specialTokensMask: sequence.specialTokensMask ? Array.from(sequence.specialTokensMask) : null,
    })),
  };
}

function expectSameRow(ours: ReturnType<typeof rowsOf>['rows'][number], theirs: HfRow, compareTypes = true) {
  expect(ours.ids).toEqual(theirs.ids);
  expect(ours.attentionMask).toEqual(theirs.attentionMask);
  // Without a template HF marks only padding as special; we leave the mask out then.
  expect(ours.specialTokensMask ?? ours.attentionMask.map((m) => 1 - m)).toEqual(theirs.specialTokensMask);
  if (compareTypes) expect(ours.typeIds ?? ours.ids.map(() => 0)).toEqual(theirs.typeIds);
}

describe('truncation and padding equal HF tokenizers@0.23.2', () => {
  it('main rows: all strategies, directions, sides, templates, pairs', async () => {
    const seen = { truncatedPairs: 0, truncatedSingles: 0, padded: 0, hfErrors: 0, oldRuleDiffers: 0, leftPaddedPairs: 0, multiplePaddedPairs: 0 };
    await fc.assert(
      fc.asyncProperty(caseArbitrary(false), async (c) => {
        const added = TEMPLATES[c.template]?.added ?? [0, 0];
        fc.pre(c.maxLength > added[1]);
        const expected = await hfMainRows(c);
        let ours: ReturnType<typeof rowsOf>;
        try {
          ours = rowsOf(managerFor(c), c.inputs);
        } catch (error) {
          // HF fails on the same inputs (OnlyFirst/OnlySecond that cannot remove enough, OnlySecond on a single).
          if (!(expected instanceof Error)) throw error;
          expect(isBitNetError(error)).toBe(true);
          seen.hfErrors++;
          return;
        }
        if (expected instanceof Error) throw new Error(`HF failed (${expected.message}) but we did not`);
        // HF leaves unequal rows unpadded with PaddingStrategy None; that is our ragged layout.
        expect(ours.rows.length).toBe(expected.length);
        for (const sequence of ours.batch.sequences) {
          if (sequence.wasTruncated) Array.isArray(c.inputs[sequence.sampleIndex][0]) ? seen.truncatedPairs++ : seen.truncatedSingles++;
          if (sequence.wasPadded) seen.padded++;
          const input = c.inputs[sequence.sampleIndex];
          if (!Array.isArray(input[0])) continue;
          if (sequence.wasPadded && c.side === 'left') seen.leftPaddedPairs++;
          if (sequence.wasPadded && c.multiple !== undefined && c.multiple > 1) seen.multiplePaddedPairs++;
          // Inputs where tokenizers 0.23.2 keeps other lengths than truncate_encodings on the full lengths.
          const [a, b] = input as [number[], number[]];
          const budget = c.maxLength - added[1];
          if (sequence.wasTruncated && c.truncation !== 'only-first' && c.truncation !== 'only-second') {
            const old = longestFirstLengths(a.length, b.length, budget, { rule: 'truncate-encodings' });
            if (old.join() !== longestFirstLengths(a.length, b.length, budget, { maxLength: c.maxLength }).join()) seen.oldRuleDiffers++;
          }
        }
        for (let i = 0; i < expected.length; i++) expectSameRow(ours.rows[i], expected[i]);
        if (ours.batch.layout === 'dense') {
          const width = ours.batch.sequenceLength;
          expect(Array.from(ours.batch.inputIds)).toEqual(expected.flatMap((row) => row.ids));
          expect(expected.every((row) => row.ids.length === width)).toBe(true);
        }
      }),
      { numRuns: 400, seed: 7 },
    );
    // The property must have exercised every branch, not passed on trivial inputs.
    expect(seen.truncatedPairs).toBeGreaterThan(100);
    expect(seen.truncatedSingles).toBeGreaterThan(100);
    expect(seen.padded).toBeGreaterThan(100);
    expect(seen.hfErrors).toBeGreaterThan(5);
    expect(seen.oldRuleDiffers).toBeGreaterThan(10);
    expect(seen.leftPaddedPairs).toBeGreaterThan(50);
    expect(seen.multiplePaddedPairs).toBeGreaterThan(50);
  });

  it('maxLength equal to the special tokens: only those tokens, whatever the strategy, like HF', async () => {
    let compared = 0;
    for (const template of ['bert', 'llama'] as const) {
      for (const truncation of ['truncate-right', 'truncate-left', 'longest-first', 'only-first', 'only-second'] as const) {
        for (const [inputs, maxLength] of [
          [[[1, 2, 3, 4], [7]], TEMPLATES[template].added[0]],
          [[[[1, 2, 3, 4], [5, 6]], [[8], [9, 10, 11]]], TEMPLATES[template].added[1]],
        ] as Array<[Case['inputs'], number]>) {
          const c: Case = { inputs, template, maxLength, truncation, direction: 'right', padding: 'longest-in-batch', fixedExtra: 0, side: 'right', multiple: undefined, padId: 0, padTypeId: 0, overflow: false, stride: 0 };
          const expected = await hfMainRows(c);
          if (expected instanceof Error) throw expected;
          const ours = rowsOf(managerFor(c), c.inputs);
          expect(ours.rows.length).toBe(expected.length);
          for (let i = 0; i < expected.length; i++) {
            expect(expected[i].ids.length).toBe(maxLength);
            expectSameRow(ours.rows[i], expected[i]);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(40);
  });

  it('LongestFirst kept lengths on a grid: every length pair 1..18, max lengths 1..16 over the template, both directions', async () => {
    let compared = 0;
    let oldRuleDiffers = 0;
    for (const template of ['none', 'bert', 'llama'] as const) {
      const added = TEMPLATES[template]?.added[1] ?? 0;
      for (const direction of ['left', 'right'] as const) {
        for (let maxLength = added + 1; maxLength <= added + 16; maxLength += direction === 'left' ? 2 : 1) {
          const c = { template, maxLength, truncation: 'longest-first', direction } as Case;
          const { tokenizer } = hfTokenizerFor(c);
          tokenizer.setTruncation(maxLength, { strategy: 'LongestFirst' as never, direction, stride: 0 });
          const manager = managerFor({ ...c, inputs: [], padding: 'none', fixedExtra: 0, side: 'right', multiple: undefined, padId: 0, padTypeId: 0, overflow: false, stride: 0 });
          for (let lengthA = 1; lengthA <= 18; lengthA++) {
            for (let lengthB = 1; lengthB <= 18; lengthB++) {
              if (lengthA + lengthB + added <= maxLength) continue;
              const a = Array.from({ length: lengthA }, (_, i) => i % 30);
              const b = Array.from({ length: lengthB }, (_, i) => 30 + (i % 30));
              const theirs = toRow(await tokenizer.encode(idsToText(a), idsToText(b)));
              const ours = rowsOf(manager, [[a, b]]).rows[0];
              expectSameRow(ours, theirs);
              const budget = maxLength - added;
              const old = longestFirstLengths(lengthA, lengthB, budget, { rule: 'truncate-encodings' });
              if (old.join() !== longestFirstLengths(lengthA, lengthB, budget, { maxLength }).join()) oldRuleDiffers++;
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBe(20364);
    expect(oldRuleDiffers).toBeGreaterThan(500);
  });

  it('overflow windows with stride: HF Encoding.truncate + postProcess + pad', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(caseArbitrary(true), async (c) => {
        const added = TEMPLATES[c.template]?.added ?? [0, 0];
        fc.pre(c.maxLength > added[1] && c.padding !== 'none');
        // HF 0.23.x's encode stops tokenizing a part at max_length (truncation early exit,
        // huggingface/tokenizers#2091), so its overflow holds only what it tokenized. The real overflowing ids
        // come from HF's pieces: encode for the kept lengths, Encoding.truncate on the whole parts for the
        // windows, Tokenizer.postProcess for special tokens, Encoding.pad for padding.
        const main = await hfMainRows({ ...c, padding: 'none' });
        let ours: ReturnType<typeof rowsOf>;
        try {
          ours = rowsOf(managerFor(c), c.inputs);
        } catch (error) {
          if (main instanceof Error) return;
          const code = (error as { code?: string }).code;
          // Documented refusals: both sides of a pair cut (HF repeats windows), stride not below the cut length.
          expect(['ERR_BITNET_UNSUPPORTED', 'ERR_BITNET_OUT_OF_RANGE']).toContain(code);
          return;
        }
        if (main instanceof Error) throw new Error(`HF failed (${main.message}) but we did not`);
        const { tokenizer, direction } = hfTokenizerFor(c);
        const hfRows: Array<{ sample: number; row: HfRow; pairOverflow: boolean }> = [];
        const finals = [];
        for (let i = 0; i < c.inputs.length; i++) {
          const input = c.inputs[i];
          const isPair = Array.isArray(input[0]);
          const a = isPair ? (input[0] as number[]) : (input as number[]);
          const b = isPair ? (input[1] as number[]) : null;
          const encodingA = await tokenizer.encode(idsToText(a), null, { addSpecialTokens: false });
          const encodingB = b ? await tokenizer.encode(idsToText(b), null, { addSpecialTokens: false }) : null;
          const [keptA, keptB] = await hfKeptLengths(c, a, b);
          if (keptA < a.length) encodingA.truncate(keptA, c.stride, direction);
          if (encodingB && keptB < b!.length) encodingB.truncate(keptB, c.stride, direction);
          finals.push({ sample: i, encoding: tokenizer.postProcess(encodingA, encodingB, true), isPair });
        }
        const target =
          c.padding === 'longest-in-batch' ? roundUp(Math.max(...finals.map((f) => f.encoding.getLength())), c.multiple) : roundUp(c.padding === 'fixed' ? c.maxLength + c.fixedExtra : c.maxLength, c.multiple);
        for (const { sample, encoding, isPair } of finals) {
          encoding.pad(target, hfPadding(c));
          hfRows.push({ sample, row: toRow(encoding), pairOverflow: isPair });
          for (const window of encoding.getOverflowing()) hfRows.push({ sample, row: toRow(window), pairOverflow: isPair });
        }
        expect(ours.rows.map((row) => row.sample)).toEqual(hfRows.map((row) => row.sample));
        for (let r = 0; r < hfRows.length; r++) {
          // Pairs: the raw B encoded alone by JS carries type id 0 (HF's pair path encodes it with 1), so only ids and masks compare.
          expectSameRow(ours.rows[r], hfRows[r].row, !hfRows[r].pairOverflow);
        }
        if (hfRows.length > c.inputs.length) compared++;
      }),
      { numRuns: 400, seed: 11 },
    );
    expect(compared).toBeGreaterThan(50);
  });
});
