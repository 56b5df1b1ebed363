import { BitNetError, type BitNetRangeError, ErrorCode, formatValue, invalidArgument, outOfRange } from '@bitnet/errors';
import { SequenceBatch } from './batch.js';
import { createProcessingSummary, ProcessingSummary } from './statistics.js';
import { compileTemplate, type CompiledTemplate, DEFAULT_TEMPLATE, type SpecialTokensTemplate } from './template.js';
import { keptWindow, LONGEST_FIRST_RULES, type LongestFirstRule, pairLengths, truncationWindows } from './truncation.js';
import { isSequencePair, PaddingStrategy, type SequenceInput, type Side, type TokenSequence, TruncationStrategy } from './types.js';
import { allocate, checkPositiveInteger, checkTokenId, optionsObject, validateSequence } from './validation.js';

export interface SequenceManagerOptions {
  maxLength?: number;
  paddingStrategy?: PaddingStrategy;
  /** Target length of `PaddingStrategy.Fixed`. */
  fixedLength?: number;
  truncationStrategy?: TruncationStrategy;
  /** Direction for `LongestFirst`, `OnlyFirst`, `OnlySecond` (HF default: right). */
  truncationDirection?: Side;
  /** How `LongestFirst` splits a pair's budget (default `'tokenizers-0.23'`, see `LongestFirstRule`). */
  longestFirstRule?: LongestFirstRule;
  padTokenId?: number;
  padTypeId?: number;
  paddingSide?: Side;
  padToMultipleOf?: number;
  /** Emit the overflowing windows of truncated inputs as extra rows (HF `return_overflowing_tokens`). */
  returnOverflowing?: boolean;
  /** Tokens shared by consecutive overflow windows (HF `stride`). */
  stride?: number;
  specialTokens?: SpecialTokensTemplate;
  /** Ids must be below this; unset means any int32 id is accepted. */
  vocabSize?: number;
}

/** Exact bytes of the dense outputs `processBatch` would allocate for some inputs. */
export interface MemoryEstimate {
  rows: number;
  sequenceLength: number;
  layout: 'dense' | 'ragged';
  cells: number;
  inputIdsBytes: number;
  attentionMaskBytes: number;
  tokenTypeIdsBytes: number;
  specialTokensMaskBytes: number;
  /** Row offsets, lengths, original lengths, sample and window maps (5 Int32Arrays of rows (+1)). */
  indexBytes: number;
  totalBytes: number;
}

/** Growable columns of the row plan: one entry per output row. */
class RowPlan {
  count = 0;
  sample = new Int32Array(16);
  window = new Int32Array(16);
  aStart = new Int32Array(16);
  aEnd = new Int32Array(16);
  bStart = new Int32Array(16);
  bEnd = new Int32Array(16);
  original = new Int32Array(16);
  length = new Int32Array(16);

  constructor(capacity: number) {
    this.resize(Math.max(16, capacity));
  }

  private resize(capacity: number): void {
    for (const key of ['sample', 'window', 'aStart', 'aEnd', 'bStart', 'bEnd', 'original', 'length'] as const) {
      const grown = new Int32Array(capacity);
      grown.set(this[key].subarray(0, this.count));
      this[key] = grown;
    }
  }

  push(sample: number, window: number, aStart: number, aEnd: number, bStart: number, bEnd: number, original: number, length: number): void {
    if (this.count === this.sample.length) this.resize(this.count * 2);
    const i = this.count++;
    this.sample[i] = sample;
    this.window[i] = window;
    this.aStart[i] = aStart;
    this.aEnd[i] = aEnd;
    this.bStart[i] = bStart;
    this.bEnd[i] = bEnd;
    this.original[i] = original;
    this.length[i] = length;
  }
}

interface Plan {
  rows: RowPlan;
  firsts: TokenSequence[];
  seconds: Array<TokenSequence | null>;
  hasPair: boolean;
  width: number;
  layout: 'dense' | 'ragged';
  useTypes: boolean;
  useSpecialMask: boolean;
}

