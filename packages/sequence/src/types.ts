/** Token ids of one sequence: a plain array or any typed array of integers. */
export type TokenSequence = ArrayLike<number>;

/** Two sequences encoded together (question/context, premise/hypothesis), like HF's `encode(a, b)`. */
export type SequencePair = readonly [TokenSequence, TokenSequence];

/** One input of `processBatch`: a single sequence or a pair. */
export type SequenceInput = TokenSequence | SequencePair;

/**
 * How rows are padded. `LongestInBatch` pads to the longest row (HF `BatchLongest`), `MaxLength` to the
 * manager's max length, `Fixed` to the length given with `withPaddingStrategy(PaddingStrategy.Fixed, n)`
 * (HF `Fixed(n)`), `None` leaves rows ragged (the batch layout is then `ragged`).
 */
export const PaddingStrategy = {
  LongestInBatch: 'longest-in-batch',
  MaxLength: 'max-length',
  Fixed: 'fixed',
  None: 'none',
} as const;
export type PaddingStrategy = (typeof PaddingStrategy)[keyof typeof PaddingStrategy];

/**
 * How sequences longer than the max length are cut.
 * `TruncateRight` / `TruncateLeft` are HF `LongestFirst` with direction right / left; `LongestFirst`,
 * `OnlyFirst`, `OnlySecond` use the direction set by `withTruncationDirection` (default right).
 * `DoNotTruncate` makes a too-long input an error.
 */
export const TruncationStrategy = {
  TruncateRight: 'truncate-right',
  TruncateLeft: 'truncate-left',
  LongestFirst: 'longest-first',
  OnlyFirst: 'only-first',
  OnlySecond: 'only-second',
  DoNotTruncate: 'do-not-truncate',
} as const;
export type TruncationStrategy = (typeof TruncationStrategy)[keyof typeof TruncationStrategy];

export type Side = 'left' | 'right';

export function isSequencePair(input: unknown): input is SequencePair {
  return (
    Array.isArray(input) &&
    input.length === 2 &&
    typeof input[0] === 'object' &&
    input[0] !== null &&
    typeof input[1] === 'object' &&
    input[1] !== null
  );
}
