import { formatValue, invalidArgument } from '@bitnet/errors';
import type { Side } from './types.js';
import { checkPositiveInteger, optionsObject } from './validation.js';

/**
 * How `LongestFirst` splits the budget between the two parts of a pair.
 * - `'tokenizers-0.23'` (default): what HF `tokenizers@0.23.2` `encode` returns. 0.23 stops tokenizing a part
 *   once it holds `maxLength` tokens (the truncation early exit, huggingface/tokenizers#1990 / #2091), so
 *   `truncate_encodings` compares the parts' lengths capped at `maxLength` (special tokens included, in
 *   both directions): two parts that both reach it tie, and a tie gives the odd token to the second part.
 *   The rules differ only when the first part is the longer, the second has at least `maxLength` tokens
 *   and the budget is odd.
 * - `'truncate-encodings'`: HF's `truncate_encodings` on the full lengths (tokenizers 0.22 and earlier):
 *   the longer part takes the odd token.
 */
export type LongestFirstRule = 'tokenizers-0.23' | 'truncate-encodings';

export const LONGEST_FIRST_RULES: readonly LongestFirstRule[] = ['tokenizers-0.23', 'truncate-encodings'];

/**
 * HF `truncate_encodings` (`LongestFirst`) on the lengths it is given: only the longer part is cut while
 * the shorter fits in half the budget, otherwise both get half, the part HF sees as longer taking the odd
 * token (ties: the second part).
 */
export function truncateEncodingsLengths(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second];
  let shorter = Math.min(first, second);
  let longer: number;
  if (shorter > budget) longer = shorter;
  else longer = Math.max(shorter, budget - shorter);
  if (shorter + longer > budget) {
    shorter = Math.floor(budget / 2);
    longer = shorter + (budget % 2);
  }
  // HF swaps back: the originally longer input gets the `longer` target (ties keep first = shorter).
  const swapped = first > second;
  const firstTarget = swapped ? longer : shorter;
  const secondTarget = swapped ? shorter : longer;
  return [Math.min(first, firstTarget), Math.min(second, secondTarget)];
}

export interface LongestFirstOptions {
  /**
   * The whole max length, special tokens included: where tokenizers 0.23 stops tokenizing each part.
   * Defaults to `budget`, which is right when the template adds no special tokens.
   */
  maxLength?: number;
  rule?: LongestFirstRule;
}

/**
 * Lengths the two parts of a pair are cut to under `LongestFirst` with `budget` tokens for both
 * (`maxLength` minus the pair template's special tokens). By default the lengths tokenizers 0.23.2 keeps:
 * each part's length capped at `maxLength` before `truncate_encodings` compares them (see
 * `LongestFirstRule`). Which tokens are kept (and what overflows) is decided by the direction, not here.
 */
export function longestFirstLengths(first: number, second: number, budget: number, options: LongestFirstOptions = {}): [number, number] {
  const op = 'longestFirstLengths';
  checkPositiveInteger(op, 'first', first, 0);
  checkPositiveInteger(op, 'second', second, 0);
  checkPositiveInteger(op, 'budget', budget, 0);
  options = optionsObject(op, options);
  const maxLength = options.maxLength === undefined ? budget : checkPositiveInteger(op, 'maxLength', options.maxLength, budget);
  const rule = options.rule ?? 'tokenizers-0.23';
  if (!LONGEST_FIRST_RULES.includes(rule)) throw invalidArgument(op, `unknown rule ${formatValue(rule)}; expected one of ${LONGEST_FIRST_RULES.join(', ')}`);
  return pairLengths(first, second, budget, maxLength, rule);
}

/** `longestFirstLengths` without argument checks (callers pass validated integers, `maxLength >= budget`). */
export function pairLengths(first: number, second: number, budget: number, maxLength: number, rule: LongestFirstRule): [number, number] {
  if (first + second <= budget) return [first, second];
  if (rule === 'truncate-encodings') return truncateEncodingsLengths(first, second, budget);
  return truncateEncodingsLengths(Math.min(first, maxLength), Math.min(second, maxLength), budget);
}

/**
 * Windows `[start, end)` that truncating a sequence of `length` to `maxLength` with `stride` produces,
 * in HF's order (tokenizers `Encoding::truncate`): the first window is the kept part, the rest are the
 * overflowing ones. Right: windows start at 0, step `maxLength - stride`, until one reaches the end.
 * Left: windows end at `length`, step back, until one starts at 0 (the last may be shorter).
 * Requires `0 <= stride < maxLength` when `length > maxLength` (checked by the caller).
 */
export function truncationWindows(length: number, maxLength: number, stride: number, direction: Side): Array<[number, number]> {
  if (maxLength >= length) return [[0, length]];
  if (maxLength === 0) return [[0, 0], [0, length]];
  const step = maxLength - stride;
  const windows: Array<[number, number]> = [];
  if (direction === 'right') {
    for (let start = 0; start < length; start += step) {
      const stop = Math.min(start + maxLength, length);
      windows.push([start, stop]);
      if (stop === length) break;
    }
  } else {
    for (let last = length - 1; last >= 0; last -= step) {
      const stop = last + 1;
      const start = Math.max(0, stop - maxLength);
      windows.push([start, stop]);
      if (start === 0) break;
    }
  }
  return windows;
}

/** The kept window only (no overflow), without building the whole list. */
export function keptWindow(length: number, maxLength: number, direction: Side): [number, number] {
  if (maxLength >= length) return [0, length];
  return direction === 'right' ? [0, maxLength] : [length - maxLength, length];
}