const PADDING_VALUES = new Set<string>(Object.values(PaddingStrategy));

/**
 * `processBatch` that accepts empty sequences (for processTexts: a text may encode to no tokens, and HF
 * still returns its special tokens). Package-internal; set by SequenceManager's static block.
 */
export let processAllowingEmpty: (manager: SequenceManager, sequences: readonly SequenceInput[]) => SequenceBatch;
const TRUNCATION_VALUES = new Set<string>(Object.values(TruncationStrategy));

/**
 * Turns token sequences into model-ready batches: truncation (HF `truncate_encodings` semantics with
 * tokenizers 0.23.2's kept lengths, overflow windows with stride included), special tokens (HF `TemplateProcessing`), padding (HF `pad_encodings`),
 * dense `Int32Array`/`Uint8Array` outputs, and optional running statistics.
 *
 * Builder methods check their argument, change this manager and return it; a rejected argument changes nothing.
 */
export class SequenceManager {
  #maxLength: number | undefined;
  #paddingStrategy: PaddingStrategy = PaddingStrategy.LongestInBatch;
  #fixedLength: number | undefined;
  #truncationStrategy: TruncationStrategy = TruncationStrategy.TruncateRight;
  #truncationDirection: Side = 'right';
  #longestFirstRule: LongestFirstRule = 'tokenizers-0.23';
  #padTokenId = 0;
  #padTokenIdSet = false;
  #padTypeId = 0;
  #paddingSide: Side = 'right';
  #padToMultipleOf: number | undefined;
  #returnOverflowing = false;
  #stride = 0;
  #template: SpecialTokensTemplate = DEFAULT_TEMPLATE;
  #templateSet = false;
  #single: CompiledTemplate = compileTemplate('SequenceManager', DEFAULT_TEMPLATE.single, false);
  #pair: CompiledTemplate | null = compileTemplate('SequenceManager', DEFAULT_TEMPLATE.pair!, true);
  #vocabSize: number | undefined;
  #statistics: ProcessingSummary | null = null;

  constructor(options: SequenceManagerOptions = {}) {
    options = optionsObject('SequenceManager', options);
    if (options.vocabSize !== undefined) this.withVocabSize(options.vocabSize);
    if (options.maxLength !== undefined) this.withMaxLength(options.maxLength);
    if (options.paddingStrategy !== undefined) this.withPaddingStrategy(options.paddingStrategy, options.fixedLength);
    if (options.truncationStrategy !== undefined) this.withTruncationStrategy(options.truncationStrategy);
    if (options.truncationDirection !== undefined) this.withTruncationDirection(options.truncationDirection);
    if (options.longestFirstRule !== undefined) this.withLongestFirstRule(options.longestFirstRule);
    if (options.padTokenId !== undefined) this.withPadTokenId(options.padTokenId);
    if (options.padTypeId !== undefined) this.withPadTypeId(options.padTypeId);
    if (options.paddingSide !== undefined) this.withPaddingSide(options.paddingSide);
    if (options.padToMultipleOf !== undefined) this.withPadToMultipleOf(options.padToMultipleOf);
    if (options.returnOverflowing !== undefined || options.stride !== undefined) {
      this.withOverflow(options.returnOverflowing ?? false, options.stride ?? 0);
    }
    if (options.specialTokens !== undefined) this.withSpecialTokens(options.specialTokens);
  }

  /** Longest row allowed, special tokens included. */
  withMaxLength(maxLength: number): this {
    this.#maxLength = checkPositiveInteger('SequenceManager.withMaxLength', 'maxLength', maxLength);
    return this;
  }

