import type { Side } from './types.js';

/**
 * Lengths the two sequences of a pair are cut to under HF's `LongestFirst` (tokenizers
 * `truncate_encodings`): only the longer one is cut while the shorter fits in half the budget, otherwise
 * both get half, the longer one taking the odd token. A single sequence (`second === 0` with `isPair`
 * false) is simply cut to the budget.
 */
export function longestFirstLengths(first: number, second: number, budget: number): [number, number] {
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