  /** `Fixed` takes the target length as second argument. */
  withPaddingStrategy(strategy: PaddingStrategy, fixedLength?: number): this {
    const op = 'SequenceManager.withPaddingStrategy';
    if (!PADDING_VALUES.has(strategy)) {
      throw invalidArgument(op, `unknown padding strategy ${formatValue(strategy)}; expected one of ${[...PADDING_VALUES].join(', ')}`);
    }
    let fixed = this.#fixedLength;
    if (strategy === PaddingStrategy.Fixed) {
      if (fixedLength === undefined && fixed === undefined) throw invalidArgument(op, 'PaddingStrategy.Fixed needs a length: withPaddingStrategy(PaddingStrategy.Fixed, n)');
      if (fixedLength !== undefined) fixed = checkPositiveInteger(op, 'fixedLength', fixedLength);
    }
    this.#paddingStrategy = strategy;
    this.#fixedLength = fixed;
    return this;
  }

  withTruncationStrategy(strategy: TruncationStrategy): this {
    if (!TRUNCATION_VALUES.has(strategy)) {
      throw invalidArgument('SequenceManager.withTruncationStrategy', `unknown truncation strategy ${formatValue(strategy)}; expected one of ${[...TRUNCATION_VALUES].join(', ')}`);
    }
    this.#truncationStrategy = strategy;
    return this;
  }

  /** Which end `LongestFirst`, `OnlyFirst` and `OnlySecond` cut from. */
  withTruncationDirection(direction: Side): this {
    this.#truncationDirection = checkSide('SequenceManager.withTruncationDirection', direction);
    return this;
  }

  /**
   * How `LongestFirst` (and `TruncateRight`/`TruncateLeft`) split a pair's budget: `'tokenizers-0.23'`
   * (default, what HF tokenizers 0.23.2 returns) or `'truncate-encodings'` (HF's rule on the full lengths,
   * tokenizers 0.22 and earlier). They differ only when the first part is the longer, the second has at
   * least `maxLength` tokens and the budget is odd: 0.23.2 then gives the odd token to the second part.
   */
  withLongestFirstRule(rule: LongestFirstRule): this {
    if (!LONGEST_FIRST_RULES.includes(rule)) {
      throw invalidArgument('SequenceManager.withLongestFirstRule', `unknown rule ${formatValue(rule)}; expected one of ${LONGEST_FIRST_RULES.join(', ')}`);
    }
    this.#longestFirstRule = rule;
    return this;
  }

  withPadTokenId(padTokenId: number): this {
    this.#padTokenId = checkTokenId('SequenceManager.withPadTokenId', 'padTokenId', padTokenId, this.#vocabSize);
    this.#padTokenIdSet = true;
    return this;
  }

  /** Token type id written into padding cells (HF `pad_type_id`). */
  withPadTypeId(padTypeId: number): this {
    this.#padTypeId = checkPositiveInteger('SequenceManager.withPadTypeId', 'padTypeId', padTypeId, 0);
    return this;
  }

  withPaddingSide(side: Side): this {
    this.#paddingSide = checkSide('SequenceManager.withPaddingSide', side);
    return this;
  }

  /** Round the padded length up to a multiple of `multiple` (tensor-core friendly shapes). */
  withPadToMultipleOf(multiple: number): this {
    this.#padToMultipleOf = checkPositiveInteger('SequenceManager.withPadToMultipleOf', 'multiple', multiple);
    return this;
  }

  /** Keep the windows that truncation cuts off as extra rows, consecutive windows sharing `stride` tokens. */
  withOverflow(returnOverflowing = true, stride = 0): this {
    const op = 'SequenceManager.withOverflow';
    if (typeof returnOverflowing !== 'boolean') throw invalidArgument(op, `returnOverflowing must be a boolean, got ${formatValue(returnOverflowing)}`);
    const checkedStride = checkPositiveInteger(op, 'stride', stride, 0);
    this.#returnOverflowing = returnOverflowing;
    this.#stride = checkedStride;
    return this;
  }

  /** Special tokens added around each sequence or pair; truncation leaves room for them. */
  withSpecialTokens(template: SpecialTokensTemplate): this {
    const op = 'SequenceManager.withSpecialTokens';
    if (template === null || typeof template !== 'object') throw invalidArgument(op, `template must be an object, got ${formatValue(template)}`);
    const single = compileTemplate(op, template.single, false, this.#vocabSize);
    const pair = template.pair === undefined ? null : compileTemplate(op, template.pair, true, this.#vocabSize);
    this.#template = template;
    this.#templateSet = true;
    this.#single = single;
    this.#pair = pair;
    return this;
  }

  /** Reject ids `>= vocabSize`. */
  withVocabSize(vocabSize: number): this {
    const op = 'SequenceManager.withVocabSize';
    const checked = checkPositiveInteger(op, 'vocabSize', vocabSize);
    if (this.#padTokenIdSet && this.#padTokenId >= checked) throw outOfRange(op, `padTokenId ${this.#padTokenId} is outside the vocabulary of size ${checked}`);
    compileTemplate(op, this.#template.single, false, checked);
    if (this.#template.pair) compileTemplate(op, this.#template.pair, true, checked);
    this.#vocabSize = checked;
    return this;
  }

  /** Accumulate a `ProcessingSummary` over every `processBatch` call (read it with `statistics`). */
  withStatistics(enabled = true): this {
    this.#statistics = enabled ? (this.#statistics ?? new ProcessingSummary()) : null;
    return this;
  }

  /** Totals over every batch processed since `withStatistics()`, or null when statistics are off. */
  get statistics(): ProcessingSummary | null {
    return this.#statistics;
  }

  resetStatistics(): void {
    if (this.#statistics) this.#statistics = new ProcessingSummary();
  }

  /** A manager with the same settings (statistics are shared with this one). */
  clone(): SequenceManager {
    const copy = new SequenceManager();
    copy.#maxLength = this.#maxLength;
    copy.#paddingStrategy = this.#paddingStrategy;
    copy.#fixedLength = this.#fixedLength;
    copy.#truncationStrategy = this.#truncationStrategy;
    copy.#truncationDirection = this.#truncationDirection;
    copy.#longestFirstRule = this.#longestFirstRule;
    copy.#padTokenId = this.#padTokenId;
    copy.#padTokenIdSet = this.#padTokenIdSet;
    copy.#padTypeId = this.#padTypeId;
    copy.#paddingSide = this.#paddingSide;
    copy.#padToMultipleOf = this.#padToMultipleOf;
    copy.#returnOverflowing = this.#returnOverflowing;
    copy.#stride = this.#stride;
    copy.#template = this.#template;
    copy.#templateSet = this.#templateSet;
    copy.#single = this.#single;
    copy.#pair = this.#pair;
    copy.#vocabSize = this.#vocabSize;
    copy.#statistics = this.#statistics;
    return copy;
  }

  /** The settings in force, as plain data. */
  get options(): Required<Omit<SequenceManagerOptions, 'maxLength' | 'fixedLength' | 'padToMultipleOf' | 'vocabSize'>> &
    Pick<SequenceManagerOptions, 'maxLength' | 'fixedLength' | 'padToMultipleOf' | 'vocabSize'> {
    return {
      maxLength: this.#maxLength,
      paddingStrategy: this.#paddingStrategy,
      fixedLength: this.#fixedLength,
      truncationStrategy: this.#truncationStrategy,
      truncationDirection: this.#truncationDirection,
      longestFirstRule: this.#longestFirstRule,
      padTokenId: this.#padTokenId,
      padTypeId: this.#padTypeId,
      paddingSide: this.#paddingSide,
      padToMultipleOf: this.#padToMultipleOf,
      returnOverflowing: this.#returnOverflowing,
      stride: this.#stride,
      specialTokens: this.#template,
      vocabSize: this.#vocabSize,
    };
  }

  /** True once `withPadTokenId` (or the option) set the pad id explicitly. */
  get hasExplicitPadTokenId(): boolean {
    return this.#padTokenIdSet;
  }
  /** True once `withSpecialTokens` set a template. */
  get hasSpecialTokens(): boolean {
    return this.#templateSet;
  }

  /** Special tokens the template adds to a single sequence or to a pair. */
  addedTokens(isPair: boolean): number {
    return isPair ? (this.#pair?.added ?? 0) : this.#single.added;
  }

  /**
   * Truncates, adds special tokens, pads and lays out `sequences` (single sequences and `[first, second]`
   * pairs, mixed freely) as one batch. `padTokenId` overrides the manager's pad id for this call.
   */
  processBatch(sequences: readonly SequenceInput[], padTokenId?: number): SequenceBatch {
    return this.#process(sequences, padTokenId, false);
  }

  static {
    processAllowingEmpty = (manager, sequences) => manager.#process(sequences, undefined, true);
  }

  #process(sequences: readonly SequenceInput[], padTokenId: number | undefined, allowEmpty: boolean): SequenceBatch {
    const op = 'SequenceManager.processBatch';
    const pad = padTokenId === undefined ? this.#padTokenId : checkTokenId(op, 'padTokenId', padTokenId, this.#vocabSize);
    const plan = this.#plan(op, sequences, allowEmpty);
    const batch = this.#fill(plan, pad, sequences.length);
    if (this.#statistics) this.#statistics.merge(createProcessingSummary(batch));
    return batch;
  }

  /** Exact bytes `processBatch(sequences)` would allocate, computed without building the batch. */
  estimateMemoryUsage(sequences: readonly SequenceInput[]): MemoryEstimate {
    const plan = this.#plan('SequenceManager.estimateMemoryUsage', sequences);
    const rows = plan.rows.count;
    let cells: number;
    if (plan.layout === 'dense') cells = rows * plan.width;
    else {
      cells = 0;
      for (let i = 0; i < rows; i++) cells += plan.rows.length[i];
    }
    const inputIdsBytes = cells * 4;
    const attentionMaskBytes = cells;
    const tokenTypeIdsBytes = plan.useTypes ? cells * 4 : 0;
    const specialTokensMaskBytes = plan.useSpecialMask ? cells : 0;
    const indexBytes = (rows + 1) * 4 + rows * 4 * 4;
    return {
      rows,
      sequenceLength: plan.width,
      layout: plan.layout,
      cells,
      inputIdsBytes,
      attentionMaskBytes,
      tokenTypeIdsBytes,
      specialTokensMaskBytes,
      indexBytes,
      totalBytes: inputIdsBytes + attentionMaskBytes + tokenTypeIdsBytes + specialTokensMaskBytes + indexBytes,
    };
  }

  #plan(op: string, sequences: readonly SequenceInput[], allowEmpty = false): Plan {
    if (!Array.isArray(sequences)) throw invalidArgument(op, `sequences must be an array, got ${formatValue(sequences)}`);
    const count = sequences.length;
    if (count === 0) throw invalidArgument(op, 'sequences is empty; a batch needs at least one sequence');
    const maxLength = this.#maxLength;
    if (this.#paddingStrategy === PaddingStrategy.MaxLength && maxLength === undefined) {
      throw invalidArgument(op, 'PaddingStrategy.MaxLength needs withMaxLength(n)');
    }
    const strategy = this.#truncationStrategy;
    const truncating = maxLength !== undefined && strategy !== TruncationStrategy.DoNotTruncate;
    const direction: Side =
      strategy === TruncationStrategy.TruncateLeft ? 'left' : strategy === TruncationStrategy.TruncateRight ? 'right' : this.#truncationDirection;
    const overflow = this.#returnOverflowing;
    const stride = this.#stride;
    const vocabSize = this.#vocabSize;
    const rows = new RowPlan(count);
    const firsts: TokenSequence[] = new Array(count);
    const seconds: Array<TokenSequence | null> = new Array(count);
    let hasPair = false;

    for (let i = 0; i < count; i++) {
      const input = sequences[i];
      const isPair = isSequencePair(input);
      let a: TokenSequence;
      let b: TokenSequence | null = null;
      if (isPair) {
        if (this.#pair === null) throw invalidArgument(op, `sequence ${i} is a pair but the special-token template has no pair form`);
        a = validateSequence(op, `sequence ${i} (first of pair)`, input[0], vocabSize, allowEmpty);
        b = validateSequence(op, `sequence ${i} (second of pair)`, input[1], vocabSize, allowEmpty);
        hasPair = true;
      } else {
        a = validateSequence(op, `sequence ${i}`, input, vocabSize, allowEmpty);
      }
      firsts[i] = a;
      seconds[i] = b;
      const added = isPair ? this.#pair!.added : this.#single.added;
      const lengthA = a.length;
      const lengthB = b === null ? 0 : b.length;
      const original = lengthA + lengthB + added;

      if (maxLength === undefined || original <= maxLength) {
        rows.push(i, 0, 0, lengthA, 0, lengthB, original, original);
        continue;
      }
      if (!truncating) {
        throw outOfRange(op, `sequence ${i} has ${original} tokens${added ? ` (${added} special)` : ''}, more than maxLength ${maxLength}, and the truncation strategy is DoNotTruncate`, {
          details: { sequence: i, length: original, maxLength },
        });
      }
      const budget = maxLength - added;
      if (budget < 0) {
        throw outOfRange(op, `maxLength ${maxLength} is less than the ${added} special tokens the template adds to sequence ${i}`, {
          details: { sequence: i, maxLength, specialTokens: added },
        });
      }
      // Target lengths of each part (HF truncate_encodings, LongestFirst as tokenizers 0.23.2 applies it).
      let targetA = lengthA;
      let targetB = lengthB;
      const toRemove = lengthA + lengthB - budget;
      if (budget === 0) {
        // HF truncate_encodings with max_length 0, whatever the strategy: both parts cut to nothing.
        targetA = 0;
        targetB = 0;
      } else if (strategy === TruncationStrategy.OnlyFirst || (strategy === TruncationStrategy.OnlySecond && !isPair)) {
        if (strategy === TruncationStrategy.OnlySecond) {
          throw invalidArgument(op, `sequence ${i} is not a pair but the truncation strategy is OnlySecond (HF: second sequence not provided)`);
        }
        if (lengthA <= toRemove) {
          throw outOfRange(op, `sequence ${i}: OnlyFirst must remove ${toRemove} tokens but the first sequence has only ${lengthA} (maxLength ${maxLength}, second sequence ${lengthB}, special ${added})`, {
            details: { sequence: i, toRemove, firstLength: lengthA },
          });
        }
        targetA = lengthA - toRemove;
      } else if (strategy === TruncationStrategy.OnlySecond) {
        if (lengthB <= toRemove) {
          throw outOfRange(op, `sequence ${i}: OnlySecond must remove ${toRemove} tokens but the second sequence has only ${lengthB} (maxLength ${maxLength}, first sequence ${lengthA}, special ${added})`, {
            details: { sequence: i, toRemove, secondLength: lengthB },
          });
        }
        targetB = lengthB - toRemove;
      } else if (isPair) {
        [targetA, targetB] = pairLengths(lengthA, lengthB, budget, maxLength, this.#longestFirstRule);
      } else {
        targetA = budget;
      }
      const cutA = targetA < lengthA;
      const cutB = targetB < lengthB;
      // HF asserts stride < max_len for every part it cuts (a target of 0 moves the whole part to overflow).
      if (overflow) {
        if (cutA && targetA > 0 && stride >= targetA) throw this.#strideError(op, i, 'first', targetA);
        if (cutB && targetB > 0 && stride >= targetB) throw this.#strideError(op, i, isPair ? 'second' : 'first', targetB);
      }
      if (!overflow) {
        const [aStart, aEnd] = keptWindow(lengthA, targetA, direction);
        const [bStart, bEnd] = keptWindow(lengthB, targetB, direction);
        rows.push(i, 0, aStart, aEnd, bStart, bEnd, original, aEnd - aStart + bEnd - bStart + added);
        continue;
      }
      const windowsA = cutA ? truncationWindows(lengthA, targetA, stride, direction) : [[0, lengthA] as [number, number]];
      const windowsB = cutB ? truncationWindows(lengthB, targetB, stride, direction) : [[0, lengthB] as [number, number]];
      if (windowsA.length > 1 && windowsB.length > 1) {
        throw new BitNetError(
          ErrorCode.UNSUPPORTED,
          op,
          `sequence ${i}: overflow windows for a pair where both sequences are cut (LongestFirst, lengths ${lengthA} and ${lengthB}, maxLength ${maxLength}) are not supported; HF's result for this case repeats windows. Use OnlyFirst or OnlySecond`,
          { details: { sequence: i } },
        );
      }
      // HF merge order: the kept pair, then first's overflow with the kept second, then the second's overflow.
      const [a0, a1] = windowsA[0];
      const [b0, b1] = windowsB[0];
      rows.push(i, 0, a0, a1, b0, b1, original, a1 - a0 + b1 - b0 + added);
      let window = 1;
      for (let k = 1; k < windowsA.length; k++) {
        const [s, e] = windowsA[k];
        rows.push(i, window++, s, e, b0, b1, original, e - s + b1 - b0 + added);
      }
      for (let k = 1; k < windowsB.length; k++) {
        const [s, e] = windowsB[k];
        rows.push(i, window++, a0, a1, s, e, original, a1 - a0 + e - s + added);
      }
    }

    // Padded length (HF pad_encodings): the target, rounded up to the multiple.
    const rowCount = rows.count;
    let longest = 0;
    let shortest = 0x7fffffff;
    for (let r = 0; r < rowCount; r++) {
      const length = rows.length[r];
      if (length > longest) longest = length;
      if (length < shortest) shortest = length;
    }
    let width: number;
    let layout: 'dense' | 'ragged' = 'dense';
    switch (this.#paddingStrategy) {
      case PaddingStrategy.None:
        width = longest;
        if (shortest !== longest) layout = 'ragged';
        break;
      case PaddingStrategy.LongestInBatch:
        width = longest;
        break;
      case PaddingStrategy.MaxLength:
        width = maxLength!;
        break;
      case PaddingStrategy.Fixed:
        width = this.#fixedLength!;
        break;
    }
    const multiple = this.#padToMultipleOf;
    if (this.#paddingStrategy !== PaddingStrategy.None && multiple !== undefined && width % multiple !== 0) {
      width += multiple - (width % multiple);
    }
    if (layout === 'dense' && longest > width) {
      let row = 0;
      while (rows.length[row] <= width) row++;
      throw outOfRange(op, `sequence ${rows.sample[row]} has ${rows.length[row]} tokens after truncation, more than the padded length ${width} (${this.#paddingStrategy}); set a max length with truncation or pad to the longest`, {
        details: { sequence: rows.sample[row], length: rows.length[row], paddedLength: width },
      });
    }
    const useTypes = hasPair || templateHasTypes(this.#single) || (this.#padTypeId !== 0 && this.#paddingStrategy !== PaddingStrategy.None);
    const useSpecialMask = this.#single.added > 0 || (hasPair && this.#pair!.added > 0);
    return { rows, firsts, seconds, hasPair, width, layout, useTypes, useSpecialMask };
  }

  #strideError(op: string, index: number, which: string, target: number): BitNetRangeError {
    return outOfRange(op, `sequence ${index}: stride ${this.#stride} must be less than the length the ${which} sequence is cut to (${target}); HF requires stride < max_len after removing special tokens`, {
      details: { sequence: index, stride: this.#stride, targetLength: target },
    });
  }

  #fill(plan: Plan, padTokenId: number, inputCount: number): SequenceBatch {
    const { rows, firsts, seconds, width, layout } = plan;
    const rowCount = rows.count;
    const rowOffsets = new Int32Array(rowCount + 1);
    if (layout === 'dense') {
      for (let r = 0; r <= rowCount; r++) rowOffsets[r] = r * width;
    } else {
      for (let r = 0; r < rowCount; r++) rowOffsets[r + 1] = rowOffsets[r] + rows.length[r];
    }
    const cells = rowOffsets[rowCount];
    if (cells > 0x7fffffff) {
      throw outOfRange('SequenceManager.processBatch', `the batch would need ${cells} cells (${rowCount} rows × ${width}), more than an Int32Array index can address`);
    }
    const op = 'SequenceManager.processBatch';
    const what = `a batch of ${rowCount} rows × ${width}`;
    const inputIds = allocate(op, Int32Array, cells, what);
    const attentionMask = allocate(op, Uint8Array, cells, what);
    const tokenTypeIds = plan.useTypes ? allocate(op, Int32Array, cells, what) : null;
    const specialTokensMask = plan.useSpecialMask ? allocate(op, Uint8Array, cells, what) : null;
    const padLeft = this.#paddingSide === 'left';
    const padTypeId = this.#padTypeId;
    const single = this.#single;
    const pair = this.#pair;
    const plainSingle = single.added === 0 && !templateHasTypes(single);

    for (let r = 0; r < rowCount; r++) {
      const rowStart = rowOffsets[r];
      const rowEnd = rowOffsets[r + 1];
      const length = rows.length[r];
      const padding = rowEnd - rowStart - length;
      const start = padLeft ? rowStart + padding : rowStart;
      const sample = rows.sample[r];
      const a = firsts[sample];
      const b = seconds[sample];
      if (b === null && plainSingle) {
        copyRange(inputIds, start, a, rows.aStart[r], rows.aEnd[r]);
      } else {
        const pieces = (b === null ? single : pair!).pieces;
        let position = start;
        for (let p = 0; p < pieces.length; p++) {
          const piece = pieces[p];
          const from = position;
          if ('tokenId' in piece) {
            inputIds[position++] = piece.tokenId;
            if (specialTokensMask) specialTokensMask[from] = 1;
          } else if (piece.sequence === 'A') {
            position = copyRange(inputIds, position, a, rows.aStart[r], rows.aEnd[r]);
          } else {
            position = copyRange(inputIds, position, b!, rows.bStart[r], rows.bEnd[r]);
          }
          if (tokenTypeIds && piece.typeId !== 0) tokenTypeIds.fill(piece.typeId, from, position);
        }
      }
      attentionMask.fill(1, start, start + length);
      if (padding > 0) {
        const padStart = padLeft ? rowStart : rowStart + length;
        const padEnd = padStart + padding;
        if (padTokenId !== 0) inputIds.fill(padTokenId, padStart, padEnd);
        if (tokenTypeIds && padTypeId !== 0) tokenTypeIds.fill(padTypeId, padStart, padEnd);
        if (specialTokensMask) specialTokensMask.fill(1, padStart, padEnd);
      }
    }
    return new SequenceBatch({
      layout,
      sequenceLength: width,
      inputIds,
      attentionMask,
      tokenTypeIds,
      specialTokensMask,
      rowOffsets,
      rowLengths: rows.length.slice(0, rowCount),
      originalLengths: rows.original.slice(0, rowCount),
      sampleMapping: rows.sample.slice(0, rowCount),
      windowIndices: rows.window.slice(0, rowCount),
      inputCount,
      padTokenId,
      paddingSide: this.#paddingSide,
    });
  }
}

function templateHasTypes(template: CompiledTemplate): boolean {
  for (const piece of template.pieces) if (piece.typeId !== 0) return true;
  return false;
}

/** Copies `source[from, to)` to `target` at `position`; returns the position after it. */
function copyRange(target: Int32Array, position: number, source: TokenSequence, from: number, to: number): number {
  if (source instanceof Int32Array) {
    target.set(from === 0 && to === source.length ? source : source.subarray(from, to), position);
    return position + to - from;
  }
  for (let i = from; i < to; i++) target[position++] = source[i];
  return position;
}

function checkSide(op: string, side: unknown): Side {
  if (side !== 'left' && side !== 'right') throw invalidArgument(op, `side must be "left" or "right", got ${formatValue(side)}`);
  return side;
}
